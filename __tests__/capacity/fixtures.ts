/**
 * Fake upstream values for the capacity tests: the contract fields as plain
 * strings, as the cluster, storage and network stacks would provide them.
 */
import { Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { CapacityStack } from '../../stacks/capacity-stack';
import { ClusterAddonsStack } from '../../stacks/cluster-addons-stack';
import { CapacityOutputs, ClusterOutputs, NetworkOutputs, StorageOutputs } from '../../stacks/contracts';
import { testConfig } from '../helpers/config';

export const ACCOUNT = '123456789012';

export const fakeCluster: ClusterOutputs = {
  clusterName: 'comfyui-dev',
  clusterArn: `arn:aws:eks:us-west-2:${ACCOUNT}:cluster/comfyui-dev`,
  endpoint: 'https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com',
  certificateAuthorityData: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t',
  clusterSecurityGroupId: 'sg-0cluster',
  nodeSecurityGroupId: 'sg-0nodes',
  systemNodeRoleArn: `arn:aws:iam::${ACCOUNT}:role/comfyui-dev-system-node`,
};

export const fakeStorage: StorageOutputs = {
  modelsBucket: { name: 'comfyui-dev-models', arn: 'arn:aws:s3:::comfyui-dev-models' },
  outputsBucket: { name: 'comfyui-dev-outputs', arn: 'arn:aws:s3:::comfyui-dev-outputs' },
  inputsBucket: { name: 'comfyui-dev-inputs', arn: 'arn:aws:s3:::comfyui-dev-inputs' },
  logsBucket: { name: 'comfyui-dev-logs', arn: 'arn:aws:s3:::comfyui-dev-logs' },
  dataKeyArn: `arn:aws:kms:us-west-2:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`,
};

export const fakeCapacity: CapacityOutputs = {
  gpuNodeRoleName: 'comfyui-dev-gpu-node',
  gpuNodeRoleArn: `arn:aws:iam::${ACCOUNT}:role/comfyui-dev-gpu-node`,
  gpuNodeInstanceProfileName: 'comfyui-dev-gpu-node',
  interruptionQueueName: 'comfyui-dev-karpenter',
};

export const fakeNetwork: NetworkOutputs = {
  vpcId: 'vpc-0123456789abcdef0',
  vpcCidr: '10.2.0.0/16',
  privateSubnetIds: ['subnet-a', 'subnet-b', 'subnet-c'],
  publicSubnetIds: ['subnet-d', 'subnet-e', 'subnet-f'],
  privateSubnetCidrs: ['10.2.0.0/19', '10.2.32.0/19', '10.2.64.0/19'],
};

/** A MIME multi-part document with the characters that break naive embedding. */
export const fakeUserData = [
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="//"',
  '',
  '--//',
  'Content-Type: text/x-shellscript; charset="us-ascii"',
  '',
  '#!/usr/bin/env bash',
  'echo "models at ${MODELS_DIR:-/mnt/models}" \\',
  '  && true',
  '--//--',
  '',
].join('\n');

/** Synthesizes the capacity stack; returns the JSON text and the parsed document. */
export function synthCapacity(input: ConfigInput = {}) {
  const app = Testing.app();
  const stack = new CapacityStack(app, 'capacity', { config: testConfig(input), cluster: fakeCluster, storage: fakeStorage });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}

/** Synthesizes the cluster-addons stack; returns the JSON text and the parsed document. */
export function synthAddons(input: ConfigInput = {}, nodeUserData: string = fakeUserData) {
  const app = Testing.app();
  const stack = new ClusterAddonsStack(app, 'addons', {
    config: testConfig(input),
    cluster: fakeCluster,
    capacity: fakeCapacity,
    network: fakeNetwork,
    nodeUserData,
  });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}

/** helm_release blocks by release name. */
export function releasesByName(parsed: any): Record<string, any> {
  return Object.fromEntries(Object.values(parsed.resource.helm_release as Record<string, any>).map((r) => [r.name, r]));
}

/** The (single) values document of a release, parsed. */
export function releaseValues(release: any): any {
  expect(release.values).toHaveLength(1);
  return JSON.parse(release.values[0]);
}
