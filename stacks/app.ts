/**
 * Composes the platform's stacks in dependency order and wires their typed
 * outputs into each other's props. `cdktf deploy` follows the same order.
 */
import { App } from 'cdktf';
import { clusterName, nodeModelPaths, PlatformConfig } from '../config';
import { renderNodeUserData } from '../constructs/models/node-user-data';
import { applyPlatformPolicy } from '../constructs/policy';
import { AppStack } from './app-stack';
import { CapacityStack } from './capacity-stack';
import { ClusterAddonsStack } from './cluster-addons-stack';
import { ClusterStack } from './cluster-stack';
import { EdgeStack } from './edge-stack';
import { JobsStack } from './jobs-stack';
import { ModelSyncStack } from './model-sync-stack';
import { NetworkStack } from './network-stack';
import { ObservabilityStack } from './observability-stack';
import { StorageStack } from './storage-stack';

/** Every stack of the platform, by role. */
export interface PlatformStacks {
  readonly network: NetworkStack;
  readonly storage: StorageStack;
  readonly cluster: ClusterStack;
  readonly capacity: CapacityStack;
  readonly modelSync: ModelSyncStack;
  readonly clusterAddons: ClusterAddonsStack;
  readonly edge: EdgeStack;
  readonly app: AppStack;
  /** Dashboard, alarms, GPU metrics (absent when observability.enabled is false). */
  readonly observability?: ObservabilityStack;
  /** Batch jobs (config jobs.enabled). */
  readonly jobs?: JobsStack;
}

/** Stack ids are `<name>-<environment>-<role>`, so two environments can share a state bucket. */
export function stackId(config: PlatformConfig, role: string): string {
  return `${config.name}-${config.environment}-${role}`;
}

export function buildPlatform(app: App, config: PlatformConfig): PlatformStacks {
  const network = new NetworkStack(app, stackId(config, 'network'), { config });
  const storage = new StorageStack(app, stackId(config, 'storage'), { config });
  const cluster = new ClusterStack(app, stackId(config, 'cluster'), { config, network: network.outputs, storage: storage.outputs });
  const edge = new EdgeStack(app, stackId(config, 'edge'), { config, network: network.outputs, cluster: cluster.outputs });
  const jobs = config.jobs.enabled ? new JobsStack(app, stackId(config, 'jobs'), { config, storage: storage.outputs }) : undefined;
  const capacity = new CapacityStack(app, stackId(config, 'capacity'), { config, cluster: cluster.outputs, storage: storage.outputs, network: network.outputs, edge: edge.outputs, jobs: jobs?.outputs });
  const modelSync = new ModelSyncStack(app, stackId(config, 'model-sync'), { config, storage: storage.outputs });
  // The models code renders the node bootstrap; the Karpenter code only embeds it (the two stay decoupled).
  const nodeUserData = renderNodeUserData({
    modelsBucketName: storage.outputs.modelsBucket.name,
    region: config.region,
    nodeFiles: capacity.outputs.nodeFiles,
    modelsDir: nodeModelPaths(config).modelsDir,
    folders: config.models.prefixes,
    extensions: config.models.allowedExtensions,
    clusterName: clusterName(config),
    reconcileIntervalMinutes: config.models.reconcileIntervalMinutes,
    parallelDownloads: config.models.parallelDownloads,
  });
  const clusterAddons = new ClusterAddonsStack(app, stackId(config, 'cluster-addons'), {
    config,
    cluster: cluster.outputs,
    capacity: capacity.outputs,
    network: network.outputs,
    nodeUserData,
  });
  const comfyui = new AppStack(app, stackId(config, 'app'), { config, cluster: cluster.outputs, storage: storage.outputs, edge: edge.outputs, network: network.outputs, jobs: jobs?.outputs });
  // The TargetGroupBinding CRD, the load balancer controller and the GPU NodePools must exist before the release.
  comfyui.addDependency(clusterAddons);
  const observability = config.observability.enabled
    ? new ObservabilityStack(app, stackId(config, 'observability'), {
        config,
        cluster: cluster.outputs,
        capacity: capacity.metricSources,
        modelSync: modelSync.metricSources,
        edge: edge.metricSources,
        jobs: jobs?.metricSources,
      })
    : undefined;
  // Synth-time policy (docs/security.md) on every stack above; keep it last.
  applyPlatformPolicy(app);
  return { network, storage, cluster, capacity, modelSync, clusterAddons, edge, app: comfyui, jobs, observability };
}
