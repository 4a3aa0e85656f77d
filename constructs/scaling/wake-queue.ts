/**
 * The wake queue: the signal that brings ComfyUI back from zero replicas.
 * The edge's wake function puts one message on it for every request that
 * finds no replica; KEDA's aws-sqs-queue trigger polls it (every
 * app.autoscaling.pollingIntervalSeconds) and activates the ScaledObject while
 * it holds a message. Nobody consumes the messages: they expire after the
 * minimum SQS retention (60 s), so the signal lasts as long as someone keeps
 * asking (the wake page refreshes itself) and then fades without a consumer.
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Construct } from 'constructs';
import { denyInsecureTransport } from '../models/model-sync-queue';

/** SQS's minimum message retention: a wake message outlives its request by at most this. */
export const WAKE_MESSAGE_RETENTION_SECONDS = 60;

export interface WakeQueueProps {
  /** Queue name. */
  readonly queueName: string;
}

export class WakeQueue extends Construct {
  /** The queue. */
  public readonly queue: SqsQueue;

  constructor(scope: Construct, id: string, props: WakeQueueProps) {
    super(scope, id);
    this.queue = new SqsQueue(this, 'Queue', {
      name: props.queueName,
      messageRetentionSeconds: WAKE_MESSAGE_RETENTION_SECONDS,
      // Messages carry no payload worth a customer key (a timestamp and a path), but stay encrypted at rest.
      sqsManagedSseEnabled: true,
      // Small messages only (the function sends ~200 bytes).
      maxMessageSize: 1024,
    });
    const policy = new DataAwsIamPolicyDocument(this, 'PolicyDocument', {
      statement: [
        denyInsecureTransport(this.queue.arn),
      ],
    });
    new SqsQueuePolicy(this, 'Policy', { queueUrl: this.queue.url, policy: policy.json });
  }
}
