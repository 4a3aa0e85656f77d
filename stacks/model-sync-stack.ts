/**
 * Model-sync stack: the event path that keeps every GPU node's local model
 * copy in step with the models bucket.
 *
 *   models bucket --(s3:ObjectCreated:*, s3:ObjectRemoved:*)--> SQS (+ DLQ)
 *     --> Lambda (decode, validate, coalesce) --> SSM SendCommand by tag
 *     --> model-sync document on each GPU node --> comfyui-model-sync copy|delete KEY
 *
 * AWS-only (no kubernetes/helm providers). It owns the bucket's notification
 * configuration; the bucket itself belongs to the storage stack.
 */
import { Construct } from 'constructs';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { clusterName, gpuNodeTag, modelSyncCommandLogGroup, nodeModelPaths } from '../config';
import { MODEL_SYNC_METRICS, MODEL_SYNC_METRICS_NAMESPACE } from '../constructs/models/model-sync-metrics';
import { occurrenceAlarm } from '../constructs/models/occurrence-alarm';
import { ModelSyncDocument } from '../constructs/models/model-sync-document';
import { ModelSyncFunction } from '../constructs/models/model-sync-function';
import { ModelSyncQueue } from '../constructs/models/model-sync-queue';
import { ModelsBucketNotification } from '../constructs/models/models-bucket-notification';
import { NodeCommandMonitor } from '../constructs/models/node-command-monitor';
import { ModelSyncMetricSources, ModelSyncOutputs, StorageOutputs } from './contracts';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface ModelSyncStackProps extends PlatformStackProps {
  /** The storage stack's buckets (the models bucket is the event source). */
  readonly storage: StorageOutputs;
}

export class ModelSyncStack extends PlatformStack {
  /** Typed outputs for other stacks. */
  public readonly outputs: ModelSyncOutputs;
  /** What the observability stack watches (queues, function, failed-command rule). */
  public readonly metricSources: ModelSyncMetricSources;
  /** The function construct (bundle figures for tests and benchmarks). */
  public readonly syncFunction: ModelSyncFunction;
  /** Alarm: a GPU node reports objects it cannot sync (ComfyUI/ModelSync UnsyncableObjects). */
  public readonly unsyncableObjectsAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: ModelSyncStackProps) {
    super(scope, id, props);
    const { config, storage } = props;
    const sync = config.models.syncLambda;
    const name = `${this.prefix}-model-sync`;
    const accountId = this.accountId;

    const document = new ModelSyncDocument(this, 'Document', {
      name,
      prefixes: config.models.prefixes,
      extensions: config.models.allowedExtensions,
      syncCommand: nodeModelPaths(config).syncCommand,
      executionTimeoutSeconds: sync.commandExecutionTimeoutSeconds,
    });

    const monitor = new NodeCommandMonitor(this, 'NodeCommands', {
      name,
      outputLogGroupName: modelSyncCommandLogGroup(config),
      documentName: document.name,
      logRetentionDays: sync.logRetentionDays,
      logKmsKeyArn: sync.logKmsKeyArn,
      alarmActions: sync.alarmActions,
    });

    const queue = new ModelSyncQueue(this, 'Queue', {
      name,
      bucketArn: storage.modelsBucket.arn,
      accountId,
      maxReceiveCount: sync.maxReceiveCount,
      // AWS guidance for SQS event sources: at least 6x the function timeout plus the batching window.
      visibilityTimeoutSeconds: 6 * sync.timeoutSeconds + sync.maxBatchingWindowSeconds,
      alarmActions: sync.alarmActions,
    });

    new ModelsBucketNotification(this, 'BucketNotification', {
      bucketName: storage.modelsBucket.name,
      queueArn: queue.queue.arn,
      queuePolicy: queue.queuePolicy,
    });

    this.syncFunction = new ModelSyncFunction(this, 'Function', {
      functionName: name,
      region: config.region,
      accountId,
      partition: this.partition,
      bucket: storage.modelsBucket,
      prefixes: config.models.prefixes,
      extensions: config.models.allowedExtensions,
      queue: queue.queue,
      document,
      targetTag: gpuNodeTag(config),
      commandLogGroupName: monitor.outputLogGroup.name,
      commandMaxConcurrency: sync.commandMaxConcurrency,
      commandMaxErrors: sync.commandMaxErrors,
      commandDeliveryTimeoutSeconds: sync.commandDeliveryTimeoutSeconds,
      dispatchConcurrency: sync.dispatchConcurrency,
      timeoutSeconds: sync.timeoutSeconds,
      memoryMb: sync.memoryMb,
      batchSize: sync.batchSize,
      maxBatchingWindowSeconds: sync.maxBatchingWindowSeconds,
      maxConcurrentBatches: sync.maxConcurrentBatches,
      logRetentionDays: sync.logRetentionDays,
      logKmsKeyArn: sync.logKmsKeyArn,
      alarmActions: sync.alarmActions,
    });

    // Any node that could not sync an object (archived, refused key, clash, failed download) reports
    // UnsyncableObjects > 0; Maximum over the cluster series is the worst node (breakdown per
    // InstanceId on the dashboard).
    this.unsyncableObjectsAlarm = occurrenceAlarm(this, 'UnsyncableObjectsAlarm', {
      alarmName: `${name}-unsyncable-objects`,
      description: 'A GPU node could not sync some objects of the models bucket (archived, refused key, file/folder clash or failed download); they are listed in its /mnt/models/.model-sync/ready.json and its journal (unsyncable object lines).',
      namespace: MODEL_SYNC_METRICS_NAMESPACE,
      metricName: MODEL_SYNC_METRICS.unsyncableObjects,
      dimensions: { ClusterName: clusterName(config) },
      statistic: 'Maximum',
      actions: sync.alarmActions,
    });

    this.outputs = {
      documentName: document.name,
      documentArn: document.arn,
      queueArn: queue.queue.arn,
      deadLetterQueueArn: queue.deadLetterQueue.arn,
      commandLogGroupArn: monitor.outputLogGroup.arn,
    };
    this.metricSources = {
      queueName: queue.queue.name,
      deadLetterQueueName: queue.deadLetterQueue.name,
      functionName: this.syncFunction.function.functionName,
      nodeFailureRuleName: monitor.failureRule.name,
    };
  }
}
