/**
 * One test per rule that it fires on a deliberately bad construct (the error
 * names the rule and the construct path), plus the near misses each rule must
 * accept. project-stacks.test.ts proves the project's own stacks stay quiet.
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument, DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SecurityGroupRule } from '@cdktf/provider-aws/lib/security-group-rule';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Fn, TerraformStack, TerraformVariable } from 'cdktf';
import { OpenIngressRule, PlatformPolicy } from '../../constructs/policy';
import { SecureBucket } from '../../constructs/storage/secure-bucket';
import { ofRule, policyErrors, policyStack } from './helpers';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/eks';
const VPC_CONFIG = { subnetIds: ['subnet-1', 'subnet-2'] };

function tlsDenyJson(bucket: S3Bucket) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [bucket.arn, `${bucket.arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  };
}

/** A bucket with public access block and encryption but a policy chosen by the test. */
function bucketWith(stack: TerraformStack, id: string, policy?: (b: S3Bucket) => string): S3Bucket {
  const bucket = new S3Bucket(stack, id, { bucket: `${id.toLowerCase()}-bucket` });
  new S3BucketPublicAccessBlock(stack, `${id}Pab`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
  new S3BucketServerSideEncryptionConfigurationA(stack, `${id}Sse`, { bucket: bucket.id, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] });
  if (policy) new S3BucketPolicy(stack, `${id}Policy`, { bucket: bucket.id, policy: policy(bucket) });
  return bucket;
}

function identityDoc(stack: TerraformStack, id: string, statement: DataAwsIamPolicyDocumentStatement[]) {
  const doc = new DataAwsIamPolicyDocument(stack, id, { statement });
  new IamPolicy(stack, `${id}Policy`, { name: id, policy: doc.json });
  return doc;
}

describe('COMFY-S3-001 public access block', () => {
  it('fires on a bucket without one, naming the rule and the construct path', () => {
    const stack = policyStack();
    new S3Bucket(stack, 'Naked', { bucket: 'naked' });
    const errors = ofRule(policyErrors(stack), 'COMFY-S3-001');
    expect(errors).toEqual(['[COMFY-S3-001] S3 bucket has no aws_s3_bucket_public_access_block (use SecureBucket, or add one with all four settings true) at bad/Naked']);
  });

  it('names the settings a partial block leaves false', () => {
    const stack = policyStack();
    const bucket = new S3Bucket(stack, 'Leaky', { bucket: 'leaky' });
    new S3BucketPublicAccessBlock(stack, 'LeakyPab', { bucket: bucket.id, blockPublicAcls: true, ignorePublicAcls: true });
    expect(ofRule(policyErrors(stack), 'COMFY-S3-001')).toEqual([
      '[COMFY-S3-001] S3 bucket public access block leaves block_public_policy, restrict_public_buckets unset or false at bad/Leaky',
    ]);
  });

  it('matches a block that names the bucket literally', () => {
    const stack = policyStack();
    new S3Bucket(stack, 'Literal', { bucket: 'literal-name' });
    new S3BucketPublicAccessBlock(stack, 'LiteralPab', { bucket: 'literal-name', blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(ofRule(policyErrors(stack), 'COMFY-S3-001')).toEqual([]);
  });
});

describe('COMFY-S3-002 default encryption', () => {
  it('fires on a bucket without an encryption configuration', () => {
    const stack = policyStack();
    new S3Bucket(stack, 'Plain', { bucket: 'plain' });
    expect(ofRule(policyErrors(stack), 'COMFY-S3-002')).toEqual([
      '[COMFY-S3-002] S3 bucket has no default encryption: add an aws_s3_bucket_server_side_encryption_configuration (SecureBucket does) at bad/Plain',
    ]);
  });

  it('does not count another bucket\'s encryption', () => {
    const stack = policyStack();
    bucketWith(stack, 'Encrypted');
    new S3Bucket(stack, 'Other', { bucket: 'other' });
    expect(ofRule(policyErrors(stack), 'COMFY-S3-002')).toEqual([expect.stringMatching(/ at bad\/Other$/)]);
  });
});

describe('COMFY-S3-003 TLS-only bucket policy', () => {
  it('fires on a bucket without a policy', () => {
    const stack = policyStack();
    bucketWith(stack, 'NoPolicy');
    expect(ofRule(policyErrors(stack), 'COMFY-S3-003')).toEqual([expect.stringMatching(/^\[COMFY-S3-003\] S3 bucket has no bucket policy.* at bad\/NoPolicy$/)]);
  });

  it('fires on a policy without the insecure-transport deny', () => {
    const stack = policyStack();
    bucketWith(stack, 'Open', (b) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: ROLE_ARN }, Action: 's3:GetObject', Resource: `${b.arn}/*` }] }),
    );
    expect(ofRule(policyErrors(stack), 'COMFY-S3-003')).toEqual([expect.stringMatching(/does not deny insecure transport.* at bad\/Open$/)]);
  });

  it('fires when the deny covers objects but not the bucket itself', () => {
    const stack = policyStack();
    bucketWith(stack, 'Half', (b) => {
      const policy = tlsDenyJson(b);
      policy.Statement[0].Resource = [`${b.arn}/*`];
      return JSON.stringify(policy);
    });
    expect(ofRule(policyErrors(stack), 'COMFY-S3-003')).toHaveLength(1);
  });

  it('accepts the deny written as JSON, as Fn.jsonencode, or by SecureBucket', () => {
    const stack = policyStack();
    bucketWith(stack, 'Json', (b) => JSON.stringify(tlsDenyJson(b)));
    bucketWith(stack, 'Encoded', (b) => Fn.jsonencode(tlsDenyJson(b)));
    new SecureBucket(stack, 'Secure', { bucketName: 'secure' });
    expect(policyErrors(stack)).toEqual([]);
  });
});

