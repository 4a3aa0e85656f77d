/** Fake upstream outputs and a synth helper for the edge stack tests. */
import { Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { EdgeStack } from '../../stacks/edge-stack';
import { testConfig } from '../helpers/config';
import { FAKE_CLUSTER, FAKE_NETWORK } from '../helpers/fake-outputs';

export { FAKE_CLUSTER, FAKE_NETWORK };






/**
 * Synthesizes the edge stack. These suites look at the ALB, CloudFront and
 * authentication without the wake path, so autoscaling mode defaults to
 * manual here unless `wake` is set (the default config's mode keda adds a
 * wake origin, behaviour and function: __tests__/elastic/elastic-stacks.test.ts).
 */
export function synthEdge(input: ConfigInput = {}, opts: { wake?: boolean } = {}) {
  const app = Testing.app();
  const withoutWake: ConfigInput = { ...input, app: { ...input.app, autoscaling: { ...input.app?.autoscaling, mode: 'manual' } } };
  const stack = new EdgeStack(app, 'edge', { config: testConfig(opts.wake ? input : withoutWake), network: FAKE_NETWORK, cluster: FAKE_CLUSTER });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}
