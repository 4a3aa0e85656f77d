/** Builders of S3 notification bodies and SQS records for the model-sync tests. */
import type { SQSEvent, SQSRecord } from 'aws-lambda';

export const BUCKET = 'comfyui-dev-models-123456789012-us-west-2';

/** One S3 event record as S3 writes it (key already URL-encoded by the caller). */
export function s3Record(eventName: string, rawKey: string, sequencer?: string, bucket = BUCKET): Record<string, unknown> {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-west-2',
    eventTime: '2025-11-26T12:00:00.000Z',
    eventName,
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'model-sync',
      bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
      object: { key: rawKey, size: eventName.startsWith('ObjectRemoved') ? undefined : 1024, ...(sequencer ? { sequencer } : {}) },
    },
  };
}

/** An SQS record carrying an S3 notification body. */
export function sqsRecord(messageId: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1764158400000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1764158400001',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-west-2:123456789012:comfyui-dev-model-sync',
    awsRegion: 'us-west-2',
  };
}

/** An SQS record with one S3 change. */
export function change(messageId: string, eventName: string, rawKey: string, sequencer?: string): SQSRecord {
  return sqsRecord(messageId, { Records: [s3Record(eventName, rawKey, sequencer)] });
}

/** The test event S3 sends when a notification configuration is saved. */
export function testEventRecord(messageId: string): SQSRecord {
  return sqsRecord(messageId, { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2025-11-26T12:00:00.000Z', Bucket: BUCKET, RequestId: 'R', HostId: 'H' });
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
