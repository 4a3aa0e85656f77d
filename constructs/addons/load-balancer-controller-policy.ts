/**
 * The AWS Load Balancer Controller's IAM permissions, in two modes
 * (`karpenter.loadBalancerControllerPermissions`):
 *
 * - `targetGroupBinding` (default, the platform's exposure): the ALB,
 *   listener, rules and security groups are Terraform-owned, so the
 *   controller may only register and deregister pod IPs in the one target
 *   group, plus read-only describes. It cannot touch the listener or its
 *   rules (the origin-header rule, Cognito rules), nor any security group.
 * - `ingress` (the chart's exposure.mode ingress): the controller's documented
 *   policy (docs/install/iam_policy.json of kubernetes-sigs/aws-load-balancer-
 *   controller, unchanged up to v3.5.0), with every mutation conditioned on
 *   the `elbv2.k8s.aws/cluster` tag equalling this cluster's name (upstream
 *   only requires it to exist, or grants listener and rule changes on `*`),
 *   and security-group ingress limited to the node security group and groups
 *   the controller created for this cluster.
 *
 * Read-only Describe/Get calls keep `Resource: *`, as upstream. No action is
 * a wildcard and no mutation names an account-wide ARN wildcard.
 */
import { DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';

export interface LoadBalancerControllerPolicyProps {
  /** AWS partition. */
  readonly partition: string;
  /** Region of the cluster. */
  readonly region: string;
  /** Account id. */
  readonly accountId: string;
  /** EKS cluster name: the value of the `elbv2.k8s.aws/cluster` tag. */
  readonly clusterName: string;
  /** `targetGroupBinding`: register into the one target group; `ingress`: manage load balancers tagged for this cluster. */
  readonly mode: 'targetGroupBinding' | 'ingress';
  /** The Terraform-owned target group pods register into. */
  readonly targetGroupArn: string;
  /** Node security group (ingress mode opens it to the load balancers it creates). */
  readonly nodeSecurityGroupId: string;
  /** VPC the controller creates security groups in (ingress mode). */
  readonly vpcId: string;
}

const CLUSTER_TAG = 'elbv2.k8s.aws/cluster';

/** Namespace the controller runs in (its Pod Identity association and its Helm release). */
export const LOAD_BALANCER_CONTROLLER_NAMESPACE = 'kube-system';

/** Read-only calls both modes make (they support only `*`, or read nothing secret). */
const DESCRIBE_ACTIONS = [
  'ec2:DescribeAccountAttributes',
  'ec2:DescribeAddresses',
  'ec2:DescribeAvailabilityZones',
  'ec2:DescribeInternetGateways',
  'ec2:DescribeVpcs',
  'ec2:DescribeVpcPeeringConnections',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeInstances',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeTags',
  'ec2:GetCoipPoolUsage',
  'ec2:DescribeCoipPools',
  'ec2:GetSecurityGroupsForVpc',
  'ec2:DescribeIpamPools',
  'ec2:DescribeRouteTables',
  'elasticloadbalancing:DescribeLoadBalancers',
  'elasticloadbalancing:DescribeLoadBalancerAttributes',
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeListenerCertificates',
  'elasticloadbalancing:DescribeSSLPolicies',
  'elasticloadbalancing:DescribeRules',
  'elasticloadbalancing:DescribeTargetGroups',
  'elasticloadbalancing:DescribeTargetGroupAttributes',
  'elasticloadbalancing:DescribeTargetHealth',
  'elasticloadbalancing:DescribeTags',
  'elasticloadbalancing:DescribeTrustStores',
  'elasticloadbalancing:DescribeListenerAttributes',
  'elasticloadbalancing:DescribeCapacityReservation',
      ];

/** The controller policy statements. */
export function loadBalancerControllerStatements(p: LoadBalancerControllerPolicyProps): DataAwsIamPolicyDocumentStatement[] {
  const arn = (service: string, resource: string) => `arn:${p.partition}:${service}:${p.region}:${p.accountId}:${resource}`;
  const securityGroups = arn('ec2', 'security-group/*');
  const listenersAndRules = [
    arn('elasticloadbalancing', 'listener/net/*/*/*'),
    arn('elasticloadbalancing', 'listener/app/*/*/*'),
    arn('elasticloadbalancing', 'listener-rule/net/*/*/*'),
    arn('elasticloadbalancing', 'listener-rule/app/*/*/*'),
  ];
  const targetGroups = arn('elasticloadbalancing', 'targetgroup/*/*');
  const loadBalancers = [arn('elasticloadbalancing', 'loadbalancer/net/*/*'), arn('elasticloadbalancing', 'loadbalancer/app/*/*')];
  const ownedByCluster = { test: 'StringEquals', variable: `aws:ResourceTag/${CLUSTER_TAG}`, values: [p.clusterName] };
  const requestedForCluster = { test: 'StringEquals', variable: `aws:RequestTag/${CLUSTER_TAG}`, values: [p.clusterName] };
  const notChangingClusterTag = { test: 'Null', variable: `aws:RequestTag/${CLUSTER_TAG}`, values: ['true'] };
  const describe: DataAwsIamPolicyDocumentStatement = { sid: 'Describe', effect: 'Allow', actions: [...DESCRIBE_ACTIONS], resources: ['*'] };
  if (p.mode === 'targetGroupBinding') {
    return [
      describe,
      {
        // TargetGroupBinding: pod IPs in and out of the Terraform-owned target group, nothing else.
        sid: 'RegisterTargets',
        effect: 'Allow',
        actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
        resources: [p.targetGroupArn],
      },
    ];
  }
  return [
    {
      sid: 'CreateElbServiceLinkedRole',
      effect: 'Allow',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [`arn:${p.partition}:iam::${p.accountId}:role/aws-service-role/elasticloadbalancing.amazonaws.com/*`],
      condition: [{ test: 'StringEquals', variable: 'iam:AWSServiceName', values: ['elasticloadbalancing.amazonaws.com'] }],
    },
    describe,
    // Ingress-mode integrations (certificates, Cognito, WAF, Shield), each kept to
    // this account's resources of that kind. WAF Classic (waf-regional) is left out:
    // AWS retired it. The default exposure (TargetGroupBinding) uses none of these.
    {
      sid: 'IngressCertificates',
      effect: 'Allow',
      actions: ['acm:DescribeCertificate'],
      resources: [arn('acm', 'certificate/*')],
    },
    {
      sid: 'IngressServerCertificates',
      effect: 'Allow',
      actions: ['iam:ListServerCertificates', 'iam:GetServerCertificate'],
      resources: [`arn:${p.partition}:iam::${p.accountId}:server-certificate/*`],
    },
    {
      sid: 'IngressCognito',
      effect: 'Allow',
      actions: ['cognito-idp:DescribeUserPoolClient'],
      resources: [arn('cognito-idp', 'userpool/*')],
    },
    {
      sid: 'IngressWebAcl',
      effect: 'Allow',
      actions: ['wafv2:GetWebACL', 'wafv2:GetWebACLForResource', 'wafv2:AssociateWebACL', 'wafv2:DisassociateWebACL'],
      resources: [arn('wafv2', 'regional/webacl/*/*'), arn('elasticloadbalancing', 'loadbalancer/app/*/*')],
    },
    {
      sid: 'IngressShield',
      effect: 'Allow',
      actions: ['shield:DescribeProtection', 'shield:CreateProtection', 'shield:DeleteProtection'],
      resources: [`arn:${p.partition}:shield::${p.accountId}:protection/*`, arn('elasticloadbalancing', 'loadbalancer/app/*/*')],
    },
    {
      sid: 'IngressShieldSubscription',
      effect: 'Allow',
      actions: ['shield:GetSubscriptionState', 'acm:ListCertificates'],
      resources: ['*'],
    },
    {
      // Opens the node security group to the load balancers' groups (groups it owns: DeleteOwnedSecurityGroups).
      sid: 'ManageSecurityGroupIngress',
      effect: 'Allow',
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      resources: [arn('ec2', `security-group/${p.nodeSecurityGroupId}`)],
    },
    {
      sid: 'CreateSecurityGroupInVpc',
      effect: 'Allow',
      actions: ['ec2:CreateSecurityGroup'],
      resources: [arn('ec2', `vpc/${p.vpcId}`)],
    },
    {
      sid: 'CreateTaggedSecurityGroup',
      effect: 'Allow',
      actions: ['ec2:CreateSecurityGroup'],
      resources: [securityGroups],
      condition: [requestedForCluster],
    },
    {
      sid: 'TagSecurityGroupOnCreate',
      effect: 'Allow',
      actions: ['ec2:CreateTags'],
      resources: [securityGroups],
      condition: [{ test: 'StringEquals', variable: 'ec2:CreateAction', values: ['CreateSecurityGroup'] }, requestedForCluster],
    },
    {
      sid: 'RetagOwnedSecurityGroups',
      effect: 'Allow',
      actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
      resources: [securityGroups],
      condition: [notChangingClusterTag, ownedByCluster],
    },
    {
      sid: 'DeleteOwnedSecurityGroups',
      effect: 'Allow',
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
      resources: [securityGroups],
      condition: [ownedByCluster],
    },
    {
      sid: 'CreateTaggedLoadBalancers',
      effect: 'Allow',
      actions: ['elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'],
      resources: [...loadBalancers, targetGroups],
      condition: [requestedForCluster],
    },
    {
      // Listeners hang off load balancers, rules off listeners: both tagged for this cluster by the controller.
      sid: 'ManageListenersAndRules',
      effect: 'Allow',
      actions: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:CreateRule', 'elasticloadbalancing:DeleteRule'],
      resources: [...loadBalancers, ...listenersAndRules],
      condition: [ownedByCluster],
    },
    {
      sid: 'RetagOwnedLoadBalancers',
      effect: 'Allow',
      actions: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
      resources: [targetGroups, ...loadBalancers],
      condition: [notChangingClusterTag, ownedByCluster],
    },
    {
      sid: 'TagListenersAndRules',
      effect: 'Allow',
      actions: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
      resources: listenersAndRules,
      condition: [ownedByCluster],
    },
    {
      sid: 'TagListenersAndRulesOnCreate',
      effect: 'Allow',
      actions: ['elasticloadbalancing:AddTags'],
      resources: listenersAndRules,
      condition: [{ test: 'StringEquals', variable: 'elasticloadbalancing:CreateAction', values: ['CreateListener', 'CreateRule'] }, requestedForCluster],
    },
    {
      sid: 'ModifyOwnedLoadBalancers',
      effect: 'Allow',
      actions: [
        'elasticloadbalancing:ModifyLoadBalancerAttributes',
        'elasticloadbalancing:SetIpAddressType',
        'elasticloadbalancing:SetSecurityGroups',
        'elasticloadbalancing:SetSubnets',
        'elasticloadbalancing:DeleteLoadBalancer',
        'elasticloadbalancing:ModifyTargetGroup',
        'elasticloadbalancing:ModifyTargetGroupAttributes',
        'elasticloadbalancing:DeleteTargetGroup',
        'elasticloadbalancing:ModifyListenerAttributes',
        'elasticloadbalancing:ModifyCapacityReservation',
        'elasticloadbalancing:ModifyIpPools',
      ],
      resources: [targetGroups, ...loadBalancers],
      condition: [ownedByCluster],
    },
    {
      sid: 'TagOnCreate',
      effect: 'Allow',
      actions: ['elasticloadbalancing:AddTags'],
      resources: [targetGroups, ...loadBalancers],
      condition: [{ test: 'StringEquals', variable: 'elasticloadbalancing:CreateAction', values: ['CreateTargetGroup', 'CreateLoadBalancer'] }, requestedForCluster],
    },
    {
      sid: 'RegisterTargets',
      effect: 'Allow',
      actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      resources: [targetGroups],
      condition: [ownedByCluster],
    },
    {
      sid: 'ManageListenerSettings',
      effect: 'Allow',
      actions: [
        'elasticloadbalancing:SetWebAcl',
        'elasticloadbalancing:ModifyListener',
        'elasticloadbalancing:AddListenerCertificates',
        'elasticloadbalancing:RemoveListenerCertificates',
        'elasticloadbalancing:ModifyRule',
        'elasticloadbalancing:SetRulePriorities',
      ],
      resources: [...loadBalancers, ...listenersAndRules],
      condition: [ownedByCluster],
    },
  ];
}
