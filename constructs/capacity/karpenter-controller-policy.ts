/**
 * The Karpenter controller's IAM permissions, following Karpenter's
 * documented v1 controller policy (KarpenterControllerPolicy statements of
 * the getting-started cloudformation.yaml, reference/cloudformation for
 * v1.15) with three deliberate differences:
 *
 * - The GPU node instance profile is Terraform-owned and named in the
 *   EC2NodeClass (`instanceProfile`), so the statements that let Karpenter
 *   create, tag, re-role and delete instance profiles are left out; only
 *   reading that one profile and listing profiles (its garbage collector
 *   lists `/karpenter/...` on a timer) remain.
 * - RebootInstances (only used by the RebootForRepair feature gate) and
 *   the zonal-shift read (only with settings.enableZonalShift) are left out
 *   because neither is enabled.
 * - Resources carry the account id where the upstream uses `*`.
 *
 * Every action is named; there is no wildcard action.
 */
import { DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';

export interface KarpenterControllerPolicyProps {
  /** AWS partition (aws, aws-cn, aws-us-gov). */
  readonly partition: string;
  /** Region of the cluster. */
  readonly region: string;
  /** Account id. */
  readonly accountId: string;
  /** EKS cluster name (tag scoping). */
  readonly clusterName: string;
  /** EKS cluster ARN (eks:DescribeCluster). */
  readonly clusterArn: string;
  /** ARN of the role GPU nodes run with (iam:PassRole). */
  readonly nodeRoleArn: string;
  /** ARN of the Terraform-owned instance profile of GPU nodes. */
  readonly nodeInstanceProfileArn: string;
  /** ARN of the interruption queue. */
  readonly interruptionQueueArn: string;
}

/** The controller policy statements. */
export function karpenterControllerStatements(p: KarpenterControllerPolicyProps): DataAwsIamPolicyDocumentStatement[] {
  const ec2 = (resource: string) => `arn:${p.partition}:ec2:${p.region}:${p.accountId}:${resource}`;
  const ec2Public = (resource: string) => `arn:${p.partition}:ec2:${p.region}::${resource}`;
  const clusterTag = `kubernetes.io/cluster/${p.clusterName}`;
  const launchedResources = [
    ec2('fleet/*'),
    ec2('instance/*'),
    ec2('volume/*'),
    ec2('network-interface/*'),
    ec2('launch-template/*'),
    ec2('spot-instances-request/*'),
  ];
  return [
    {
      sid: 'AllowScopedEC2InstanceAccessActions',
      effect: 'Allow',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
      resources: [
        ec2Public('image/*'),
        ec2Public('snapshot/*'),
        ec2('security-group/*'),
        ec2('subnet/*'),
        ec2('capacity-reservation/*'),
        ec2('placement-group/*'),
      ],
    },
    {
      sid: 'AllowScopedEC2LaunchTemplateAccessActions',
      effect: 'Allow',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
      resources: [ec2('launch-template/*')],
      condition: [
        { test: 'StringEquals', variable: `aws:ResourceTag/${clusterTag}`, values: ['owned'] },
        { test: 'StringLike', variable: 'aws:ResourceTag/karpenter.sh/nodepool', values: ['*'] },
      ],
    },
    {
      sid: 'AllowScopedEC2InstanceActionsWithTags',
      effect: 'Allow',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
      resources: launchedResources,
      condition: [
        { test: 'StringEquals', variable: `aws:RequestTag/${clusterTag}`, values: ['owned'] },
        { test: 'StringEquals', variable: 'aws:RequestTag/eks:eks-cluster-name', values: [p.clusterName] },
        { test: 'StringLike', variable: 'aws:RequestTag/karpenter.sh/nodepool', values: ['*'] },
      ],
    },
    {
      sid: 'AllowScopedResourceCreationTagging',
      effect: 'Allow',
      actions: ['ec2:CreateTags'],
      resources: launchedResources,
      condition: [
        { test: 'StringEquals', variable: `aws:RequestTag/${clusterTag}`, values: ['owned'] },
        { test: 'StringEquals', variable: 'aws:RequestTag/eks:eks-cluster-name', values: [p.clusterName] },
        { test: 'StringEquals', variable: 'ec2:CreateAction', values: ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'] },
        { test: 'StringLike', variable: 'aws:RequestTag/karpenter.sh/nodepool', values: ['*'] },
      ],
    },
    {
      sid: 'AllowScopedResourceTagging',
      effect: 'Allow',
      actions: ['ec2:CreateTags'],
      resources: [ec2('instance/*')],
      condition: [
        { test: 'StringEquals', variable: `aws:ResourceTag/${clusterTag}`, values: ['owned'] },
        { test: 'StringLike', variable: 'aws:ResourceTag/karpenter.sh/nodepool', values: ['*'] },
        { test: 'StringEqualsIfExists', variable: 'aws:RequestTag/eks:eks-cluster-name', values: [p.clusterName] },
        { test: 'ForAllValues:StringEquals', variable: 'aws:TagKeys', values: ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'] },
      ],
    },
    {
      sid: 'AllowScopedDeletion',
      effect: 'Allow',
      actions: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
      resources: [ec2('instance/*'), ec2('launch-template/*')],
      condition: [
        { test: 'StringEquals', variable: `aws:ResourceTag/${clusterTag}`, values: ['owned'] },
        { test: 'StringLike', variable: 'aws:ResourceTag/karpenter.sh/nodepool', values: ['*'] },
      ],
    },
    {
      sid: 'AllowPassingInstanceRole',
      effect: 'Allow',
      actions: ['iam:PassRole'],
      resources: [p.nodeRoleArn],
      condition: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['ec2.amazonaws.com', 'ec2.amazonaws.com.cn'] }],
    },
    {
      sid: 'AllowInstanceProfileReadActions',
      effect: 'Allow',
      actions: ['iam:GetInstanceProfile'],
      resources: [p.nodeInstanceProfileArn],
    },
    {
      // ListInstanceProfiles has no resource-level filter beyond the account.
      sid: 'AllowInstanceProfileListAction',
      effect: 'Allow',
      actions: ['iam:ListInstanceProfiles'],
      resources: [`arn:${p.partition}:iam::${p.accountId}:instance-profile/*`],
    },
    {
      sid: 'AllowAPIServerEndpointDiscovery',
      effect: 'Allow',
      actions: ['eks:DescribeCluster'],
      resources: [p.clusterArn],
    },
    {
      sid: 'AllowInterruptionQueueActions',
      effect: 'Allow',
      actions: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
      resources: [p.interruptionQueueArn],
    },
    {
      // Describe calls support no resource-level permissions; the region condition bounds them.
      sid: 'AllowRegionalReadActions',
      effect: 'Allow',
      actions: [
        'ec2:DescribeCapacityReservations',
        'ec2:DescribeImages',
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceStatus',
        'ec2:DescribeInstanceTypeOfferings',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeLaunchTemplates',
        'ec2:DescribePlacementGroups',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSpotPriceHistory',
        'ec2:DescribeSubnets',
      ],
      resources: ['*'],
      condition: [{ test: 'StringEquals', variable: 'aws:RequestedRegion', values: [p.region] }],
    },
    {
      sid: 'AllowSSMReadActions',
      effect: 'Allow',
      actions: ['ssm:GetParameter'],
      resources: [`arn:${p.partition}:ssm:${p.region}::parameter/aws/service/*`],
    },
    {
      // The Price List API has no resources to scope to.
      sid: 'AllowPricingReadActions',
      effect: 'Allow',
      actions: ['pricing:GetProducts'],
      resources: ['*'],
    },
  ];
}
