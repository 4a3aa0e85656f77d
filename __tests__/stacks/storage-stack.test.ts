import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLoggingA } from '@cdktf/provider-aws/lib/s3-bucket-logging';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { Testing } from 'cdktf';
import { StorageStack } from '../../stacks/storage-stack';
import { testConfig } from '../helpers/config';

function synthStorage(input = {}) {
  const app = Testing.app();
  const stack = new StorageStack(app, 'storage', { config: testConfig(input) });
  return { stack, synth: Testing.synth(stack), parsed: JSON.parse(Testing.synth(stack)) };
}

describe('StorageStack', () => {
  const { synth, parsed } = synthStorage();

  it('creates four buckets, each with public access fully blocked', () => {
    expect(Object.keys(parsed.resource.aws_s3_bucket)).toHaveLength(4);
    expect(Object.keys(parsed.resource.aws_s3_bucket_public_access_block)).toHaveLength(4);
    expect(synth).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it('encrypts data buckets with the rotating customer-managed key and the log bucket with SSE-S3', () => {
    expect(synth).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
    const rules = Object.values(parsed.resource.aws_s3_bucket_server_side_encryption_configuration).map(
      (r: any) => r.rule[0].apply_server_side_encryption_by_default.sse_algorithm,
    );
    expect(rules.sort()).toEqual(['AES256', 'aws:kms', 'aws:kms', 'aws:kms']);
    expect(synth).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [expect.objectContaining({ bucket_key_enabled: true })],
    });
  });

  it('denies non-TLS access on every bucket', () => {
    const docs = Object.values(parsed.data.aws_iam_policy_document) as any[];
    const tlsDenies = docs.filter((d) => d.statement?.some((s: any) => s.sid === 'DenyInsecureTransport' && s.effect === 'Deny'));
    expect(tlsDenies).toHaveLength(4);
    expect(Object.keys(parsed.resource.aws_s3_bucket_policy)).toHaveLength(4);
  });

  it('logs access to models, outputs and inputs into the log bucket', () => {
    expect(Object.keys(parsed.resource.aws_s3_bucket_logging)).toHaveLength(3);
    expect(synth).toHaveResourceWithProperties(S3BucketLoggingA, { target_prefix: 's3/models/' });
  });

  it('turns access logging on only after the log bucket policy grants logging.s3.amazonaws.com', () => {
    // GIVEN the log bucket's policy (the one that grants S3 log delivery)
    const logBucket = Object.entries(parsed.resource.aws_s3_bucket as Record<string, any>).find(([, b]) => /-logs-/.test(b.bucket))![0];
    const logPolicies = Object.entries(parsed.resource.aws_s3_bucket_policy as Record<string, any>).filter(([, p]) => p.bucket === `\${aws_s3_bucket.${logBucket}.id}`);
    expect(logPolicies).toHaveLength(1);
    const logPolicy = `aws_s3_bucket_policy.${logPolicies[0][0]}`;
    // THEN every PutBucketLogging waits for it (a reference to the bucket name alone would not order them)
    for (const logging of Object.values(parsed.resource.aws_s3_bucket_logging as Record<string, any>)) {
      expect(logging.depends_on).toContain(logPolicy);
    }
  });

  it('names buckets <name>-<env>-<purpose>-<account>-<region> unless overridden', () => {
    expect(synth).toHaveResourceWithProperties(S3Bucket, {
      bucket: expect.stringMatching(/^comfyui-dev-models-\$\{data\.aws_caller_identity\.[A-Za-z_]+\.account_id\}-us-west-2$/),
    });
    const custom = synthStorage({ models: { bucketName: 'studio-models' } }).synth;
    expect(custom).toHaveResourceWithProperties(S3Bucket, { bucket: 'studio-models' });
  });

  it('adds an output expiry rule only when configured', () => {
    const lifecycle = (p: any) => JSON.stringify(p.resource.aws_s3_bucket_lifecycle_configuration);
    expect(lifecycle(parsed)).not.toContain('expire-outputs');
    expect(lifecycle(synthStorage({ app: { outputsExpireDays: 14 } }).parsed)).toContain('expire-outputs');
  });

  it('matches the reviewed snapshot', () => {
    expect(synth).toMatchSnapshot();
  });

  // Issue 18 item 5: who may write the models bucket is decided by the bucket, not only by account-wide IAM.
  describe('models bucket publishers', () => {
    const publisher = 'arn:aws:iam::123456789012:role/model-publisher';
    const policyOf = (p: any, bucketId: string) => {
      const doc = Object.entries(p.data.aws_iam_policy_document).find(([id]) => id.startsWith(bucketId));
      return (doc![1] as any).statement as any[];
    };

    it('denies object writes and deletes to every principal but models.publisherPrincipalArns', () => {
      const { parsed: withPublishers } = synthStorage({ models: { publisherPrincipalArns: [publisher, 'arn:aws:iam::123456789012:role/ci-*'] } });
      const statements = policyOf(withPublishers, 'ModelsBucket');
      const deny = statements.find((st) => st.sid === 'DenyModelWritesExceptPublishers');
      expect(deny).toMatchObject({
        effect: 'Deny',
        principals: [{ type: '*', identifiers: ['*'] }],
        condition: [{ test: 'ArnNotLike', variable: 'aws:PrincipalArn', values: [publisher, 'arn:aws:iam::123456789012:role/ci-*'] }],
      });
      expect(deny.actions).toEqual(expect.arrayContaining(['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectAcl', 's3:RestoreObject']));
      // Readers (nodes: GetObject/ListBucket; the Lambda: ListBucket), the deploy role's bucket-level
      // actions (policy, notification, lifecycle) and S3's notifications stay untouched.
      for (const action of deny.actions as string[]) expect(action).toMatch(/^s3:(Put|Delete|Restore|Replicate)Object|^s3:Replicate/);
      expect(deny.actions).not.toEqual(expect.arrayContaining([expect.stringMatching(/^s3:(Get|List|PutBucket|\*)/)]));
      expect(deny.resources).toEqual([expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:s3:::comfyui-dev-models-.*\/\*$|^arn:.*:s3:::.*models.*\/\*$/)]);
      // The other buckets get no such statement.
      for (const id of ['OutputsBucket', 'InputsBucket', 'LogsBucket']) expect(policyOf(withPublishers, id).map((st: any) => st.sid)).not.toContain('DenyModelWritesExceptPublishers');
    });

    it('adds no deny while the list is empty (IAM decides, as before)', () => {
      expect(policyOf(parsed, 'ModelsBucket').map((st: any) => st.sid)).toEqual(['DenyInsecureTransport']);
    });

    it('refuses a publisher that is not an IAM role or user ARN', () => {
      expect(() => testConfig({ models: { publisherPrincipalArns: ['*'] } })).toThrow(/publisherPrincipalArns.*must be an IAM role or user ARN/);
    });
  });
});
