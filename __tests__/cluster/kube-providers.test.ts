import { TerraformStack, Testing } from 'cdktf';
import { KubeProviders } from '../../constructs/cluster/kube-providers';
import { ClusterOutputs } from '../../stacks/contracts';

const CLUSTER: ClusterOutputs = {
  clusterName: 'comfyui-dev',
  clusterArn: 'arn:aws:eks:eu-west-1:111122223333:cluster/comfyui-dev',
  endpoint: 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
  certificateAuthorityData: 'LS0tLS1CRUdJTg==',
  clusterSecurityGroupId: 'sg-cluster',
  nodeSecurityGroupId: 'sg-nodes',
  systemNodeRoleArn: 'arn:aws:iam::111122223333:role/comfyui-dev-system',
};

describe('KubeProviders', () => {
  const stack = new TerraformStack(Testing.app(), 'in-cluster');
  new KubeProviders(stack, 'Kube', { cluster: CLUSTER, region: 'eu-west-1' });
  const providers = JSON.parse(Testing.synth(stack)).provider;

  const expectedExec = {
    api_version: 'client.authentication.k8s.io/v1beta1',
    command: 'aws',
    args: ['eks', 'get-token', '--cluster-name', 'comfyui-dev', '--region', 'eu-west-1', '--output', 'json'],
  };

  it('configures the kubernetes provider with the endpoint, the decoded CA and a short-lived token from aws eks get-token', () => {
    expect(providers.kubernetes).toHaveLength(1);
    const kubernetes = providers.kubernetes[0];
    expect(kubernetes.host).toBe(CLUSTER.endpoint);
    expect(kubernetes.cluster_ca_certificate).toBe('${base64decode("LS0tLS1CRUdJTg==")}');
    expect(kubernetes.exec).toEqual([expectedExec]);
    // No static credentials that would land in state or plan files.
    expect(kubernetes.token).toBeUndefined();
    expect(kubernetes.config_path).toBeUndefined();
  });

  it('configures the helm provider the same way', () => {
    expect(providers.helm).toHaveLength(1);
    const kubernetes = providers.helm[0].kubernetes;
    expect(kubernetes.host).toBe(CLUSTER.endpoint);
    expect(kubernetes.cluster_ca_certificate).toBe('${base64decode("LS0tLS1CRUdJTg==")}');
    expect(kubernetes.exec).toEqual(expectedExec);
    expect(kubernetes.token).toBeUndefined();
  });
});
