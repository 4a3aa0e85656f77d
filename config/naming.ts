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
