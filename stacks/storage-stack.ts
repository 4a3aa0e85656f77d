/**
 * Storage stack: every bucket of the platform and the KMS key that encrypts
 * them. It has no dependencies, so the cluster (S3 CSI role), the capacity
 * stack (node role) and the model-sync stack can all take its outputs
 * without a cycle.
 */
import { Construct } from 'constructs';
import { DataKey } from '../constructs/storage/data-key';
import { SecureBucket } from '../constructs/storage/secure-bucket';
import { BucketRef, StorageOutputs } from './contracts';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/**
 * Object writes a model publisher needs and nobody else gets (issue 18 item 5):
 * whatever reaches the bucket reaches every GPU node. Bucket-level actions
 * (policy, notifications, lifecycle: the deploy role), reads (the nodes, the
 * model-sync Lambda), S3's own lifecycle expirations and its event
 * notifications are not object writes by a principal, so they are untouched.
 */
export const MODEL_WRITE_ACTIONS = [
  's3:PutObject',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:PutObjectAcl',
  's3:PutObjectVersionAcl',
  's3:PutObjectTagging',
  's3:PutObjectVersionTagging',
  's3:DeleteObjectTagging',
  's3:DeleteObjectVersionTagging',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:RestoreObject',
  's3:ReplicateObject',
  's3:ReplicateDelete',
];

/** The models bucket's publisher statement: deny object writes to every principal but `publishers` (none when the list is empty). */
export function modelPublisherStatements(bucketArn: string, publishers: readonly string[]) {
  if (publishers.length === 0) return [];
  return [
    {
      sid: 'DenyModelWritesExceptPublishers',
      effect: 'Deny',
      actions: MODEL_WRITE_ACTIONS,
      resources: [`${bucketArn}/*`],
      principals: [{ type: '*', identifiers: ['*'] }],
      condition: [{ test: 'ArnNotLike', variable: 'aws:PrincipalArn', values: [...publishers] }],
    },
  ];
}

export class StorageStack extends PlatformStack {
  /** Typed outputs for the stacks that use the buckets. */
  public readonly outputs: StorageOutputs;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    const account = this.accountId;
    const partition = this.partition;
    const bucketName = (purpose: string) => `${this.prefix}-${purpose}-${account}-${config.region}`;

    const dataKey = new DataKey(this, 'DataKey', { alias: `alias/${this.prefix}-data`, accountId: account, partition });

    const logs = new SecureBucket(this, 'LogsBucket', {
      bucketName: bucketName('logs'),
      // S3 server access logging only delivers to SSE-S3 buckets.
      versioned: false,
      lifecycleRules: [{ id: 'expire-access-logs', status: 'Enabled', filter: [{ prefix: '' }], expiration: [{ days: 90 }] }],
      extraPolicyStatements: [
        {
          sid: 'AllowS3ServerAccessLogs',
          effect: 'Allow',
          actions: ['s3:PutObject'],
          resources: [`arn:${partition}:s3:::${bucketName('logs')}/s3/*`],
          principals: [{ type: 'Service', identifiers: ['logging.s3.amazonaws.com'] }],
          condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [account] }],
        },
      ],
    });
    const logsTo = (bucket: string) => ({ bucketName: logs.bucketName, prefix: `s3/${bucket}/`, deliveryPolicy: logs.policy });

    const modelsBucketName = config.models.bucketName ?? bucketName('models');
    const models = new SecureBucket(this, 'ModelsBucket', {
      bucketName: modelsBucketName,
      kmsKeyArn: dataKey.keyArn,
      accessLogs: logsTo('models'),
      extraPolicyStatements: modelPublisherStatements(`arn:${partition}:s3:::${modelsBucketName}`, config.models.publisherPrincipalArns),
      // Replaced models keep a version for a month, so a bad upload can be rolled back.
      lifecycleRules: [{ id: 'expire-old-model-versions', status: 'Enabled', filter: [{ prefix: '' }], noncurrentVersionExpiration: [{ noncurrentDays: 30 }] }],
    });

    const outputs = new SecureBucket(this, 'OutputsBucket', {
      bucketName: bucketName('outputs'),
      kmsKeyArn: dataKey.keyArn,
      accessLogs: logsTo('outputs'),
      lifecycleRules: [
        { id: 'expire-old-output-versions', status: 'Enabled', filter: [{ prefix: '' }], noncurrentVersionExpiration: [{ noncurrentDays: 7 }] },
        ...(config.app.outputsExpireDays > 0
          ? [{ id: 'expire-outputs', status: 'Enabled', filter: [{ prefix: '' }], expiration: [{ days: config.app.outputsExpireDays }] }]
          : []),
      ],
    });

    const inputs = new SecureBucket(this, 'InputsBucket', {
      bucketName: bucketName('inputs'),
      kmsKeyArn: dataKey.keyArn,
      accessLogs: logsTo('inputs'),
      lifecycleRules: [
        { id: 'expire-old-input-versions', status: 'Enabled', filter: [{ prefix: '' }], noncurrentVersionExpiration: [{ noncurrentDays: 7 }] },
        ...(config.app.inputsExpireDays > 0
          ? [{ id: 'expire-inputs', status: 'Enabled', filter: [{ prefix: '' }], expiration: [{ days: config.app.inputsExpireDays }] }]
          : []),
      ],
    });

    const ref = (b: SecureBucket): BucketRef => ({ name: b.bucketName, arn: b.bucketArn });
    this.outputs = {
      modelsBucket: ref(models),
      outputsBucket: ref(outputs),
      inputsBucket: ref(inputs),
      logsBucket: ref(logs),
      dataKeyArn: dataKey.keyArn,
    };
  }
}
