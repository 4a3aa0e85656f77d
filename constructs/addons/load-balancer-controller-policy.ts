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
 * The tag conditions follow what the controller does, read in its source
 * (Go module sigs.k8s.io/aws-load-balancer-controller@v0.0.0-20260423195125-93ff3b5fdaad,
 * i.e. v3.2.2+7, the module scripts/install-tools.sh pins; docs/security.md):
 *
 * - Load balancers, target groups, listeners and listener rules get their tags
 *   in the Create call itself (`Tags` of CreateLoadBalancer, CreateTargetGroup,
 *   CreateListener, CreateRule: pkg/deploy/elbv2/load_balancer_manager.go,
 *   pkg/deploy/elbv2/target_group_manager.go, pkg/deploy/elbv2/listener_manager.go,
 *   pkg/deploy/elbv2/listener_rule_manager.go), so
 *   `aws:RequestTag` holds on create and ELB authorizes `AddTags` with
 *   `elasticloadbalancing:CreateAction`; no separate AddTags follows. Security
 *   groups get theirs through TagSpecifications of CreateSecurityGroup
 *   (pkg/deploy/ec2/security_group_manager.go, pkg/networking/backend_sg_provider.go).
 * - The tags are `elbv2.k8s.aws/cluster` = cluster name, `<prefix>/stack` and
 *   `<prefix>/resource` with prefix `ingress.k8s.aws` (Ingress) or
 *   `service.k8s.aws` (Service) (pkg/deploy/tracking/provider.go,
 *   pkg/shared_constants/tag_keys.go).
 * - Listeners and rules are tagged only while the ListenerRulesTagging feature
 *   gate is on (pkg/config/feature_gates.go: on by default; the platform
 *   leaves it at the default: the controller refuses unknown gates, so naming
 *   it would tie the chart to versions that still have it). Off, creating a
 *   listener or rule is denied (no cluster tag in the request): it fails
 *   closed. Listeners made by controllers before listener tagging have no tag
 *   either; this policy lets the controller neither change nor delete them.
 * - Untagged resources it changes: the node security group (ingress rules for
 *   its load balancers; granted on that one group) and, through wafv2/shield,
 *   a load balancer's web ACL and Shield protection (WAF needs SetWebAcl on the
 *   load balancer too, which is tag-conditioned).
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
  const listeners = [arn('elasticloadbalancing', 'listener/net/*/*/*'), arn('elasticloadbalancing', 'listener/app/*/*/*')];
  const rules = [arn('elasticloadbalancing', 'listener-rule/net/*/*/*'), arn('elasticloadbalancing', 'listener-rule/app/*/*/*')];
  const listenersAndRules = [...listeners, ...rules];
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
      // A listener goes on one of its own load balancers, a rule on one of its own listeners, each tagged for this
      // cluster in the request: never on the Terraform-owned edge ALB, whose listener carries no cluster tag.
      sid: 'CreateListenersAndRulesUnderOwnParents',
      effect: 'Allow',
      actions: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:CreateRule'],
      resources: [...loadBalancers, ...listeners],
      condition: [ownedByCluster, requestedForCluster],
    },
    {
      // Should ELB also authorize the new listener's own ARN, it has only the request's tags yet.
      sid: 'CreateTaggedListeners',
      effect: 'Allow',
      actions: ['elasticloadbalancing:CreateListener'],
      resources: listeners,
      condition: [requestedForCluster],
    },
    {
      // The same for the new rule's ARN (only CreateRule: a listener ARN is a rule's parent and needs its tag).
      sid: 'CreateTaggedRules',
      effect: 'Allow',
      actions: ['elasticloadbalancing:CreateRule'],
      resources: rules,
      condition: [requestedForCluster],
    },
    {
      sid: 'DeleteOwnedListenersAndRules',
      effect: 'Allow',
      actions: ['elasticloadbalancing:DeleteListener', 'elasticloadbalancing:DeleteRule'],
      resources: listenersAndRules,
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
      // Tag reconciliation (pkg/deploy/elbv2/tagging_manager.go) sends only changed tags; the cluster tag never changes.
      sid: 'TagListenersAndRules',
      effect: 'Allow',
      actions: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
      resources: listenersAndRules,
      condition: [notChangingClusterTag, ownedByCluster],
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
    {
      // Called with the ListenerArn (pkg/deploy/elbv2/listener_attributes_reconciler.go); upstream lists it with the
      // load balancer and target group changes, whose ARNs it never matches.
      sid: 'ModifyOwnedListenerAttributes',
      effect: 'Allow',
      actions: ['elasticloadbalancing:ModifyListenerAttributes'],
      resources: listeners,
      condition: [ownedByCluster],
    },
  ];
}
