/**
 * An S3 bucket with the controls every bucket of the platform needs:
 * public access blocked, ownership enforced (no ACLs), default encryption,
 * a TLS-only bucket policy, optional versioning, server access logs and
 * lifecycle rules. Other statements can be appended to the bucket policy.
 */
import { DataAwsIamPolicyDocument, DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration, S3BucketLifecycleConfigurationRule } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketLoggingA } from '@cdktf/provider-aws/lib/s3-bucket-logging';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

/** Where a bucket sends its server access logs. */
export interface AccessLogTarget {
  /** Name of the log bucket. */
  readonly bucketName: string;
  /** Key prefix in the log bucket, ending with `/`. */
  readonly prefix: string;
  /** The log bucket's policy that grants logging.s3.amazonaws.com; logging is turned on only after it exists. */
  readonly deliveryPolicy: ITerraformDependable;
}

export interface SecureBucketProps {
  /** Bucket name (may be a token). */
  readonly bucketName: string;
  /** KMS key ARN for SSE-KMS with a bucket key; unset: SSE-S3 (required for S3 access-log targets). */
  readonly kmsKeyArn?: string;
  /** Keep object versions. Default: true. */
  readonly versioned?: boolean;
  /** Server access logging target; unset for the log bucket itself. */
  readonly accessLogs?: AccessLogTarget;
  /** Lifecycle rules; an abort-incomplete-multipart-uploads rule is always added. */
  readonly lifecycleRules?: S3BucketLifecycleConfigurationRule[];
  /** Extra bucket policy statements (TLS-only is always present). */
  readonly extraPolicyStatements?: DataAwsIamPolicyDocumentStatement[];
  /** Object ownership. Default: BucketOwnerEnforced (ACLs disabled). */
  readonly objectOwnership?: 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
}

export class SecureBucket extends Construct {
  /** The bucket resource. */
  public readonly bucket: S3Bucket;
  /** The bucket name. */
  public readonly bucketName: string;
  /** The bucket ARN. */
  public readonly bucketArn: string;
  /** The bucket policy (a writer such as ELB log delivery can depend on it). */
  public readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const versioned = props.versioned ?? true;

    this.bucket = new S3Bucket(this, 'Bucket', { bucket: props.bucketName, forceDestroy: false });
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;

    const publicAccessBlock = new S3BucketPublicAccessBlock(this, 'PublicAccessBlock', {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });

    new S3BucketOwnershipControls(this, 'Ownership', {
      bucket: this.bucket.id,
      rule: { objectOwnership: props.objectOwnership ?? 'BucketOwnerEnforced' },
    });

    new S3BucketServerSideEncryptionConfigurationA(this, 'Encryption', {
      bucket: this.bucket.id,
      rule: [
        props.kmsKeyArn
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
      ],
    });

    new S3BucketVersioningA(this, 'Versioning', {
      bucket: this.bucket.id,
      versioningConfiguration: { status: versioned ? 'Enabled' : 'Suspended' },
    });

    if (props.accessLogs) {
      new S3BucketLoggingA(this, 'AccessLogs', {
        bucket: this.bucket.id,
        targetBucket: props.accessLogs.bucketName,
        targetPrefix: props.accessLogs.prefix,
        // The target name alone would let PutBucketLogging run before the grant exists.
        dependsOn: [props.accessLogs.deliveryPolicy],
      });
    }

    new S3BucketLifecycleConfiguration(this, 'Lifecycle', {
      bucket: this.bucket.id,
      rule: [
        {
          id: 'abort-incomplete-multipart-uploads',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
        ...(props.lifecycleRules ?? []),
      ],
    });

    const policy = new DataAwsIamPolicyDocument(this, 'PolicyDocument', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          actions: ['s3:*'],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          principals: [{ type: '*', identifiers: ['*'] }],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
        ...(props.extraPolicyStatements ?? []),
      ],
    });
    this.policy = new S3BucketPolicy(this, 'Policy', {
      bucket: this.bucket.id,
      policy: policy.json,
      // A bucket policy put before the public access block can be rejected.
      dependsOn: [publicAccessBlock],
    });
  }
}
