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

/** Node-side paths shared by the bootstrap script, the SSM document and the chart. */
export function nodeModelPaths(config: PlatformConfig): { modelsDir: string; readinessMarker: string; syncCommand: string } {
  return {
    // Models live at <modelsDir>/<folder>/<file>, mirroring the bucket's <folder>/<file> keys.
    modelsDir: config.models.nodePath,
    // Written after the first full sync; ComfyUI pods wait for it (initContainer).
    readinessMarker: `${config.models.nodePath}/.model-sync/ready.json`,
    // `comfyui-model-sync copy KEY | delete KEY | reconcile`, installed by the user data.
    syncCommand: '/usr/local/bin/comfyui-model-sync',
  };
}

/**
 * Label and taint of the system managed node group: controllers (Karpenter,
 * the load balancer controller) select the label and tolerate the taint, so
 * GPU nodes never carry them and workloads never land on system nodes.
 */
export const SYSTEM_NODE_LABEL = { key: 'node-role.comfyui.io/system', value: 'true' } as const;
export const SYSTEM_NODE_TAINT = { key: 'node-role.comfyui.io/system', value: 'true', effect: 'NoSchedule' } as const;

/** Label on every Karpenter GPU node; ComfyUI pods select it. */
export const GPU_NODE_LABEL = { key: 'node-role.comfyui.io/gpu', value: 'true' } as const;
/** Taint on every Karpenter GPU node; only pods that tolerate it (ComfyUI, GPU daemons) run there. */
export const GPU_NODE_TAINT = { key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' } as const;

/**
 * Tag on the private subnets and the node security group that Karpenter's
 * EC2NodeClass selects (`karpenter.sh/discovery=<cluster name>`).
 */
export function karpenterDiscoveryTag(config: PlatformConfig): { key: string; value: string } {
  return { key: 'karpenter.sh/discovery', value: clusterName(config) };
}
