/**
 * The queue between the models bucket and the model-sync Lambda, with its
 * dead-letter queue and an alarm on the DLQ's depth.
 *
 * Encryption is SSE-SQS: S3 event notifications cannot be delivered to a
 * queue encrypted with the AWS-managed aws/sqs KMS key, and a customer key
 * would need a key policy for s3.amazonaws.com for no gain here (the
 * messages carry key names, not model data). Both queues deny non-TLS access;
 * only S3, for this bucket and this account, may send to the main queue; only
 * the main queue may redrive into the DLQ.
 */
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsIamPolicyDocument, DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { SqsQueueRedriveAllowPolicy } from '@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { occurrenceAlarm } from './occurrence-alarm';

export interface ModelSyncQueueProps {
  /** Queue name; the DLQ is `<name>-dlq`. */
  readonly name: string;
  /** Models bucket ARN: the only bucket allowed to send. */
  readonly bucketArn: string;
  /** Account id (token) of the bucket owner (aws:SourceAccount). */
  readonly accountId: string;
  /** Deliveries of a message before it moves to the DLQ. */
  readonly maxReceiveCount: number;
  /** Visibility timeout; at least 6x the consumer's timeout plus its batching window. */
  readonly visibilityTimeoutSeconds: number;
  /** SNS topics notified when the DLQ holds messages. Default: none. */
  readonly alarmActions?: readonly string[];
}

/** Four days on the main queue covers a long weekend of a broken consumer; the DLQ keeps 14 (the maximum). */
const QUEUE_RETENTION_SECONDS = 4 * 24 * 3600;
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

/** Queue policy statement refusing non-TLS access (shared with the jobs queues). */
export function denyInsecureTransport(queueArn: string): DataAwsIamPolicyDocumentStatement {
  return {
    sid: 'DenyInsecureTransport',
    effect: 'Deny',
    actions: ['sqs:*'],
    resources: [queueArn],
    principals: [{ type: '*', identifiers: ['*'] }],
    condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
  };
}

/**
 * The DLQ's side of a queue pair: TLS only, and only `source` may use it as
 * its dead-letter target (a separate resource: inline it would be a cycle).
 * Creates its resources in `scope` (shared with the jobs queues).
 */
export function protectDeadLetterQueue(scope: Construct, source: SqsQueue, deadLetterQueue: SqsQueue): void {
  const dlqPolicy = new DataAwsIamPolicyDocument(scope, 'DeadLetterQueuePolicyDocument', { statement: [denyInsecureTransport(deadLetterQueue.arn)] });
  new SqsQueuePolicy(scope, 'DeadLetterQueuePolicy', { queueUrl: deadLetterQueue.url, policy: dlqPolicy.json });
  new SqsQueueRedriveAllowPolicy(scope, 'DeadLetterQueueRedriveAllowPolicy', {
    queueUrl: deadLetterQueue.url,
    redriveAllowPolicy: Fn.jsonencode({ redrivePermission: 'byQueue', sourceQueueArns: [source.arn] }),
  });
}

export class ModelSyncQueue extends Construct {
  /** The main queue. */
  public readonly queue: SqsQueue;
  /** The dead-letter queue. */
  public readonly deadLetterQueue: SqsQueue;
  /** The main queue's policy (the bucket notification must wait for it). */
  public readonly queuePolicy: SqsQueuePolicy;
  /** Alarm: at least one message in the DLQ. */
  public readonly dlqAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: ModelSyncQueueProps) {
    super(scope, id);
    if (props.visibilityTimeoutSeconds > 43200) throw new Error(`visibilityTimeoutSeconds must be at most 43200 (SQS limit), got ${props.visibilityTimeoutSeconds}`);

    this.deadLetterQueue = new SqsQueue(this, 'DeadLetterQueue', {
      name: `${props.name}-dlq`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: DLQ_RETENTION_SECONDS,
    });

    this.queue = new SqsQueue(this, 'Queue', {
      name: props.name,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: QUEUE_RETENTION_SECONDS,
      visibilityTimeoutSeconds: props.visibilityTimeoutSeconds,
      // Long polling: fewer empty receives.
      receiveWaitTimeSeconds: 20,
      redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: props.maxReceiveCount }),
    });

    const queuePolicy = new DataAwsIamPolicyDocument(this, 'QueuePolicyDocument', {
      statement: [
        denyInsecureTransport(this.queue.arn),
        {
          sid: 'AllowModelsBucketNotifications',
          effect: 'Allow',
          actions: ['sqs:SendMessage'],
          resources: [this.queue.arn],
          principals: [{ type: 'Service', identifiers: ['s3.amazonaws.com'] }],
          condition: [
            { test: 'ArnEquals', variable: 'aws:SourceArn', values: [props.bucketArn] },
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
          ],
        },
      ],
    });
    this.queuePolicy = new SqsQueuePolicy(this, 'QueuePolicy', { queueUrl: this.queue.url, policy: queuePolicy.json });

    protectDeadLetterQueue(this, this.queue, this.deadLetterQueue);

    this.dlqAlarm = occurrenceAlarm(this, 'DeadLetterQueueAlarm', {
      alarmName: `${props.name}-dlq-not-empty`,
      description: `Model-sync events failed ${props.maxReceiveCount} times and wait in ${props.name}-dlq. Nodes still converge through the reconcile timer; see docs/model-sync.md to inspect and redrive.`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: this.deadLetterQueue.name },
      statistic: 'Maximum',
      actions: props.alarmActions,
    });
  }
}