describe('COMFY-SG-001 open ingress', () => {
  it('fires on inline ingress, security group rules and VPC ingress rules open to the internet', () => {
    const stack = policyStack();
    new SecurityGroup(stack, 'Inline', { ingress: [{ fromPort: 22, toPort: 22, protocol: 'tcp', cidrBlocks: ['0.0.0.0/0'] }] });
    const group = new SecurityGroup(stack, 'Group', {});
    new SecurityGroupRule(stack, 'LegacyRule', { type: 'ingress', fromPort: 443, toPort: 443, protocol: 'tcp', ipv6CidrBlocks: ['::/0'], securityGroupId: group.id });
    new VpcSecurityGroupIngressRule(stack, 'VpcRule', { securityGroupId: group.id, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' });
    expect(ofRule(policyErrors(stack), 'COMFY-SG-001')).toEqual([
      expect.stringMatching(/^\[COMFY-SG-001\] security group ingress allows 0\.0\.0\.0\/0 on port 22 \(protocol tcp\).* at bad\/Inline$/),
      expect.stringMatching(/allows ::\/0 on port 443 .* at bad\/LegacyRule$/),
      expect.stringMatching(/allows 0\.0\.0\.0\/0 on ports 0-65535 \(protocol -1\).* at bad\/VpcRule$/),
    ]);
  });

  it('ignores egress and private CIDRs', () => {
    const stack = policyStack();
    const group = new SecurityGroup(stack, 'Group', {
      ingress: [{ fromPort: 443, toPort: 443, protocol: 'tcp', cidrBlocks: ['10.0.0.0/16'] }],
      egress: [{ fromPort: 0, toPort: 0, protocol: '-1', cidrBlocks: ['0.0.0.0/0'] }],
    });
    new SecurityGroupRule(stack, 'Egress', { type: 'egress', fromPort: 0, toPort: 0, protocol: '-1', cidrBlocks: ['0.0.0.0/0'], securityGroupId: group.id });
    expect(ofRule(policyErrors(stack), 'COMFY-SG-001')).toEqual([]);
  });

  it('accepts an allow-listed path and port range, and nothing wider', () => {
    const allowList = [{ constructPath: 'Public*', fromPort: 443, toPort: 443, reason: 'public HTTPS listener of a test fixture' }];
    const stack = policyStack();
    new SecurityGroup(stack, 'PublicAlb', { ingress: [{ fromPort: 443, toPort: 443, protocol: 'tcp', cidrBlocks: ['0.0.0.0/0'] }] });
    new SecurityGroup(stack, 'PublicSsh', { ingress: [{ fromPort: 22, toPort: 22, protocol: 'tcp', cidrBlocks: ['0.0.0.0/0'] }] });
    const errors = ofRule(policyErrors(stack, { rules: [new OpenIngressRule({ allowList })] }), 'COMFY-SG-001');
    expect(errors).toEqual([expect.stringMatching(/ at bad\/PublicSsh$/)]);
  });

  it('rejects an allow-list entry without a reason', () => {
    expect(() => new OpenIngressRule({ allowList: [{ constructPath: 'Alb', fromPort: 443, toPort: 443, reason: 'ok' }] })).toThrow(
      'open ingress allow-list entry Alb: reason must say why the listener faces the internet (at least 20 characters)',
    );
  });
});

describe('COMFY-IAM-001 wildcard actions', () => {
  it('fires on "*", service:* and NotAction in Allow statements of identity policies', () => {
    const stack = policyStack();
    identityDoc(stack, 'Broad', [
      { sid: 'AllS3', actions: ['s3:*'], resources: ['arn:aws:s3:::x/*'] },
      { sid: 'Everything', actions: ['*'], resources: ['arn:aws:s3:::x'] },
      { sid: 'AllBut', notActions: ['iam:*'], resources: ['arn:aws:s3:::x'] },
    ]);
    expect(ofRule(policyErrors(stack), 'COMFY-IAM-001')).toEqual([
      '[COMFY-IAM-001] policy document (used as identity policy) statement AllS3 allows wildcard action(s) s3:*: list the actions it needs at bad/Broad',
      '[COMFY-IAM-001] policy document (used as identity policy) statement Everything allows wildcard action(s) *: list the actions it needs at bad/Broad',
      '[COMFY-IAM-001] policy document (used as identity policy) statement AllBut allows everything except iam:* (NotAction): list the actions it needs at bad/Broad',
    ]);
  });

  it('fires on inline JSON and jsonencode policies, reported on the resource holding them', () => {
    const stack = policyStack();
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    const role = new IamRole(stack, 'Role', { assumeRolePolicy: trust });
    new IamRolePolicy(stack, 'JsonPolicy', { role: role.name, policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: 'arn:aws:ec2:*:*:instance/*' }] }) });
    new IamRolePolicy(stack, 'EncodedPolicy', { role: role.name, policy: Fn.jsonencode({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sqs:*'], Resource: [role.arn] }] }) });
    expect(ofRule(policyErrors(stack), 'COMFY-IAM-001')).toEqual([
      expect.stringMatching(/aws_iam_role_policy policy \(identity policy\) statement 1 allows wildcard action\(s\) ec2:\*.* at bad\/JsonPolicy$/),
      expect.stringMatching(/allows wildcard action\(s\) sqs:\*.* at bad\/EncodedPolicy$/),
    ]);
  });

  it('accepts Deny wildcards and the default key policy delegating to this account, not to anyone else', () => {
    const stack = policyStack();
    const account = new DataAwsCallerIdentity(stack, 'Account').accountId;
    const keyPolicy = (id: string, principal: string) =>
      new DataAwsIamPolicyDocument(stack, id, { statement: [{ actions: ['kms:*'], resources: ['*'], principals: [{ type: 'AWS', identifiers: [principal] }] }] });
    new KmsKey(stack, 'OwnKey', { policy: keyPolicy('OwnKeyPolicy', `arn:aws:iam::${account}:root`).json });
    new KmsKey(stack, 'SharedKey', { policy: keyPolicy('SharedKeyPolicy', 'arn:aws:iam::999999999999:root').json });
    identityDoc(stack, 'DenyAll', [{ effect: 'Deny', actions: ['*'], resources: ['*'] }]);
    expect(ofRule(policyErrors(stack), 'COMFY-IAM-001')).toEqual([
      '[COMFY-IAM-001] policy document (used as resource policy) statement 1 allows wildcard action(s) kms:*: list the actions it needs at bad/SharedKeyPolicy',
    ]);
  });
});

describe('COMFY-IAM-002 "*" resources', () => {
  it('fires on a scopable action granted on "*" in an identity policy', () => {
    const stack = policyStack();
    identityDoc(stack, 'Unscoped', [{ sid: 'ReadModels', actions: ['s3:GetObject', 'ec2:DescribeInstances'], resources: ['*'] }]);
    expect(ofRule(policyErrors(stack), 'COMFY-IAM-002')).toEqual([
      expect.stringMatching(/^\[COMFY-IAM-002\] policy document \(used as identity policy\) statement ReadModels grants s3:GetObject on "\*".* at bad\/Unscoped$/),
    ]);
  });

  it('accepts actions that only take "*", tag-scoped statements, and "*" in resource policies', () => {
    const stack = policyStack();
    identityDoc(stack, 'Describe', [{ actions: ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'pricing:GetProducts', 'ssm:ListCommandInvocations'], resources: ['*'] }]);
    identityDoc(stack, 'Abac', [
      { actions: ['ec2:TerminateInstances'], resources: ['*'], condition: [{ test: 'StringEquals', variable: 'aws:ResourceTag/karpenter.sh/nodepool', values: ['gpu'] }] },
    ]);
    const queuePolicy = new DataAwsIamPolicyDocument(stack, 'QueuePolicy', {
      statement: [{ actions: ['sqs:SendMessage'], resources: ['*'], principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }] }],
    });
    new SqsQueue(stack, 'Queue', { policy: queuePolicy.json });
    expect(ofRule(policyErrors(stack), 'COMFY-IAM-002')).toEqual([]);
  });

  it('fires on account-wide ARN wildcards (arn:...:<service>:<region>:<account>:*) on mutating actions, not on reads or narrower ARNs', () => {
    const stack = policyStack();
    const accountWide = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:*';
    identityDoc(stack, 'AccountWide', [
      { sid: 'Listeners', actions: ['elasticloadbalancing:ModifyListener', 'elasticloadbalancing:DescribeListeners'], resources: [accountWide] },
      { sid: 'AllBuckets', actions: ['s3:PutObject'], resources: ['arn:${data.aws_partition.Partition.partition}:s3:::*'] },
      { sid: 'Reads', actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:GetTrustStoreCaCertificatesBundle', 'ec2:List*'], resources: [accountWide] },
      { sid: 'Named', actions: ['elasticloadbalancing:ModifyListener'], resources: ['arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/edge/0123/4567'] },
      {
        sid: 'Tagged',
        actions: ['elasticloadbalancing:ModifyListener'],
        resources: [accountWide],
        condition: [{ test: 'StringEquals', variable: 'aws:ResourceTag/elbv2.k8s.aws/cluster', values: ['comfyui-dev'] }],
      },
    ]);
    expect(ofRule(policyErrors(stack), 'COMFY-IAM-002')).toEqual([
      expect.stringMatching(/statement Listeners grants elasticloadbalancing:ModifyListener on every resource of the account \(arn:aws:elasticloadbalancing:us-west-2:123456789012:\*\).* at bad\/AccountWide$/),
      expect.stringMatching(/statement AllBuckets grants s3:PutObject on every resource of the account .* at bad\/AccountWide$/),
    ]);
  });

  it('does not treat a Null tag condition as scoping', () => {
    const stack = policyStack();
    identityDoc(stack, 'NullTag', [
      { actions: ['ec2:TerminateInstances'], resources: ['*'], condition: [{ test: 'Null', variable: 'aws:ResourceTag/owner', values: ['false'] }] },
    ]);
    expect(ofRule(policyErrors(stack), 'COMFY-IAM-002')).toHaveLength(1);
  });
});

