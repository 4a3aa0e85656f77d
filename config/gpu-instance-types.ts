/**
 * NVIDIA GPU instance types with local NVMe instance store, the candidates of
 * the GPU NodePool, and the rule that keeps the pool diverse enough for
 * Karpenter's Spot-to-Spot consolidation.
 *
 * Source: Karpenter's instance-type reference
 * (aws/karpenter-provider-aws, website/content/en/preview/reference/instance-types.md,
 * commit 1d927085, August 2026), which is generated from EC2
 * DescribeInstanceTypes and lists the exact label values the NodePool
 * requirements match: karpenter.k8s.aws/instance-gpu-count, -gpu-name,
 * -cpu, -memory (MiB, shown here in GiB) and -local-nvme (GB, total).
 * The same figures are in the AWS "Amazon EC2 instance types, accelerated
 * computing" specifications. Every row is x86_64 (amd64).
 * Left out on purpose: g5g (Graviton, no instance store) and the fractional
 * GPU types g6f/gr6f (Karpenter reports 0 whole GPUs for them).
 *
 * Regional availability is not part of this table: a region offers a subset.
 */

/** One instance type: what a node of this type brings. */
export interface GpuInstanceType {
  /** EC2 instance type, e.g. g6e.xlarge. */
  readonly type: string;
  /** Instance family (karpenter.k8s.aws/instance-family). */
  readonly family: string;
  /** Whole NVIDIA GPUs (karpenter.k8s.aws/instance-gpu-count). */
  readonly gpus: number;
  /** GPU model. */
  readonly gpuModel: string;
  /** vCPUs. */
  readonly vcpus: number;
  /** Memory in GiB. */
  readonly memoryGiB: number;
  /** Total local NVMe instance store in GB (karpenter.k8s.aws/instance-local-nvme). */
  readonly nvmeGB: number;
}

