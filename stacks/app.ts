/**
 * Composes the platform's stacks in dependency order and wires their typed
 * outputs into each other's props. `cdktf deploy` follows the same order.
 */
import { App } from 'cdktf';
import { PlatformConfig } from '../config';
import { applyPlatformPolicy } from '../constructs/policy';
import { StorageStack } from './storage-stack';

/** Every stack of the platform, by role. */
export interface PlatformStacks {
  readonly storage: StorageStack;
}

/** Stack ids are `<name>-<environment>-<role>`, so two environments can share a state bucket. */
export function stackId(config: PlatformConfig, role: string): string {
  return `${config.name}-${config.environment}-${role}`;
}

export function buildPlatform(app: App, config: PlatformConfig): PlatformStacks {
  const storage = new StorageStack(app, stackId(config, 'storage'), { config });
  // Synth-time policy (docs/security.md) on every stack above; keep it last.
  applyPlatformPolicy(app);
  return { storage };
}
