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
