/**
 * Fake outputs of the upstream stacks, shaped like the real contracts, so the
 * app stack can be synthesized on its own.
 */
import { App, Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { AppStack } from '../../stacks/app-stack';
import { ClusterOutputs, EdgeOutputs, NetworkOutputs, StorageOutputs } from '../../stacks/contracts';
import { testConfig } from '../helpers/config';

export const CLUSTER: ClusterOutputs = {
  clusterName: 'comfyui-dev',
  clusterArn: 'arn:aws:eks:us-west-2:123456789012:cluster/comfyui-dev',
  endpoint: 'https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com',
  certificateAuthorityData: 'LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t',
  clusterSecurityGroupId: 'sg-0aaaaaaaaaaaaaaa1',
  nodeSecurityGroupId: 'sg-0aaaaaaaaaaaaaaa2',
  systemNodeRoleArn: 'arn:aws:iam::123456789012:role/comfyui-dev-system-nodes',
};

export const STORAGE: StorageOutputs = {
  modelsBucket: { name: 'comfyui-dev-models-123456789012-us-west-2', arn: 'arn:aws:s3:::comfyui-dev-models-123456789012-us-west-2' },
  outputsBucket: { name: 'comfyui-dev-outputs-123456789012-us-west-2', arn: 'arn:aws:s3:::comfyui-dev-outputs-123456789012-us-west-2' },
  inputsBucket: { name: 'comfyui-dev-inputs-123456789012-us-west-2', arn: 'arn:aws:s3:::comfyui-dev-inputs-123456789012-us-west-2' },
  logsBucket: { name: 'comfyui-dev-logs-123456789012-us-west-2', arn: 'arn:aws:s3:::comfyui-dev-logs-123456789012-us-west-2' },
  dataKeyArn: 'arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555',
};

export const EDGE: EdgeOutputs = {
  targetGroupArn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/comfyui-dev-comfyui/0a1b2c3d4e5f6a7b',
  albSecurityGroupId: 'sg-0aaaaaaaaaaaaaaa3',
  publicHostname: 'd111111abcdef8.cloudfront.net',
};

export const NETWORK: NetworkOutputs = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.2.0.0/16',
  privateSubnetIds: ['subnet-01', 'subnet-02', 'subnet-03'],
  publicSubnetIds: ['subnet-11', 'subnet-12', 'subnet-13'],
  privateSubnetCidrs: ['10.2.0.0/19', '10.2.32.0/19', '10.2.64.0/19'],
};

/** Synthesizes the app stack with the fake upstream outputs. */
export function synthApp(input: ConfigInput = {}, app: App = Testing.app()) {
  const stack = new AppStack(app, 'comfyui-dev-app', { config: testConfig(input), cluster: CLUSTER, storage: STORAGE, edge: EDGE, network: NETWORK });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}
