/**
 * Builds the GPU EC2NodeClass and NodePools from the config as typed
 * Karpenter v1 objects, and the values of the local chart that renders them
 * (charts/karpenter-gpu-pool). Pure functions: no constructs, no tokens
 * required, so tests can check them directly.
 *
 * Pools: `gpu-spot` (weight 100) is tried first; `gpu-on-demand` (weight 10)
 * only gets pods the Spot pool cannot place (no Spot capacity for any
 * eligible type, or the Spot pool's limits reached).
 */
import {
  defaultTags,
  GPU_NODE_LABEL,
  GPU_NODE_TAINT,
  gpuNodeTag,
  karpenterDiscoveryTag,
  PlatformConfig,
} from '../../config';
import { EC2NodeClass, NodePool, NodeSelectorRequirement } from './karpenter-v1-types';

/** Name of the GPU EC2NodeClass. */
export const GPU_NODE_CLASS_NAME = 'gpu';
/** Name of the Spot GPU NodePool. */
export const GPU_SPOT_POOL_NAME = 'gpu-spot';
/** Name of the On-Demand fallback GPU NodePool. */
export const GPU_ON_DEMAND_POOL_NAME = 'gpu-on-demand';
/** Label NVIDIA's device plugin (and DCGM exporter) schedule on. */
export const NVIDIA_GPU_PRESENT_LABEL = { key: 'nvidia.com/gpu.present', value: 'true' } as const;

/** Inputs from other stacks. */
export interface GpuNodeClassInputs {
  /** Terraform-owned instance profile of GPU nodes. */
  readonly instanceProfileName: string;
}

/** The EC2NodeClass every GPU NodePool uses (userData is added by the chart). */
export function buildGpuNodeClass(config: PlatformConfig, inputs: GpuNodeClassInputs): EC2NodeClass {
  const discovery = karpenterDiscoveryTag(config);
  const syncTag = gpuNodeTag(config);
  return {
    apiVersion: 'karpenter.k8s.aws/v1',
    kind: 'EC2NodeClass',
    metadata: { name: GPU_NODE_CLASS_NAME },
    spec: {
      // Pinned: a new AMI release reaches nodes only when this alias changes (drift).
      amiSelectorTerms: [{ alias: config.karpenter.amiAlias }],
      instanceProfile: inputs.instanceProfileName,
      subnetSelectorTerms: [{ tags: { [discovery.key]: discovery.value } }],
      securityGroupSelectorTerms: [{ tags: { [discovery.key]: discovery.value } }],
      // Hop limit 1: containers cannot reach IMDS; pods get AWS credentials from Pod Identity.
      metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          rootVolume: true,
          ebs: { volumeSize: `${config.karpenter.gpu.rootVolumeGiB}Gi`, volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
        },
      ],
      // kubelet and containerd state on a RAID0 of the instance-store NVMe (fast image pulls,
      // counted as ephemeral storage); the node bootstrap keeps models on the same array.
      instanceStorePolicy: 'RAID0',
      // Karpenter-launched instances do not get the provider's default tags, so they are repeated here.
      tags: { ...defaultTags(config), ManagedBy: 'karpenter', [syncTag.key]: syncTag.value },
    },
  };
}

/** Requirements shared by every GPU pool; only the capacity type differs. */
export function gpuRequirements(config: PlatformConfig, capacityTypes: Array<'spot' | 'on-demand'>): NodeSelectorRequirement[] {
  const gpu = config.karpenter.gpu;
  return [
    { key: 'karpenter.k8s.aws/instance-gpu-manufacturer', operator: 'In', values: ['nvidia'] },
    // Gt/Lt are strict: this admits minGpus..maxGpus.
    { key: 'karpenter.k8s.aws/instance-gpu-count', operator: 'Gt', values: [String(gpu.minGpus - 1)] },
    { key: 'karpenter.k8s.aws/instance-gpu-count', operator: 'Lt', values: [String(gpu.maxGpus + 1)] },
    // Instance store is the point: models are copied onto local NVMe, next to images and kubelet data.
    { key: 'karpenter.k8s.aws/instance-local-nvme', operator: 'Gt', values: [String(gpu.minLocalNvmeGB - 1)] },
    { key: 'karpenter.k8s.aws/instance-family', operator: 'In', values: [...gpu.instanceFamilies] },
    { key: 'karpenter.sh/capacity-type', operator: 'In', values: capacityTypes },
    { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
    { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
  ];
}

function gpuPool(config: PlatformConfig, name: string, capacityType: 'spot' | 'on-demand', weight: number, limits: { gpu: number; cpu: number }): NodePool {
  const gpu = config.karpenter.gpu;
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name },
    spec: {
      template: {
        metadata: { labels: { [GPU_NODE_LABEL.key]: GPU_NODE_LABEL.value, [NVIDIA_GPU_PRESENT_LABEL.key]: NVIDIA_GPU_PRESENT_LABEL.value } },
        spec: {
          nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: GPU_NODE_CLASS_NAME },
          requirements: gpuRequirements(config, [capacityType]),
          taints: [{ key: GPU_NODE_TAINT.key, value: GPU_NODE_TAINT.value, effect: GPU_NODE_TAINT.effect }],
          expireAfter: gpu.expireAfter,
          terminationGracePeriod: gpu.terminationGracePeriod,
        },
      },
      disruption: {
        consolidationPolicy: 'WhenEmptyOrUnderutilized',
        consolidateAfter: gpu.consolidateAfter,
        budgets: [{ nodes: gpu.disruptionBudgetNodes }],
      },
      limits: { cpu: limits.cpu, 'nvidia.com/gpu': limits.gpu },
      weight,
    },
  };
}

/** The GPU NodePools: Spot first, On-Demand as the fallback when enabled. */
export function buildGpuNodePools(config: PlatformConfig): NodePool[] {
  const gpu = config.karpenter.gpu;
  const pools = [gpuPool(config, GPU_SPOT_POOL_NAME, 'spot', 100, { gpu: gpu.gpuLimit, cpu: gpu.cpuLimit })];
  if (gpu.onDemandFallback.enabled) {
    pools.push(gpuPool(config, GPU_ON_DEMAND_POOL_NAME, 'on-demand', 10, { gpu: gpu.onDemandFallback.gpuLimit, cpu: gpu.onDemandFallback.cpuLimit }));
  }
  return pools;
}

/** Values of charts/karpenter-gpu-pool (see its values.schema.json). */
export interface GpuPoolChartValues {
  readonly nodeClass: { readonly name: string; readonly spec: EC2NodeClass['spec']; readonly userData: string };
  readonly nodePools: Array<{ readonly name: string; readonly spec: NodePool['spec'] }>;
}

/**
 * Chart values. The release passes them as one JSON document, so the user
 * data's quotes and newlines are escaped by JSON, never spliced as raw text.
 */
export function gpuPoolChartValues(nodeClass: EC2NodeClass, nodePools: NodePool[], userData: string): GpuPoolChartValues {
  return {
    nodeClass: { name: nodeClass.metadata.name, spec: nodeClass.spec, userData },
    nodePools: nodePools.map((p) => ({ name: p.metadata.name, spec: p.spec })),
  };
}
