/**
 * The CloudWatch metric contract: every custom metric the platform publishes,
 * its namespace, unit and dimension sets, in one place. Publishers (the
 * queue-depth sidecar, the node model-sync script, the jobs worker, the
 * capacity publisher) and readers (the dashboard, the alarms, `comfy status
 * --cluster`) use these names and nothing else.
 *
 * Every series carries `ClusterName` (the EKS cluster name). Per-instance or
 * per-pod series add one dimension; publishers emit BOTH the aggregate
 * ({ClusterName}) and the detailed series, so alarms read the aggregate and
 * dashboards break it down (CloudWatch does not aggregate across dimension
 * sets by itself).
 */

/** Dimension every custom metric carries. */
export const CLUSTER_DIMENSION = 'ClusterName';

/** One custom metric of the contract. */
export interface ContractMetric {
  /** CloudWatch namespace. */
  readonly namespace: string;
  /** Metric name. */
  readonly name: string;
  /** CloudWatch unit the publisher uses. */
  readonly unit: 'Count' | 'Seconds' | 'None';
  /** Dimension sets published (each starts with ClusterName). */
  readonly dimensionSets: readonly (readonly string[])[];
  /** What one data point means. */
  readonly description: string;
}

const aggregate = [CLUSTER_DIMENSION] as const;

/** `ComfyUI/Serving`: the queue-depth publisher in every ComfyUI pod (elastic serving). */
export const SERVING = {
  namespace: 'ComfyUI/Serving',
  /** Extra dimension of the per-replica series. */
  podDimension: 'Pod',
  metrics: {
    queueRunning: 'QueueRunning',
    queuePending: 'QueuePending',
    promptDurationSeconds: 'PromptDurationSeconds',
    wakeRequests: 'WakeRequests',
  },
} as const;

/** `ComfyUI/ModelSync`: the node script `comfyui-model-sync` on every GPU node. */
export const MODEL_SYNC = {
  namespace: 'ComfyUI/ModelSync',
  /** Extra dimension of the per-node series. */
  instanceDimension: 'InstanceId',
  /** Extra dimension of SyncFailures by cause. */
  reasonDimension: 'Reason',
  /** Values of the Reason dimension. */
  reasons: ['s3-error', 'disk-full', 'invalid-key', 'archived', 'clash', 'other'],
  metrics: {
    nodeModelsReady: 'NodeModelsReady',
    unsyncableObjects: 'UnsyncableObjects',
    syncLagSeconds: 'SyncLagSeconds',
    syncFailures: 'SyncFailures',
  },
} as const;

/** `ComfyUI/Jobs`: the batch jobs worker. */
export const JOBS = {
  namespace: 'ComfyUI/Jobs',
  metrics: {
    jobsSucceeded: 'JobsSucceeded',
    jobsFailed: 'JobsFailed',
    jobsRetried: 'JobsRetried',
    jobDurationSeconds: 'JobDurationSeconds',
  },
} as const;

/**
 * `ComfyUI/Capacity`: the capacity publisher of the observability stack
 * (lambdas/capacity-metrics), counting this cluster's GPU instances from EC2
 * once a minute. Karpenter's own metrics are Prometheus-only; EC2 is the one
 * source that knows capacity type, instance type and price for every node.
 */
export const CAPACITY = {
  namespace: 'ComfyUI/Capacity',
  /** Extra dimensions of the breakdown series (published together). */
  capacityTypeDimension: 'CapacityType',
  instanceTypeDimension: 'InstanceType',
  /** Values of the CapacityType dimension (Karpenter's karpenter.sh/capacity-type values). */
  capacityTypes: ['spot', 'on-demand'],
  metrics: {
    gpuNodes: 'GpuNodes',
    estimatedGpuSpendPerHour: 'EstimatedGpuSpendUsdPerHour',
    unpricedGpuNodes: 'UnpricedGpuNodes',
  },
} as const;