describe('COMFY-IAM-003 over-broad managed policies', () => {
  it('fires on AdministratorAccess and *FullAccess attachments, not on narrow managed policies', () => {
    const stack = policyStack();
    const role = new IamRole(stack, 'Role', { assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) });
    new IamRolePolicyAttachment(stack, 'Admin', { role: role.name, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' });
    new IamRolePolicyAttachment(stack, 'S3Full', { role: role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonS3FullAccess' });
    new IamRolePolicyAttachment(stack, 'Ssm', { role: role.name, policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' });
    expect(ofRule(policyErrors(stack), 'COMFY-IAM-003')).toEqual([
      expect.stringMatching(/^\[COMFY-IAM-003\] attaches the AWS managed policy arn:aws:iam::aws:policy\/AdministratorAccess.* at bad\/Admin$/),
      expect.stringMatching(/AmazonS3FullAccess.* at bad\/S3Full$/),
    ]);
  });
});

describe('COMFY-IAM-004 unreadable policies', () => {
  it('fires on a policy the checks cannot read', () => {
    const stack = policyStack();
    const external = new TerraformVariable(stack, 'external_policy', { type: 'string' });
    new IamPolicy(stack, 'Opaque', { name: 'opaque', policy: external.stringValue });
    expect(ofRule(policyErrors(stack), 'COMFY-IAM-004')).toEqual([
      expect.stringMatching(/^\[COMFY-IAM-004\] aws_iam_policy policy cannot be checked because .*aws_iam_policy_document.* at bad\/Opaque$/),
    ]);
  });
});

describe('COMFY-EKS-001 secrets encryption', () => {
  it('fires on a cluster without encryption_config and accepts one with a KMS key for secrets', () => {
    const stack = policyStack();
    new EksCluster(stack, 'Plain', { name: 'plain', roleArn: ROLE_ARN, vpcConfig: VPC_CONFIG });
    const key = new KmsKey(stack, 'Key', { enableKeyRotation: true });
    new EksCluster(stack, 'Encrypted', { name: 'encrypted', roleArn: ROLE_ARN, vpcConfig: VPC_CONFIG, encryptionConfig: { resources: ['secrets'], provider: { keyArn: key.arn } } });
    expect(ofRule(policyErrors(stack), 'COMFY-EKS-001')).toEqual([
      '[COMFY-EKS-001] EKS cluster does not encrypt Kubernetes secrets: set encryptionConfig { resources: ["secrets"], provider: { keyArn } } with a customer-managed KMS key at bad/Plain',
    ]);
  });
});

describe('COMFY-LOG-001 log group retention', () => {
  it('fires on log groups without retention or with 0 (never expire)', () => {
    const stack = policyStack();
    new CloudwatchLogGroup(stack, 'Forever', { name: '/x/forever' });
    new CloudwatchLogGroup(stack, 'Zero', { name: '/x/zero', retentionInDays: 0 });
    new CloudwatchLogGroup(stack, 'Month', { name: '/x/month', retentionInDays: 30 });
    expect(ofRule(policyErrors(stack), 'COMFY-LOG-001')).toEqual([
      '[COMFY-LOG-001] log group has no retention_in_days, so its logs never expire: set retentionInDays from the config at bad/Forever',
      expect.stringMatching(/ at bad\/Zero$/),
    ]);
  });
});

describe('COMFY-LOG-002 implicit log groups', () => {
  const lambda = (stack: TerraformStack, id: string, extra = {}) =>
    new LambdaFunction(stack, id, { functionName: id.toLowerCase(), role: ROLE_ARN, runtime: 'nodejs22.x', handler: 'index.handler', filename: 'fn.zip', ...extra });

  it('fires on a Lambda function and EKS control-plane logs without a Terraform-owned log group', () => {
    const stack = policyStack();
    lambda(stack, 'Orphan');
    new EksCluster(stack, 'Cluster', { name: 'c1', roleArn: ROLE_ARN, vpcConfig: VPC_CONFIG, enabledClusterLogTypes: ['api', 'audit'] });
    expect(ofRule(policyErrors(stack), 'COMFY-LOG-002')).toEqual([
      expect.stringMatching(/^\[COMFY-LOG-002\] Lambda function logs to \/aws\/lambda\/orphan, which Terraform does not create.* at bad\/Orphan$/),
      expect.stringMatching(/EKS control-plane logs go to \/aws\/eks\/c1\/cluster.* at bad\/Cluster$/),
    ]);
  });

  it('accepts the conventional log group, named literally or by reference, or an explicit logging_config', () => {
    const stack = policyStack();
    new CloudwatchLogGroup(stack, 'SyncLogs', { name: '/aws/lambda/sync', retentionInDays: 30 });
    lambda(stack, 'Sync');
    const custom = new CloudwatchLogGroup(stack, 'CustomLogs', { name: '/custom', retentionInDays: 30 });
    lambda(stack, 'Custom', { loggingConfig: { logFormat: 'JSON', logGroup: custom.name } });
    // names built from the function's / cluster's own attribute count too
    const fn = lambda(stack, 'ByReference');
    new CloudwatchLogGroup(stack, 'ByReferenceLogs', { name: `/aws/lambda/${fn.functionName}`, retentionInDays: 30 });
    const cluster = new EksCluster(stack, 'Cluster', { name: 'c2', roleArn: ROLE_ARN, vpcConfig: VPC_CONFIG, enabledClusterLogTypes: ['api'] });
    new CloudwatchLogGroup(stack, 'ClusterLogs', { name: `/aws/eks/${cluster.name}/cluster`, retentionInDays: 30 });
    expect(ofRule(policyErrors(stack), 'COMFY-LOG-002')).toEqual([]);
  });
});

describe('COMFY-TAG-001 required tags', () => {
  it('fires on taggable resources whose provider has no default tags', () => {
    const stack = policyStack({ defaultTags: null });
    new CloudwatchLogGroup(stack, 'Untagged', { name: '/x', retentionInDays: 30 });
    new CloudwatchLogGroup(stack, 'SelfTagged', { name: '/y', retentionInDays: 30, tags: { Project: 'p', Environment: 'e', ManagedBy: 'cdktf' } });
    expect(ofRule(policyErrors(stack), 'COMFY-TAG-001')).toEqual([
      '[COMFY-TAG-001] resource is missing required tag(s) Project, Environment, ManagedBy: provider aws has no such default_tags; give it defaultTags: [{ tags: defaultTags(config) }] at bad/Untagged',
    ]);
  });

  it('checks the aliased provider a resource uses, and exempts resources without tags', () => {
    const stack = policyStack();
    const usEast1 = new AwsProvider(stack, 'us-east-1', { region: 'us-east-1', alias: 'us_east_1', defaultTags: [{ tags: { Project: 'comfyui' } }] });
    new CloudwatchLogGroup(stack, 'Edge', { name: '/edge', retentionInDays: 30, provider: usEast1 });
    // aws_s3_bucket_public_access_block has no tags argument
    new S3BucketPublicAccessBlock(stack, 'NotTaggable', { bucket: 'x', provider: usEast1, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(ofRule(policyErrors(stack), 'COMFY-TAG-001')).toEqual([
      expect.stringMatching(/^\[COMFY-TAG-001\] resource is missing required tag\(s\) Environment, ManagedBy: provider aws\.us_east_1 has no such default_tags.* at bad\/Edge$/),
    ]);
  });
});

describe('the PlatformPolicy aspect', () => {
  it('adds each finding once however often the stack is synthesized', () => {
    const stack = policyStack();
    new CloudwatchLogGroup(stack, 'Forever', { name: '/x' });
    policyErrors(stack);
    expect(ofRule(policyErrors(stack), 'COMFY-LOG-001')).toHaveLength(1);
  });

  it('rejects rule sets with malformed or duplicate ids', () => {
    const rule = { id: 'COMFY-X-001', summary: 's', check: () => [] };
    expect(() => new PlatformPolicy({ rules: [rule, rule] })).toThrow('policy rule id COMFY-X-001 is used twice');
    expect(() => new PlatformPolicy({ rules: [{ ...rule, id: 'S3-1' }] })).toThrow('policy rule id "S3-1" must look like COMFY-S3-001');
  });
});
