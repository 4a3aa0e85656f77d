import { PlatformConfig } from './schema';

/** `<name>-<environment>`: the prefix every resource name starts with. */
export function resourcePrefix(config: PlatformConfig): string {
  return `${config.name}-${config.environment}`;
}

/** The EKS cluster name (also the Karpenter discovery tag value). */
export function clusterName(config: PlatformConfig): string {
  return resourcePrefix(config);
}

/** Tags applied to every AWS resource through the provider's default_tags. */
export function defaultTags(config: PlatformConfig): Record<string, string> {
  return {
    ...config.tags,
    Project: config.name,
    Environment: config.environment,
    ManagedBy: 'cdktf',
  };
}

/**
 * The tag Karpenter puts on every GPU node and the model-sync path targets:
 * SSM SendCommand `Targets` select instances by it (no 50-instance cap), and
 * the Lambda's IAM policy only allows instances carrying it.
 */
export function gpuNodeTag(config: PlatformConfig): { key: string; value: string } {
  return { key: 'comfyui-model-sync', value: clusterName(config) };
}

/** Where the GPU node user data installs the model sync command (scripts/node/comfyui-model-sync). */
export const NODE_SYNC_COMMAND = '/usr/local/bin/comfyui-model-sync';

/** Node-side paths shared by the bootstrap script, the SSM document and the chart. */
export function nodeModelPaths(config: PlatformConfig): { modelsDir: string; readinessMarker: string; syncCommand: string } {
  return {
    // Models live at <modelsDir>/<folder>/<file>, mirroring the bucket's <folder>/<file> keys.
    modelsDir: config.models.nodePath,
    // Written after the first full sync; ComfyUI pods wait for it (initContainer).
    readinessMarker: `${config.models.nodePath}/.model-sync/ready.json`,
    // `comfyui-model-sync copy KEY | delete KEY | reconcile`, installed by the user data.
    syncCommand: NODE_SYNC_COMMAND,
  };
}

/**
 * Subnets and security groups Karpenter may use carry this tag (EC2NodeClass
 * `subnetSelectorTerms` / `securityGroupSelectorTerms`). The network stack tags
 * the private subnets, the cluster stack the node and cluster security groups.
 */
export function karpenterDiscoveryTag(config: PlatformConfig): { key: string; value: string } {
  return { key: 'karpenter.sh/discovery', value: clusterName(config) };
}

/**
 * Label of the system managed node group. Controllers (Karpenter, the load
 * balancer controller, CoreDNS, the S3 CSI controller) select it with a
 * nodeSelector; GPU workloads never do.
 */
export const SYSTEM_NODE_LABEL = { key: 'node-role', value: 'system' } as const;

/**
 * Taint of the system managed node group, so only pods that tolerate it land
 * there. `CriticalAddonsOnly` is the key the Karpenter chart and the EKS
 * CoreDNS add-on already tolerate by default; other controllers need
 * `tolerations: [{ key: CriticalAddonsOnly, operator: Exists, effect: NoSchedule }]`.
 */
export const SYSTEM_NODE_TAINT = { key: 'CriticalAddonsOnly', value: 'true', effect: 'NoSchedule' } as const;

/** The toleration pods need to run on system nodes (Kubernetes object form). */
export const SYSTEM_NODE_TOLERATION = { key: SYSTEM_NODE_TAINT.key, operator: 'Exists', effect: SYSTEM_NODE_TAINT.effect } as const;

/** Label on every Karpenter GPU node; ComfyUI pods select it. */
export const GPU_NODE_LABEL = { key: 'node-role.comfyui.io/gpu', value: 'true' } as const;
/** Taint on every Karpenter GPU node; only pods that tolerate it (ComfyUI, GPU daemons) run there. */
export const GPU_NODE_TAINT = { key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' } as const;

/**
 * CloudWatch log group receiving the output of model-sync commands run on GPU
 * nodes. The model-sync stack creates it; the GPU node role (capacity stack,
 * deployed earlier) needs logs:CreateLogStream/PutLogEvents on it, hence a
 * name both can derive from the config.
 */
export function modelSyncCommandLogGroup(config: PlatformConfig): string {
  return `/aws/ssm/${resourcePrefix(config)}-model-sync`;
}

/**
 * SSM document holding the GPU nodes' model-sync command and units
 * (constructs/models/node-files-document.ts). The capacity stack owns it, the
 * node user data names it and the node role may read only it.
 */
export function nodeFilesDocumentName(config: PlatformConfig): string {
  return `${resourcePrefix(config)}-gpu-node-files`;
}