/** Every custom metric of the contract, for checks and documentation. */
export const CONTRACT_METRICS: readonly ContractMetric[] = [
  { namespace: SERVING.namespace, name: SERVING.metrics.queueRunning, unit: 'Count', dimensionSets: [aggregate, [CLUSTER_DIMENSION, SERVING.podDimension]], description: 'prompts executing (per replica; aggregate = sum over replicas)' },
  { namespace: SERVING.namespace, name: SERVING.metrics.queuePending, unit: 'Count', dimensionSets: [aggregate, [CLUSTER_DIMENSION, SERVING.podDimension]], description: 'prompts waiting (per replica; aggregate = sum over replicas)' },
  { namespace: SERVING.namespace, name: SERVING.metrics.promptDurationSeconds, unit: 'Seconds', dimensionSets: [aggregate], description: 'one completed prompt, queue to finish' },
  { namespace: SERVING.namespace, name: SERVING.metrics.wakeRequests, unit: 'Count', dimensionSets: [aggregate], description: 'wake signals sent from the edge wake path' },
  { namespace: MODEL_SYNC.namespace, name: MODEL_SYNC.metrics.nodeModelsReady, unit: 'None', dimensionSets: [aggregate, [CLUSTER_DIMENSION, MODEL_SYNC.instanceDimension]], description: '1 when a node holds every syncable model, else 0' },
  { namespace: MODEL_SYNC.namespace, name: MODEL_SYNC.metrics.unsyncableObjects, unit: 'Count', dimensionSets: [aggregate, [CLUSTER_DIMENSION, MODEL_SYNC.instanceDimension]], description: 'bucket objects a node skipped (archived, clash, invalid key)' },
  { namespace: MODEL_SYNC.namespace, name: MODEL_SYNC.metrics.syncLagSeconds, unit: 'Seconds', dimensionSets: [aggregate], description: 'S3 event time to copy done on a node' },
  { namespace: MODEL_SYNC.namespace, name: MODEL_SYNC.metrics.syncFailures, unit: 'Count', dimensionSets: [aggregate, [CLUSTER_DIMENSION, MODEL_SYNC.reasonDimension]], description: 'failed copies/deletes by reason' },
  { namespace: JOBS.namespace, name: JOBS.metrics.jobsSucceeded, unit: 'Count', dimensionSets: [aggregate], description: 'jobs finished successfully' },
  { namespace: JOBS.namespace, name: JOBS.metrics.jobsFailed, unit: 'Count', dimensionSets: [aggregate], description: 'jobs failed for good' },
  { namespace: JOBS.namespace, name: JOBS.metrics.jobsRetried, unit: 'Count', dimensionSets: [aggregate], description: 'job attempts handed back for a retry' },
  { namespace: JOBS.namespace, name: JOBS.metrics.jobDurationSeconds, unit: 'Seconds', dimensionSets: [aggregate], description: 'one job, taken to finished' },
  {
    namespace: CAPACITY.namespace,
    name: CAPACITY.metrics.gpuNodes,
    unit: 'Count',
    dimensionSets: [aggregate, [CLUSTER_DIMENSION, CAPACITY.capacityTypeDimension, CAPACITY.instanceTypeDimension]],
    description: 'GPU instances pending or running (aggregate always published, 0 included)',
  },
  { namespace: CAPACITY.namespace, name: CAPACITY.metrics.estimatedGpuSpendPerHour, unit: 'None', dimensionSets: [aggregate], description: 'ESTIMATE: sum of configured hourly prices of the GPU instances running now (USD/hour)' },
  { namespace: CAPACITY.namespace, name: CAPACITY.metrics.unpricedGpuNodes, unit: 'Count', dimensionSets: [aggregate], description: 'GPU instances whose type has no price in observability.gpuPrices' },
];

/** The contract entry of a custom metric, or undefined when it is not part of the contract. */
export function contractMetric(namespace: string, name: string): ContractMetric | undefined {
  return CONTRACT_METRICS.find((m) => m.namespace === namespace && m.name === name);
}

/** Namespaces of the contract (the only ones publishers may write; PutMetricData conditions use them). */
export const CUSTOM_NAMESPACES = [SERVING.namespace, MODEL_SYNC.namespace, JOBS.namespace, CAPACITY.namespace] as const;
