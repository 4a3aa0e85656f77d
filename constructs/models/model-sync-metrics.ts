/**
 * The node script's custom metrics (scripts/node/comfyui-model-sync publishes them).
 * contract: docs CloudWatch metric contract (ComfyUI/ModelSync)
 */

/** Namespace of the GPU nodes' model-sync metrics; the node role may publish to it only. */
export const MODEL_SYNC_METRICS_NAMESPACE = 'ComfyUI/ModelSync';

/** Metric names, dimensions {ClusterName} (+ InstanceId or Reason where noted). */
export const MODEL_SYNC_METRICS = {
  /** 0/1 per node: ready.json written by the last full sync ({ClusterName} and {ClusterName, InstanceId}). */
  nodeModelsReady: 'NodeModelsReady',
  /** Objects the last full sync could not sync: archived, refused key, clash, failed download (same dimensions). */
  unsyncableObjects: 'UnsyncableObjects',
  /** S3 event time to copy done on a node, seconds ({ClusterName}). */
  syncLagSeconds: 'SyncLagSeconds',
  /** Failed changes ({ClusterName} and {ClusterName, Reason}: s3-error, disk-full, invalid-key, archived, clash, other). */
  syncFailures: 'SyncFailures',
} as const;
