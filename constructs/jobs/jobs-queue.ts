/**
 * The jobs queue, its dead-letter queue and an alarm on the DLQ's depth.
 *
 * Both queues are encrypted with the jobs KMS key (messages carry whole
 * workflows: prompts are user data). Non-TLS access is denied; only the jobs
 * queue may redrive into the DLQ. The worker moves a job to the DLQ itself
 * after maxAttempts transient failures (with the reason as a message
 * attribute); the redrive policy is a safety net for messages that crash
 * their worker before it can record anything, with slack for duplicate
 * deliveries, which also count as receives.
 */
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { denyInsecureTransport, protectDeadLetterQueue } from '../models/model-sync-queue';
import { occurrenceAlarm } from '../models/occurrence-alarm';

export interface JobsQueueProps {
  /** Queue name; the DLQ is `<name>-dlq`. */
  readonly name: string;
  /** KMS key encrypting both queues. */
  readonly kmsKeyArn: string;
  /** Worker attempts of a job (the redrive safety net allows this many receives plus slack). */
  readonly maxAttempts: number;
  /** Visibility timeout of a received job (the worker renews it while the job runs). */
  readonly visibilityTimeoutSeconds: number;
  /** How long a job waits for a worker. */
  readonly messageRetentionDays: number;
  /** SNS topics notified when the DLQ holds messages. Default: none. */
  readonly alarmActions?: readonly string[];
}

/** Receives beyond maxAttempts before SQS itself dead-letters a message (duplicate deliveries also count). */
export const REDRIVE_SLACK = 3;
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

export class JobsQueue extends Construct {
  /** The jobs queue. */
  public readonly queue: SqsQueue;
  /** Its dead-letter queue. */
  public readonly deadLetterQueue: SqsQueue;
  /** Alarm: at least one job in the DLQ. */
  public readonly dlqAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: JobsQueueProps) {
    super(scope, id);
    if (props.visibilityTimeoutSeconds > 43200) throw new Error(`JobsQueue ${props.name}: visibilityTimeoutSeconds must be at most 43200 (SQS limit), got ${props.visibilityTimeoutSeconds}`);
    const encryption = {
      kmsMasterKeyId: props.kmsKeyArn,
      // One data key per 5 minutes per principal: KMS calls stay far below one per message.
      kmsDataKeyReusePeriodSeconds: 300,
    };
    this.deadLetterQueue = new SqsQueue(this, 'DeadLetterQueue', { name: `${props.name}-dlq`, ...encryption, messageRetentionSeconds: DLQ_RETENTION_SECONDS });
    this.queue = new SqsQueue(this, 'Queue', {
      name: props.name,
      ...encryption,
      messageRetentionSeconds: props.messageRetentionDays * 24 * 3600,
      visibilityTimeoutSeconds: props.visibilityTimeoutSeconds,
      receiveWaitTimeSeconds: 20,
      redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount: props.maxAttempts + REDRIVE_SLACK }),
    });

    const queuePolicy = new DataAwsIamPolicyDocument(this, 'QueuePolicyDocument', { statement: [denyInsecureTransport(this.queue.arn)] });
    new SqsQueuePolicy(this, 'QueuePolicy', { queueUrl: this.queue.url, policy: queuePolicy.json });
    protectDeadLetterQueue(this, this.queue, this.deadLetterQueue);

    this.dlqAlarm = occurrenceAlarm(this, 'DeadLetterQueueAlarm', {
      alarmName: `${props.name}-dlq-not-empty`,
      description: `Jobs failed ${props.maxAttempts} times (or their messages were unusable) and wait in ${props.name}-dlq; the jobs table has each one's error. See docs/jobs.md to inspect and redrive.`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: this.deadLetterQueue.name },
      statistic: 'Maximum',
      actions: props.alarmActions,
    });
  }
}