export const GPU_INSTANCE_TYPES: readonly GpuInstanceType[] = [
  { type: 'g4dn.xlarge', family: 'g4dn', gpus: 1, gpuModel: 'T4', vcpus: 4, memoryGiB: 16, nvmeGB: 125 },
  { type: 'g4dn.2xlarge', family: 'g4dn', gpus: 1, gpuModel: 'T4', vcpus: 8, memoryGiB: 32, nvmeGB: 225 },
  { type: 'g4dn.4xlarge', family: 'g4dn', gpus: 1, gpuModel: 'T4', vcpus: 16, memoryGiB: 64, nvmeGB: 225 },
  { type: 'g4dn.8xlarge', family: 'g4dn', gpus: 1, gpuModel: 'T4', vcpus: 32, memoryGiB: 128, nvmeGB: 900 },
  { type: 'g4dn.12xlarge', family: 'g4dn', gpus: 4, gpuModel: 'T4', vcpus: 48, memoryGiB: 192, nvmeGB: 900 },
  { type: 'g4dn.16xlarge', family: 'g4dn', gpus: 1, gpuModel: 'T4', vcpus: 64, memoryGiB: 256, nvmeGB: 900 },
  { type: 'g4dn.metal', family: 'g4dn', gpus: 8, gpuModel: 'T4', vcpus: 96, memoryGiB: 384, nvmeGB: 1800 },
  { type: 'g5.xlarge', family: 'g5', gpus: 1, gpuModel: 'A10G', vcpus: 4, memoryGiB: 16, nvmeGB: 250 },
  { type: 'g5.2xlarge', family: 'g5', gpus: 1, gpuModel: 'A10G', vcpus: 8, memoryGiB: 32, nvmeGB: 450 },
  { type: 'g5.4xlarge', family: 'g5', gpus: 1, gpuModel: 'A10G', vcpus: 16, memoryGiB: 64, nvmeGB: 600 },
  { type: 'g5.8xlarge', family: 'g5', gpus: 1, gpuModel: 'A10G', vcpus: 32, memoryGiB: 128, nvmeGB: 900 },
  { type: 'g5.12xlarge', family: 'g5', gpus: 4, gpuModel: 'A10G', vcpus: 48, memoryGiB: 192, nvmeGB: 3800 },
  { type: 'g5.16xlarge', family: 'g5', gpus: 1, gpuModel: 'A10G', vcpus: 64, memoryGiB: 256, nvmeGB: 1900 },
  { type: 'g5.24xlarge', family: 'g5', gpus: 4, gpuModel: 'A10G', vcpus: 96, memoryGiB: 384, nvmeGB: 3800 },
  { type: 'g5.48xlarge', family: 'g5', gpus: 8, gpuModel: 'A10G', vcpus: 192, memoryGiB: 768, nvmeGB: 7600 },
  { type: 'g6.xlarge', family: 'g6', gpus: 1, gpuModel: 'L4', vcpus: 4, memoryGiB: 16, nvmeGB: 250 },
  { type: 'g6.2xlarge', family: 'g6', gpus: 1, gpuModel: 'L4', vcpus: 8, memoryGiB: 32, nvmeGB: 450 },
  { type: 'g6.4xlarge', family: 'g6', gpus: 1, gpuModel: 'L4', vcpus: 16, memoryGiB: 64, nvmeGB: 600 },
  { type: 'g6.8xlarge', family: 'g6', gpus: 1, gpuModel: 'L4', vcpus: 32, memoryGiB: 128, nvmeGB: 900 },
  { type: 'g6.12xlarge', family: 'g6', gpus: 4, gpuModel: 'L4', vcpus: 48, memoryGiB: 192, nvmeGB: 3760 },
  { type: 'g6.16xlarge', family: 'g6', gpus: 1, gpuModel: 'L4', vcpus: 64, memoryGiB: 256, nvmeGB: 1880 },
  { type: 'g6.24xlarge', family: 'g6', gpus: 4, gpuModel: 'L4', vcpus: 96, memoryGiB: 384, nvmeGB: 3760 },
  { type: 'g6.48xlarge', family: 'g6', gpus: 8, gpuModel: 'L4', vcpus: 192, memoryGiB: 768, nvmeGB: 7520 },
  { type: 'g6e.xlarge', family: 'g6e', gpus: 1, gpuModel: 'L40S', vcpus: 4, memoryGiB: 32, nvmeGB: 250 },
  { type: 'g6e.2xlarge', family: 'g6e', gpus: 1, gpuModel: 'L40S', vcpus: 8, memoryGiB: 64, nvmeGB: 450 },
  { type: 'g6e.4xlarge', family: 'g6e', gpus: 1, gpuModel: 'L40S', vcpus: 16, memoryGiB: 128, nvmeGB: 600 },
  { type: 'g6e.8xlarge', family: 'g6e', gpus: 1, gpuModel: 'L40S', vcpus: 32, memoryGiB: 256, nvmeGB: 900 },
  { type: 'g6e.12xlarge', family: 'g6e', gpus: 4, gpuModel: 'L40S', vcpus: 48, memoryGiB: 384, nvmeGB: 3800 },
  { type: 'g6e.16xlarge', family: 'g6e', gpus: 1, gpuModel: 'L40S', vcpus: 64, memoryGiB: 512, nvmeGB: 1900 },
  { type: 'g6e.24xlarge', family: 'g6e', gpus: 4, gpuModel: 'L40S', vcpus: 96, memoryGiB: 768, nvmeGB: 3800 },
  { type: 'g6e.48xlarge', family: 'g6e', gpus: 8, gpuModel: 'L40S', vcpus: 192, memoryGiB: 1536, nvmeGB: 7600 },
  { type: 'g7.2xlarge', family: 'g7', gpus: 1, gpuModel: 'RTX PRO 4500', vcpus: 8, memoryGiB: 32, nvmeGB: 440 },
  { type: 'g7.4xlarge', family: 'g7', gpus: 1, gpuModel: 'RTX PRO 4500', vcpus: 16, memoryGiB: 64, nvmeGB: 875 },
  { type: 'g7.8xlarge', family: 'g7', gpus: 1, gpuModel: 'RTX PRO 4500', vcpus: 32, memoryGiB: 128, nvmeGB: 930 },
  { type: 'g7.12xlarge', family: 'g7', gpus: 2, gpuModel: 'RTX PRO 4500', vcpus: 48, memoryGiB: 192, nvmeGB: 1900 },
  { type: 'g7.24xlarge', family: 'g7', gpus: 4, gpuModel: 'RTX PRO 4500', vcpus: 96, memoryGiB: 384, nvmeGB: 3800 },
  { type: 'g7.48xlarge', family: 'g7', gpus: 8, gpuModel: 'RTX PRO 4500', vcpus: 192, memoryGiB: 768, nvmeGB: 7600 },
  { type: 'g7e.2xlarge', family: 'g7e', gpus: 1, gpuModel: 'RTX PRO 6000 Server', vcpus: 8, memoryGiB: 64, nvmeGB: 1900 },
  { type: 'g7e.4xlarge', family: 'g7e', gpus: 1, gpuModel: 'RTX PRO 6000 Server', vcpus: 16, memoryGiB: 128, nvmeGB: 1900 },
  { type: 'g7e.8xlarge', family: 'g7e', gpus: 1, gpuModel: 'RTX PRO 6000 Server', vcpus: 32, memoryGiB: 256, nvmeGB: 1900 },
  { type: 'g7e.12xlarge', family: 'g7e', gpus: 2, gpuModel: 'RTX PRO 6000 Server', vcpus: 48, memoryGiB: 512, nvmeGB: 3800 },
  { type: 'g7e.24xlarge', family: 'g7e', gpus: 4, gpuModel: 'RTX PRO 6000 Server', vcpus: 96, memoryGiB: 1024, nvmeGB: 7600 },
  { type: 'g7e.48xlarge', family: 'g7e', gpus: 8, gpuModel: 'RTX PRO 6000 Server', vcpus: 192, memoryGiB: 2048, nvmeGB: 15200 },
  { type: 'gr6.4xlarge', family: 'gr6', gpus: 1, gpuModel: 'L4', vcpus: 16, memoryGiB: 128, nvmeGB: 600 },
  { type: 'gr6.8xlarge', family: 'gr6', gpus: 1, gpuModel: 'L4', vcpus: 32, memoryGiB: 256, nvmeGB: 900 },
  { type: 'p3dn.24xlarge', family: 'p3dn', gpus: 8, gpuModel: 'V100', vcpus: 96, memoryGiB: 768, nvmeGB: 1800 },
  { type: 'p4d.24xlarge', family: 'p4d', gpus: 8, gpuModel: 'A100', vcpus: 96, memoryGiB: 1152, nvmeGB: 8000 },
  { type: 'p4de.24xlarge', family: 'p4de', gpus: 8, gpuModel: 'A100', vcpus: 96, memoryGiB: 1152, nvmeGB: 8000 },
  { type: 'p5.4xlarge', family: 'p5', gpus: 1, gpuModel: 'H100', vcpus: 16, memoryGiB: 256, nvmeGB: 3800 },
  { type: 'p5.48xlarge', family: 'p5', gpus: 8, gpuModel: 'H100', vcpus: 192, memoryGiB: 2048, nvmeGB: 30400 },
  { type: 'p5e.48xlarge', family: 'p5e', gpus: 8, gpuModel: 'H200', vcpus: 192, memoryGiB: 2048, nvmeGB: 30400 },
  { type: 'p5en.48xlarge', family: 'p5en', gpus: 8, gpuModel: 'H200', vcpus: 192, memoryGiB: 2048, nvmeGB: 30400 },
  { type: 'p6-b200.48xlarge', family: 'p6-b200', gpus: 8, gpuModel: 'B200', vcpus: 192, memoryGiB: 2048, nvmeGB: 30400 },
  { type: 'p6-b300.48xlarge', family: 'p6-b300', gpus: 8, gpuModel: 'B300', vcpus: 192, memoryGiB: 4096, nvmeGB: 30400 },
];

