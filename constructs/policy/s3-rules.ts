/**
 * S3 buckets: public access blocked, default encryption, TLS-only policy.
 * Each bucket is matched to its companion resources (public access block,
 * encryption configuration, bucket policy) in the same stack by the
 * reference token they share (`${aws_s3_bucket.<name>.id}` / `.bucket`) or by
 * a literal bucket name. SecureBucket creates all three; these rules catch a
 * bucket made any other way.
 */
import { documentStatements, PolicyStatement, readPolicy } from './policy-document';
import { PolicyFinding, PolicyRule } from './rule';
import { blocks, ElementView, refersTo, StackView } from './stack-view';

const SSE_ALGORITHMS = ['AES256', 'aws:kms', 'aws:kms:dsse'];

function isBucketName(value: unknown, bucket: ElementView): boolean {
  return refersTo(value, bucket.address) || (typeof value === 'string' && !value.includes('${') && value === bucket.attributes.bucket);
}

/** Resources of `type` whose `bucket` argument points at `bucket`. */
function companions(view: StackView, bucket: ElementView, type: string): ElementView[] {
  return view.resourcesOfType(type).filter((c) => isBucketName(c.attributes.bucket, bucket));
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

export class S3PublicAccessBlockRule implements PolicyRule {
  public readonly id = 'COMFY-S3-001';
  public readonly summary = 'Every S3 bucket has an aws_s3_bucket_public_access_block with all four settings true.';
  private static readonly SETTINGS = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];

  public check(view: StackView): PolicyFinding[] {
    const findings: PolicyFinding[] = [];
    for (const bucket of view.resourcesOfType('aws_s3_bucket')) {
      const blocksFound = companions(view, bucket, 'aws_s3_bucket_public_access_block');
      if (blocksFound.length === 0) {
        findings.push({ construct: bucket.construct, message: 'S3 bucket has no aws_s3_bucket_public_access_block (use SecureBucket, or add one with all four settings true)' });
        continue;
      }
      const missing = S3PublicAccessBlockRule.SETTINGS.filter((s) => !blocksFound.some((b) => isTrue(b.attributes[s])));
      if (missing.length > 0) {
        findings.push({ construct: bucket.construct, message: `S3 bucket public access block leaves ${missing.join(', ')} unset or false` });
      }
    }
    return findings;
  }
}

export class S3EncryptionRule implements PolicyRule {
  public readonly id = 'COMFY-S3-002';
  public readonly summary = 'Every S3 bucket has default encryption (SSE-KMS, DSSE-KMS or SSE-S3) configured.';

  public check(view: StackView): PolicyFinding[] {
    const findings: PolicyFinding[] = [];
    for (const bucket of view.resourcesOfType('aws_s3_bucket')) {
      const configurations = [
        ...companions(view, bucket, 'aws_s3_bucket_server_side_encryption_configuration').map((c) => c.attributes),
        // the deprecated inline block still works on provider 6.x
        ...blocks(bucket.attributes.server_side_encryption_configuration),
      ];
      const algorithms = configurations
        .flatMap((c) => blocks(c.rule))
        .flatMap((r) => blocks(r.apply_server_side_encryption_by_default))
        .map((d) => d.sse_algorithm);
      if (!algorithms.some((a) => typeof a === 'string' && (SSE_ALGORITHMS.includes(a) || a.includes('${')))) {
        findings.push({ construct: bucket.construct, message: 'S3 bucket has no default encryption: add an aws_s3_bucket_server_side_encryption_configuration (SecureBucket does)' });
      }
    }
    return findings;
  }
}

/** A Deny of all S3 actions to everyone when aws:SecureTransport is false, covering the bucket and its objects. */
function deniesInsecureTransport(statement: PolicyStatement, bucket: ElementView): boolean {
  const allS3 = statement.actions.some((a) => a === '*' || a.toLowerCase() === 's3:*');
  const everyone = statement.principals.includes('*');
  const insecure = statement.conditions.some(
    (c) => c.test === 'Bool' && c.variable.toLowerCase() === 'aws:securetransport' && c.values.map(String).includes('false'),
  );
  const coversBucket = statement.resources.some((r) => isBucketArn(r, bucket) && !r.endsWith('/*'));
  const coversObjects = statement.resources.some((r) => isBucketArn(r, bucket) && r.endsWith('/*'));
  return statement.effect === 'Deny' && allS3 && everyone && insecure && coversBucket && coversObjects;
}

function isBucketArn(resource: string, bucket: ElementView): boolean {
  if (refersTo(resource, bucket.address)) return true;
  const name = bucket.attributes.bucket;
  return typeof name === 'string' && new RegExp(`^arn:[^:]+:s3:::${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/\\*)?$`).test(resource);
}

export class S3TlsOnlyRule implements PolicyRule {
  public readonly id = 'COMFY-S3-003';
  public readonly summary = 'Every S3 bucket has a bucket policy denying s3:* to everyone when aws:SecureTransport is false, on the bucket and its objects.';

  public check(view: StackView): PolicyFinding[] {
    const findings: PolicyFinding[] = [];
    for (const bucket of view.resourcesOfType('aws_s3_bucket')) {
      const policies = [...companions(view, bucket, 'aws_s3_bucket_policy').map((p) => p.attributes.policy), ...(bucket.attributes.policy !== undefined ? [bucket.attributes.policy] : [])];
      if (policies.length === 0) {
        findings.push({ construct: bucket.construct, message: 'S3 bucket has no bucket policy, so plain-HTTP requests are not denied: add a TLS-only aws_s3_bucket_policy (SecureBucket does)' });
        continue;
      }
      const statements: PolicyStatement[] = [];
      for (const policy of policies) {
        const read = readPolicy(view, policy);
        if (read.kind === 'document') statements.push(...documentStatements(read.document));
        else if (read.kind === 'statements') statements.push(...read.statements);
        else findings.push({ construct: bucket.construct, message: `S3 bucket policy cannot be checked for TLS-only access: ${read.reason}` });
      }
      if (statements.length > 0 && !statements.some((s) => deniesInsecureTransport(s, bucket))) {
        findings.push({
          construct: bucket.construct,
          message: 'S3 bucket policy does not deny insecure transport: add a Deny of s3:* for Principal * with Bool aws:SecureTransport = false on the bucket ARN and <ARN>/*',
        });
      }
    }
    return findings;
  }
}
