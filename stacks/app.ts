/**
 * Composes the platform's stacks in dependency order and wires their typed
 * outputs into each other's props. `cdktf deploy` follows the same order.
 */
import { App } from 'cdktf';
import { PlatformConfig } from '../config';
import { ModelSyncStack } from './model-sync-stack';
import { StorageStack } from './storage-stack';

/** Every stack of the platform, by role. */
export interface PlatformStacks {
  readonly storage: StorageStack;
  readonly modelSync: ModelSyncStack;
}

/** Stack ids are `<name>-<environment>-<role>`, so two environments can share a state bucket. */
export function stackId(config: PlatformConfig, role: string): string {
  return `${config.name}-${config.environment}-${role}`;
}

export function buildPlatform(app: App, config: PlatformConfig): PlatformStacks {
  const storage = new StorageStack(app, stackId(config, 'storage'), { config });
  const modelSync = new ModelSyncStack(app, stackId(config, 'model-sync'), { config, storage: storage.outputs });
  return { storage, modelSync };
}
