import { defaultConfig, instanceArchitecture, parseConfig } from '../../config';

function errorsOf(input: unknown): string {
  const result = parseConfig(input);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.errors.join('\n');
}

describe('cluster and network config', () => {
  it('defaults to Kubernetes 1.35 with add-on builds for 1.35', () => {
    const { cluster } = defaultConfig();
    expect(cluster.kubernetesVersion).toBe('1.35');
    expect(cluster.addons.kubeProxy).toMatch(/^v1\.35\./);
    expect(cluster.addons.mountpointS3Csi).toMatch(/^v2\./);
    expect(cluster.grantDeployerAdmin).toBe(true);
    expect(cluster.systemNodes.metadataHopLimit).toBe(1);
  });

  it.each([
    [{ cluster: { adminPrincipalArns: ['arn:aws:sts::111122223333:assumed-role/Admin/alice'] } }, 'cluster.adminPrincipalArns.0: must be the IAM role ARN'],
    [{ cluster: { adminPrincipalArns: ['arn:aws:iam::111122223333:role/a', 'arn:aws:iam::111122223333:role/a'] } }, 'cluster.adminPrincipalArns: must not list the same principal twice'],
    [{ cluster: { adminPrincipalArns: ['alice'] } }, 'cluster.adminPrincipalArns.0: must be an IAM role or user ARN'],
    [{ cluster: { kubernetesVersion: '1.34' } }, 'cluster.addons.kubeProxy: must be a build for Kubernetes 1.34'],
    [{ cluster: { systemNodes: { instanceTypes: ['m7i.large', 'm7g.large'] } } }, 'cluster.systemNodes.instanceTypes: must all be x86_64 or all arm64'],
    [{ cluster: { systemNodes: { metadataHopLimit: 3 } } }, 'cluster.systemNodes.metadataHopLimit:'],
    [{ cluster: { logKmsKeyArn: 'alias/logs' } }, 'cluster.logKmsKeyArn: must be a KMS key ARN'],
    [{ network: { flowLogKmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/logs' } }, 'network.flowLogKmsKeyArn: must be a KMS key ARN'],
    [{ cluster: { publicAccessCidrs: ['203.0.113.1/24'] } }, 'cluster.publicAccessCidrs.0: must be an IPv4 CIDR block with zero host bits'],
  ])('%j -> %s', (input, expected) => {
    expect(errorsOf(input)).toContain(expected);
  });

  it('accepts CIDRs whose first octet is 128 or more (unsigned comparison of the host bits)', () => {
    const result = parseConfig({ network: { cidr: '192.168.0.0/16' }, cluster: { publicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'] } });
    expect(result.ok).toBe(true);
  });

  it('accepts a matching Kubernetes and kube-proxy version pair and Graviton-only system nodes', () => {
    const result = parseConfig({ cluster: { kubernetesVersion: '1.34', addons: { kubeProxy: 'v1.34.6-eksbuild.2' }, systemNodes: { instanceTypes: ['m7g.large', 't4g.large'] } } });
    expect(result.ok).toBe(true);
  });

  it.each([
    ['m7i.large', 'x86_64'],
    ['m6a.xlarge', 'x86_64'],
    ['g5.2xlarge', 'x86_64'],
    ['m7g.large', 'arm64'],
    ['c7gn.large', 'arm64'],
    ['t4g.medium', 'arm64'],
    ['r8gd.large', 'arm64'],
  ])('%s is %s', (type, arch) => {
    expect(instanceArchitecture(type)).toBe(arch);
  });
});
