/**
 * Sends every create and remove event of the models bucket to the model-sync
 * queue. S3 keeps one notification configuration per bucket: this resource
 * owns it, so nothing else may declare an aws_s3_bucket_notification for the
 * models bucket. S3 checks that it may send to the queue when the
 * configuration is saved, hence the dependency on the queue policy.
 */
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

/** The events that change what a node must hold. */
export const MODEL_SYNC_EVENTS = ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] as const;

export interface ModelsBucketNotificationProps {
  /** Models bucket name. */
  readonly bucketName: string;
  /** ARN of the queue receiving the events. */
  readonly queueArn: string;
  /** The queue policy allowing S3 to send (must exist first). */
  readonly queuePolicy: ITerraformDependable;
}

export class ModelsBucketNotification extends Construct {
  constructor(scope: Construct, id: string, props: ModelsBucketNotificationProps) {
    super(scope, id);
    new S3BucketNotification(this, 'Notification', {
      bucket: props.bucketName,
      queue: [{ id: 'model-sync', queueArn: props.queueArn, events: [...MODEL_SYNC_EVENTS] }],
      dependsOn: [props.queuePolicy],
    });
  }
}
