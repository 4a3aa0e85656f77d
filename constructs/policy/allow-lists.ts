/**
 * The documented exceptions of the synth-time policy. Each list says what it
 * exempts and why; widening one is a reviewed change to this file.
 */

/** Tags every AWS resource must carry (config/naming.ts defaultTags puts them in the provider's default_tags). */
export const REQUIRED_TAG_KEYS: readonly string[] = ['Project', 'Environment', 'ManagedBy'];

/** One security group ingress rule allowed to accept 0.0.0.0/0 or ::/0. */
export interface OpenIngressException {
  /** Construct path of the security group (or rule) relative to its stack; `*` matches one path segment. */
  readonly constructPath: string;
  /** Lowest port of the allowed range. */
  readonly fromPort: number;
  /** Highest port of the allowed range. */
  readonly toPort: number;
  /** Why this listener must face the whole internet. */
  readonly reason: string;
}

/**
 * Empty on purpose: nothing in the platform accepts traffic from the internet
 * directly. Browsers reach CloudFront, CloudFront reaches the internal ALB
 * through a VPC origin, and the ALB reaches pods by security group, so no
 * security group needs an open CIDR. Add an entry only for a listener that
 * must be public, with its reason.
 */
export const OPEN_INGRESS_ALLOW_LIST: readonly OpenIngressException[] = [];

/**
 * IAM actions that accept only `"Resource": "*"` (the Service Authorization
 * Reference lists no resource type for them), so a `*` resource is not a
 * finding for these. Patterns are matched case-insensitively; `*` in a
 * pattern matches any characters. Anything not listed is assumed to support
 * resource scoping.
 */
export const UNSCOPED_ACTIONS: readonly { readonly pattern: string; readonly why: string }[] = [
  { pattern: 'ec2:Describe*', why: 'EC2 Describe* calls have no resource-level permissions (Karpenter, LB controller, node bootstrap)' },
  { pattern: 'elasticloadbalancing:Describe*', why: 'ELB Describe* calls have no resource-level permissions (LB controller)' },
  { pattern: 'autoscaling:Describe*', why: 'Auto Scaling Describe* calls have no resource-level permissions' },
  { pattern: 'sts:GetCallerIdentity', why: 'returns the caller itself; no resource' },
  { pattern: 'ecr:GetAuthorizationToken', why: 'registry-wide token; no resource' },
  { pattern: 'pricing:GetProducts', why: 'the Price List API has no resources (Karpenter pricing)' },
  { pattern: 'pricing:DescribeServices', why: 'the Price List API has no resources' },
  { pattern: 'pricing:GetAttributeValues', why: 'the Price List API has no resources' },
  { pattern: 'eks:ListClusters', why: 'account-wide listing' },
  { pattern: 'eks:DescribeAddonVersions', why: 'catalogue lookup; no resource' },
  { pattern: 'ssm:DescribeInstanceInformation', why: 'fleet-wide listing of managed nodes (model-sync status)' },
  { pattern: 'ssm:ListCommands', why: 'account-wide listing of Run Command invocations' },
  { pattern: 'ssm:ListCommandInvocations', why: 'account-wide listing of Run Command invocations' },
  { pattern: 'ssm:GetCommandInvocation', why: 'Run Command results have no resource ARN' },
  { pattern: 'ssmmessages:Create*Channel', why: 'Session Manager channels have no resource ARN (node agent)' },
  { pattern: 'ssmmessages:Open*Channel', why: 'Session Manager channels have no resource ARN (node agent)' },
  { pattern: 'ec2messages:*Message*', why: 'the SSM agent message channel has no resource ARN' },
  { pattern: 'ec2messages:GetEndpoint', why: 'the SSM agent message channel has no resource ARN' },
  { pattern: 'cloudwatch:PutMetricData', why: 'metrics have no resource ARN (use a cloudwatch:namespace condition)' },
  { pattern: 'cloudwatch:GetMetricData', why: 'metrics have no resource ARN' },
  { pattern: 'cloudwatch:ListMetrics', why: 'metrics have no resource ARN' },
  { pattern: 'xray:PutTraceSegments', why: 'X-Ray segments have no resource ARN' },
  { pattern: 'xray:PutTelemetryRecords', why: 'X-Ray telemetry has no resource ARN' },
  { pattern: 'kms:ListAliases', why: 'account-wide listing' },
  { pattern: 'kms:ListKeys', why: 'account-wide listing' },
  { pattern: 'kms:CreateKey', why: 'the key does not exist yet' },
  { pattern: 's3:ListAllMyBuckets', why: 'account-wide listing' },
  { pattern: 'sqs:ListQueues', why: 'account-wide listing' },
  { pattern: 'acm:ListCertificates', why: 'account-wide listing' },
  { pattern: 'shield:GetSubscriptionState', why: 'account-wide subscription state; no resource (LB controller)' },
  { pattern: 'ec2:GetCoipPoolUsage', why: 'read-only Outposts pool usage; the LB controller documents it on * (no resource-level permissions)' },
  { pattern: 'ec2:GetSecurityGroupsForVpc', why: 'read-only listing of a VPC\'s groups; the LB controller documents it on * (no resource-level permissions)' },
  { pattern: 'tag:GetResources', why: 'the tagging API searches across resources' },
];

/**
 * AWS managed policies too broad to attach to any role of the platform:
 * each grants every action of one or more services.
 */
export const OVERBROAD_MANAGED_POLICIES: RegExp = /^arn:[^:]+:iam::aws:policy\/(?:[\w+=,.@-]+\/)*(AdministratorAccess|PowerUserAccess|IAMFullAccess|[\w-]*FullAccess[\w-]*)$/;
