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
import { gpuNodeTag, modelSyncCommandLogGroup, nodeModelPaths } from '../config';
import { ModelSyncDocument } from '../constructs/models/model-sync-document';
import { ModelSyncFunction } from '../constructs/models/model-sync-function';
import { ModelSyncQueue } from '../constructs/models/model-sync-queue';
import { ModelsBucketNotification } from '../constructs/models/models-bucket-notification';
import { NodeCommandMonitor } from '../constructs/models/node-command-monitor';
import { ModelSyncOutputs, StorageOutputs } from './contracts';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface ModelSyncStackProps extends PlatformStackProps {
  /** The storage stack's buckets (the models bucket is the event source). */
  readonly storage: StorageOutputs;
}

export class ModelSyncStack extends PlatformStack {
  /** Typed outputs for other stacks. */
  public readonly outputs: ModelSyncOutputs;
  /** The function construct (bundle figures for tests and benchmarks). */
  public readonly syncFunction: ModelSyncFunction;

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

    this.outputs = {
      documentName: document.name,
      documentArn: document.arn,
      queueArn: queue.queue.arn,
      deadLetterQueueArn: queue.deadLetterQueue.arn,
      commandLogGroupArn: monitor.outputLogGroup.arn,
    };
  }
}