/**
 * Karpenter only replaces a Spot node with a cheaper Spot node when the
 * NodePool leaves at least this many instance types (Spot-to-Spot
 * consolidation); with fewer it keeps the expensive node.
 */
export const MIN_SPOT_TO_SPOT_TYPES = 15;

/** The part of the GPU config that decides which types are eligible. */
export interface GpuSelection {
  /** Allowed instance families. */
  readonly instanceFamilies: readonly string[];
  /** Minimum GPUs per node. */
  readonly minGpus: number;
  /** Maximum GPUs per node. */
  readonly maxGpus: number;
  /** Minimum total local NVMe instance store in GB (models, images and kubelet share it). Default: any (> 0). */
  readonly minLocalNvmeGB?: number;
}

/** Instance types the GPU NodePool requirements admit for a selection, in table order. */
export function eligibleGpuInstanceTypes(selection: GpuSelection): GpuInstanceType[] {
  return GPU_INSTANCE_TYPES.filter(
    (t) => selection.instanceFamilies.includes(t.family) && t.gpus >= selection.minGpus && t.gpus <= selection.maxGpus && t.nvmeGB >= Math.max(1, selection.minLocalNvmeGB ?? 1),
  );
}

/** Families in the table, in table order. */
export function gpuInstanceFamilies(): string[] {
  return [...new Set(GPU_INSTANCE_TYPES.map((t) => t.family))];
}
