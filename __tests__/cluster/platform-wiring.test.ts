import { readFileSync } from 'fs';
import { join } from 'path';
import { Testing } from 'cdktf';
import { buildPlatform } from '../../stacks/app';
import { testConfig } from '../helpers/config';

// The whole platform with two administrators and a single NAT gateway (a typical dev setup).
describe('network and cluster stacks in the platform', () => {
  const app = Testing.app();
  const stacks = buildPlatform(
    app,
    testConfig({
      network: { natGateways: 'single' },
      cluster: { adminPrincipalArns: ['arn:aws:iam::111122223333:role/platform-admins', 'arn:aws:iam::111122223333:user/alice'], grantDeployerAdmin: false },
    }),
  );
  // A full app synth: cross-stack references are only resolved there.
  app.synth();
  const read = (id: string) => JSON.parse(readFileSync(join(app.outdir, 'stacks', id, 'cdk.tf.json'), 'utf8'));
  const network = read('comfyui-dev-network');
  const cluster = read('comfyui-dev-cluster');

  it('names the stacks <name>-<environment>-<role>', () => {
    expect([stacks.network, stacks.cluster].map((s) => s.node.id)).toEqual(['comfyui-dev-network', 'comfyui-dev-cluster']);
  });

  it('creates one NAT gateway and two administrator access entries', () => {
    expect(Object.keys(network.resource.aws_nat_gateway)).toHaveLength(1);
    expect(Object.keys(cluster.resource.aws_eks_access_entry)).toHaveLength(2);
    expect(Object.keys(cluster.resource.aws_eks_access_policy_association)).toHaveLength(2);
  });

  it('feeds the network and storage outputs into the cluster as cross-stack references, not lookups', () => {
    const [eks] = Object.values<any>(cluster.resource.aws_eks_cluster);
    expect(eks.vpc_config.subnet_ids).toHaveLength(3);
    for (const id of eks.vpc_config.subnet_ids) expect(id).toMatch(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-comfyui-dev-network\.outputs\./);
    expect(Object.keys(cluster.data.terraform_remote_state).sort()).toEqual([
      'cross-stack-reference-input-comfyui-dev-network',
      'cross-stack-reference-input-comfyui-dev-storage',
    ]);
    // No data source looks up VPCs, subnets or buckets by name or tag.
    expect(Object.keys(cluster.data).filter((type) => /aws_(vpc|subnets?|s3_bucket)$/.test(type))).toEqual([]);
  });

  it('makes the cluster stack depend on the network and storage stacks', () => {
    expect(stacks.cluster.dependencies.map((s) => s.node.id).sort()).toEqual(['comfyui-dev-network', 'comfyui-dev-storage']);
  });
});
