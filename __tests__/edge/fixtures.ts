/** Fake upstream outputs and a synth helper for the edge stack tests. */
import { Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { ClusterOutputs, NetworkOutputs } from '../../stacks/contracts';
import { EdgeStack } from '../../stacks/edge-stack';
import { testConfig } from '../helpers/config';

export const FAKE_NETWORK: NetworkOutputs = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.2.0.0/16',
  privateSubnetIds: ['subnet-0a0000000000000a1', 'subnet-0a0000000000000a2', 'subnet-0a0000000000000a3'],
  publicSubnetIds: ['subnet-0b0000000000000b1', 'subnet-0b0000000000000b2', 'subnet-0b0000000000000b3'],
  privateSubnetCidrs: ['10.2.0.0/19', '10.2.32.0/19', '10.2.64.0/19'],
};

export const FAKE_CLUSTER: ClusterOutputs = {
  clusterName: 'comfyui-dev',
  clusterArn: 'arn:aws:eks:us-west-2:123456789012:cluster/comfyui-dev',
  endpoint: 'https://ABCDEF.gr7.us-west-2.eks.amazonaws.com',
  certificateAuthorityData: 'LS0tLS1CRUdJTg==',
  clusterSecurityGroupId: 'sg-0c1c1c1c1c1c1c1c1',
  nodeSecurityGroupId: 'sg-0e0e0e0e0e0e0e0e0',
  systemNodeRoleArn: 'arn:aws:iam::123456789012:role/comfyui-dev-system-nodes',
};

/** sha256("alice:correct horse battery staple") */
export const ALICE = { username: 'alice', passwordSha256: 'c82f18b4b82b671bb384e5cb139a1608015b7d220b93e5bced9abdbfe8142d6a' };

export function synthEdge(input: ConfigInput = {}) {
  const app = Testing.app();
  const stack = new EdgeStack(app, 'edge', { config: testConfig(input), network: FAKE_NETWORK, cluster: FAKE_CLUSTER });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}
