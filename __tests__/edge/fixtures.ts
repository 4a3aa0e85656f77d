/** Fake upstream outputs and a synth helper for the edge stack tests. */
import { Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { EdgeStack } from '../../stacks/edge-stack';
import { testConfig } from '../helpers/config';
import { FAKE_CLUSTER, FAKE_NETWORK } from '../helpers/fake-outputs';

export { FAKE_CLUSTER, FAKE_NETWORK };






export function synthEdge(input: ConfigInput = {}) {
  const app = Testing.app();
  const stack = new EdgeStack(app, 'edge', { config: testConfig(input), network: FAKE_NETWORK, cluster: FAKE_CLUSTER });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}
