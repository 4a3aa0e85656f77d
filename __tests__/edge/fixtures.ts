/** Fake upstream outputs and a synth helper for the edge stack tests. */
import { Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { EdgeStack } from '../../stacks/edge-stack';
import { testConfig } from '../helpers/config';
import { FAKE_CLUSTER, FAKE_NETWORK } from '../helpers/fake-outputs';

export { FAKE_CLUSTER, FAKE_NETWORK };





/** sha256("alice:correct horse battery staple") */
export const ALICE = { username: 'alice', passwordSha256: 'c82f18b4b82b671bb384e5cb139a1608015b7d220b93e5bced9abdbfe8142d6a' };

export function synthEdge(input: ConfigInput = {}) {
  const app = Testing.app();
  const stack = new EdgeStack(app, 'edge', { config: testConfig(input), network: FAKE_NETWORK, cluster: FAKE_CLUSTER });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}
