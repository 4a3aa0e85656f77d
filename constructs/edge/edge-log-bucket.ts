/**
 * The bucket the edge writes its access logs to: the ALB under `alb/` and
 * CloudFront (standard logging v2, delivered by CloudWatch Logs) under
 * `cloudfront/`. SSE-S3, because ALB access logs support no other
 * encryption; ACLs stay disabled, because v2 log delivery needs none.
 */
import { DataAwsElbServiceAccount } from '@cdktf/provider-aws/lib/data-aws-elb-service-account';
import { DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { Construct } from 'constructs';
import { SecureBucket } from '../storage/secure-bucket';

/** Key prefix of ALB access logs. */
export const ALB_LOG_PREFIX = 'alb';
/** Key prefix of CloudFront access logs. */
export const CLOUDFRONT_LOG_PREFIX = 'cloudfront';

/**
 * Regions opened before August 2022, where ELB writes access logs as a
 * regional AWS account; newer regions use the logdelivery service principal,
 * which is granted everywhere.
 */
const ELB_ACCOUNT_REGIONS = new Set([
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'af-south-1', 'ap-east-1', 'ap-south-1', 'ap-northeast-1',
  'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2', 'ca-central-1', 'eu-central-1', 'eu-west-1',
  'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-north-1', 'me-south-1', 'sa-east-1', 'us-gov-west-1', 'us-gov-east-1',
]);

export interface EdgeLogBucketProps {
  /** Bucket name (may contain tokens). */
  readonly bucketName: string;
  /** Account id (token) that owns the ALB and the distribution. */
  readonly accountId: string;
  /** AWS partition of the bucket and log-delivery ARNs. */
  readonly partition: string;
  /** Deployment region (selects the ELB log-delivery principal). */
  readonly region: string;
  /** Days after which logs expire. */
  readonly expireDays: number;
}

export class EdgeLogBucket extends Construct {
  /** The underlying secure bucket. */
  public readonly bucket: SecureBucket;

  constructor(scope: Construct, id: string, props: EdgeLogBucketProps) {
    super(scope, id);
    const arn = `arn:${props.partition}:s3:::${props.bucketName}`;
    const albLogs = `${arn}/${ALB_LOG_PREFIX}/AWSLogs/${props.accountId}/*`;

    const elbPrincipals = [{ type: 'Service', identifiers: ['logdelivery.elasticloadbalancing.amazonaws.com'] }];
    if (ELB_ACCOUNT_REGIONS.has(props.region)) {
      const elbAccount = new DataAwsElbServiceAccount(this, 'ElbAccount', {});
      elbPrincipals.push({ type: 'AWS', identifiers: [elbAccount.arn] });
    }

    const statements: DataAwsIamPolicyDocumentStatement[] = [
      {
        sid: 'AllowAlbAccessLogs',
        effect: 'Allow',
        actions: ['s3:PutObject'],
        resources: [albLogs],
        principals: elbPrincipals,
      },
      {
        sid: 'AllowCloudFrontLogDelivery',
        effect: 'Allow',
        actions: ['s3:PutObject'],
        resources: [`${arn}/${CLOUDFRONT_LOG_PREFIX}/*`],
        principals: [{ type: 'Service', identifiers: ['delivery.logs.amazonaws.com'] }],
        condition: [
          { test: 'StringEquals', variable: 's3:x-amz-acl', values: ['bucket-owner-full-control'] },
          { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
          // CloudFront log delivery sources live in us-east-1.
          { test: 'ArnLike', variable: 'aws:SourceArn', values: [`arn:${props.partition}:logs:us-east-1:${props.accountId}:delivery-source:*`] },
        ],
      },
    ];

    this.bucket = new SecureBucket(this, 'Bucket', {
      bucketName: props.bucketName,
      // Logs are written once and expire; versioning would only keep deleted copies.
      versioned: false,
      lifecycleRules: [{ id: 'expire-edge-logs', status: 'Enabled', filter: [{ prefix: '' }], expiration: [{ days: props.expireDays }] }],
      extraPolicyStatements: statements,
    });
  }
}
