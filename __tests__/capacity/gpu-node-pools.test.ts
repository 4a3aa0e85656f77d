import { buildGpuNodeClass, buildGpuNodePools, GPU_NODE_CLASS_NAME } from '../../constructs/capacity/gpu-node-pools';
import { testConfig } from '../helpers/config';

const requirement = (pool: any, key: string) => pool.spec.template.spec.requirements.filter((r: any) => r.key === key);

describe('GPU NodePools', () => {
  const config = testConfig();
  const [spot, onDemand, ...rest] = buildGpuNodePools(config);

  it('GIVEN the default config THEN builds a Spot pool and a lower-weight On-Demand fallback', () => {
    expect(rest).toHaveLength(0);
    expect(spot.metadata.name).toBe('gpu-spot');
    expect(onDemand.metadata.name).toBe('gpu-on-demand');
    expect(spot.spec.weight).toBe(100);
    expect(onDemand.spec.weight).toBeLessThan(spot.spec.weight!);
    expect(requirement(spot, 'karpenter.sh/capacity-type')).toEqual([{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }]);
    expect(requirement(onDemand, 'karpenter.sh/capacity-type')).toEqual([{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] }]);
  });

  it.each([
    ['karpenter.k8s.aws/instance-gpu-manufacturer', [{ operator: 'In', values: ['nvidia'] }]],
    [
      'karpenter.k8s.aws/instance-gpu-count',
      [
        { operator: 'Gt', values: ['0'] },
        { operator: 'Lt', values: ['5'] },
      ],
    ],
    ['karpenter.k8s.aws/instance-local-nvme', [{ operator: 'Gt', values: ['199'] }]],
    ['karpenter.k8s.aws/instance-family', [{ operator: 'In', values: ['g4dn', 'g5', 'g6', 'g6e'] }]],
    ['kubernetes.io/arch', [{ operator: 'In', values: ['amd64'] }]],
    ['kubernetes.io/os', [{ operator: 'In', values: ['linux'] }]],
  ])('selects by the well-known label %s', (key, expected) => {
    for (const pool of [spot, onDemand]) expect(requirement(pool, key)).toEqual(expected.map((e) => ({ key, ...e })));
  });

  it('never lists instance types by name', () => {
    expect(requirement(spot, 'node.kubernetes.io/instance-type')).toEqual([]);
  });

  it('follows the GPU range and families from config', () => {
    const custom = buildGpuNodePools(testConfig({ karpenter: { gpu: { instanceFamilies: ['g4dn', 'g5', 'g6', 'g6e', 'g7', 'g7e'], minGpus: 2, maxGpus: 8 } } }))[0];
    expect(requirement(custom, 'karpenter.k8s.aws/instance-gpu-count').map((r: any) => [r.operator, r.values])).toEqual([
      ['Gt', ['1']],
      ['Lt', ['9']],
    ]);
    expect(requirement(custom, 'karpenter.k8s.aws/instance-family')[0].values).toEqual(['g4dn', 'g5', 'g6', 'g6e', 'g7', 'g7e']);
  });

  it('taints GPU nodes, labels them and points at the GPU EC2NodeClass', () => {
    for (const pool of [spot, onDemand]) {
      expect(pool.spec.template.spec.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }]);
      expect(pool.spec.template.metadata?.labels).toEqual({ 'node-role.comfyui.io/gpu': 'true', 'nvidia.com/gpu.present': 'true' });
      expect(pool.spec.template.spec.nodeClassRef).toEqual({ group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: GPU_NODE_CLASS_NAME });
    }
  });

  it('consolidates empty or underutilised nodes after consolidateAfter, within a budget, and expires them', () => {
    expect(spot.spec.disruption).toEqual({ consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '10m', budgets: [{ nodes: '1' }] });
    expect(spot.spec.template.spec.expireAfter).toBe('720h');
    expect(spot.spec.template.spec.terminationGracePeriod).toBe('1h');
    const custom = buildGpuNodePools(testConfig({ karpenter: { gpu: { consolidateAfter: '30m', disruptionBudgetNodes: '20%', expireAfter: '168h' } } }))[0];
    expect(custom.spec.disruption).toMatchObject({ consolidateAfter: '30m', budgets: [{ nodes: '20%' }] });
    expect(custom.spec.template.spec.expireAfter).toBe('168h');
  });

  it('limits GPUs and vCPUs per pool from config', () => {
    expect(spot.spec.limits).toEqual({ cpu: 512, 'nvidia.com/gpu': 16 });
    expect(onDemand.spec.limits).toEqual({ cpu: 256, 'nvidia.com/gpu': 8 });
  });

  it('GIVEN the fallback disabled THEN builds the Spot pool only', () => {
    const pools = buildGpuNodePools(testConfig({ karpenter: { gpu: { onDemandFallback: { enabled: false } } } }));
    expect(pools.map((p) => p.metadata.name)).toEqual(['gpu-spot']);
  });
});

describe('GPU EC2NodeClass', () => {
  const nodeClass = buildGpuNodeClass(testConfig(), { instanceProfileName: 'comfyui-dev-gpu-node' });

  it('uses the pinned AL2023 alias from config', () => {
    expect(nodeClass.spec.amiSelectorTerms).toEqual([{ alias: 'al2023@v20261012' }]);
    const rolled = buildGpuNodeClass(testConfig({ karpenter: { amiAlias: 'al2023@v20261112' } }), { instanceProfileName: 'p' });
    expect(rolled.spec.amiSelectorTerms).toEqual([{ alias: 'al2023@v20261112' }]);
  });

  it('requires IMDSv2 with hop limit 1', () => {
    expect(nodeClass.spec.metadataOptions).toEqual({ httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' });
  });

  it('has an encrypted gp3 root volume sized from config', () => {
    expect(nodeClass.spec.blockDeviceMappings).toEqual([
      { deviceName: '/dev/xvda', rootVolume: true, ebs: { volumeSize: '150Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } },
    ]);
    const big = buildGpuNodeClass(testConfig({ karpenter: { gpu: { rootVolumeGiB: 400 } } }), { instanceProfileName: 'p' });
    expect(big.spec.blockDeviceMappings[0].ebs.volumeSize).toBe('400Gi');
  });

  it('runs with the Terraform-owned instance profile, not a role Karpenter would make a profile for', () => {
    expect(nodeClass.spec.instanceProfile).toBe('comfyui-dev-gpu-node');
    expect(nodeClass.spec.role).toBeUndefined();
  });

  it('selects subnets and security groups by the discovery tag', () => {
    expect(nodeClass.spec.subnetSelectorTerms).toEqual([{ tags: { 'karpenter.sh/discovery': 'comfyui-dev' } }]);
    expect(nodeClass.spec.securityGroupSelectorTerms).toEqual([{ tags: { 'karpenter.sh/discovery': 'comfyui-dev' } }]);
  });

  it('puts kubelet and containerd on a RAID0 of the instance-store NVMe', () => {
    expect(nodeClass.spec.instanceStorePolicy).toBe('RAID0');
  });

  it('tags instances for the model-sync Run Command targets and with the project tags', () => {
    expect(nodeClass.spec.tags).toEqual({ Project: 'comfyui', Environment: 'dev', ManagedBy: 'karpenter', 'comfyui-model-sync': 'comfyui-dev' });
  });
});
