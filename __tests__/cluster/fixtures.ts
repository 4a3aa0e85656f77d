import { NetworkOutputs, StorageOutputs } from '../../stacks/contracts';

/** Literal network outputs, so cluster tests need no network stack. */
export const FAKE_NETWORK: NetworkOutputs = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.2.0.0/16',
  privateSubnetIds: ['subnet-private-a', 'subnet-private-b', 'subnet-private-c'],
  publicSubnetIds: ['subnet-public-a', 'subnet-public-b', 'subnet-public-c'],
  privateSubnetCidrs: ['10.2.0.0/18', '10.2.64.0/18', '10.2.128.0/18'],
};

const bucket = (purpose: string) => ({ name: `comfyui-dev-${purpose}`, arn: `arn:aws:s3:::comfyui-dev-${purpose}` });

/** Literal storage outputs. */
export const FAKE_STORAGE: StorageOutputs = {
  modelsBucket: bucket('models'),
  outputsBucket: bucket('outputs'),
  inputsBucket: bucket('inputs'),
  logsBucket: bucket('logs'),
  dataKeyArn: 'arn:aws:kms:us-west-2:111122223333:key/data-key',
};
