/**
 * Literal outputs of every stack, shaped like the contracts in
 * stacks/contracts.ts and like what the default config really produces
 * (CIDRs, names), so a stack can be synthesized and tested on its own.
 * __tests__/stacks/wiring.test.ts checks the real values flow the same way.
 */
import { CapacityOutputs, ClusterOutputs, EdgeOutputs, JobsOutputs, NetworkOutputs, StorageOutputs } from '../../stacks/contracts';

export const FAKE_ACCOUNT = '123456789012';

export const FAKE_NETWORK: NetworkOutputs = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.2.0.0/16',
  privateSubnetIds: ['subnet-0a0000000000000a1', 'subnet-0a0000000000000a2', 'subnet-0a0000000000000a3'],
  publicSubnetIds: ['subnet-0b0000000000000b1', 'subnet-0b0000000000000b2', 'subnet-0b0000000000000b3'],
  // what the network stack carves from 10.2.0.0/16 over 3 AZs
  privateSubnetCidrs: ['10.2.0.0/18', '10.2.64.0/18', '10.2.128.0/18'],
  albSubnetIds: ['subnet-0c0000000000000c1', 'subnet-0c0000000000000c2', 'subnet-0c0000000000000c3'],
  albSubnetCidrs: ['10.2.224.0/24', '10.2.225.0/24', '10.2.226.0/24'],
};

const bucket = (purpose: string) => {
  const name = `comfyui-dev-${purpose}-${FAKE_ACCOUNT}-us-west-2`;
  return { name, arn: `arn:aws:s3:::${name}` };
};

export const FAKE_STORAGE: StorageOutputs = {
  modelsBucket: bucket('models'),
  outputsBucket: bucket('outputs'),
  inputsBucket: bucket('inputs'),
  logsBucket: bucket('logs'),
  dataKeyArn: `arn:aws:kms:us-west-2:${FAKE_ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
};

export const FAKE_CLUSTER: ClusterOutputs = {
  clusterName: 'comfyui-dev',
  clusterArn: `arn:aws:eks:us-west-2:${FAKE_ACCOUNT}:cluster/comfyui-dev`,
  endpoint: 'https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com',
  certificateAuthorityData: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t',
  clusterSecurityGroupId: 'sg-0c1c1c1c1c1c1c1c1',
  nodeSecurityGroupId: 'sg-0e0e0e0e0e0e0e0e0',
  systemNodeRoleArn: `arn:aws:iam::${FAKE_ACCOUNT}:role/comfyui-dev-system-node`,
};

export const FAKE_CAPACITY: CapacityOutputs = {
  gpuNodeRoleName: 'comfyui-dev-gpu-node',
  gpuNodeRoleArn: `arn:aws:iam::${FAKE_ACCOUNT}:role/comfyui-dev-gpu-node`,
  gpuNodeInstanceProfileName: 'comfyui-dev-gpu-node',
  nodeFiles: { documentName: 'comfyui-dev-gpu-node-files', documentVersion: '1', sha256: '0'.repeat(64) },
  interruptionQueueName: 'comfyui-dev-karpenter',
};

export const FAKE_EDGE: EdgeOutputs = {
  targetGroupArn: `arn:aws:elasticloadbalancing:us-west-2:${FAKE_ACCOUNT}:targetgroup/comfyui-dev-comfyui/0a1b2c3d4e5f6a7b`,
  albSecurityGroupId: 'sg-0aaaaaaaaaaaaaaa3',
  publicHostname: 'd111111abcdef8.cloudfront.net',
  targetGroupMetricDimensions: { loadBalancer: 'app/comfyui-dev-alb/50dc6c495c0c9188', targetGroup: 'targetgroup/comfyui-dev-comfyui/0a1b2c3d4e5f6a7b' },
  wakeQueue: { url: `https://sqs.us-west-2.amazonaws.com/${FAKE_ACCOUNT}/comfyui-dev-wake`, arn: `arn:aws:sqs:us-west-2:${FAKE_ACCOUNT}:comfyui-dev-wake` },
};

export const FAKE_JOBS: JobsOutputs = {
  queueUrl: `https://sqs.us-west-2.amazonaws.com/${FAKE_ACCOUNT}/comfyui-dev-jobs`,
  queueName: 'comfyui-dev-jobs',
  queueArn: `arn:aws:sqs:us-west-2:${FAKE_ACCOUNT}:comfyui-dev-jobs`,
  deadLetterQueueUrl: `https://sqs.us-west-2.amazonaws.com/${FAKE_ACCOUNT}/comfyui-dev-jobs-dlq`,
  tableName: 'comfyui-dev-jobs',
  eventBusName: 'comfyui-dev-jobs',
  workerImageRepositoryUrl: `${FAKE_ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/comfyui-dev/jobs-worker`,
  workerPolicyArn: `arn:aws:iam::${FAKE_ACCOUNT}:policy/comfyui-dev-jobs-worker`,
  clientPolicyArn: `arn:aws:iam::${FAKE_ACCOUNT}:policy/comfyui-dev-jobs-client`,
  scalerPolicyArn: `arn:aws:iam::${FAKE_ACCOUNT}:policy/comfyui-dev-jobs-scaler`,
};
