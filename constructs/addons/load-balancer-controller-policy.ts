/**
 * The AWS Load Balancer Controller's IAM permissions, following the
 * controller's documented policy (docs/install/iam_policy.json of
 * kubernetes-sigs/aws-load-balancer-controller, unchanged up to v3.5.0),
 * tightened the same way upstream scopes mutations:
 *
 * - where upstream only requires the `elbv2.k8s.aws/cluster` tag to exist
 *   (`Null: false`), this policy requires it to equal this cluster's name,
 *   so a second cluster's controller in the account cannot touch our load
 *   balancers, target groups or security groups, nor we theirs;
 * - ARNs name this partition, region and account instead of `*`.
 *
 * Read-only Describe/Get calls and the few calls without resource-level
 * permissions keep `Resource: *`, as upstream. No action is a wildcard.
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
}

const CLUSTER_TAG = 'elbv2.k8s.aws/cluster';

/** Namespace the controller runs in (its Pod Identity association and its Helm release). */
export const LOAD_BALANCER_CONTROLLER_NAMESPACE = 'kube-system';

/** The controller policy statements. */
export function loadBalancerControllerStatements(p: LoadBalancerControllerPolicyProps): DataAwsIamPolicyDocumentStatement[] {
  const arn = (service: string, resource: string) => `arn:${p.partition}:${service}:${p.region}:${p.accountId}:${resource}`;
  const securityGroups = arn('ec2', 'security-group/*');
  // Upstream grants listener and rule changes on `*`; this keeps them to the account and region.
  const elbInAccount = arn('elasticloadbalancing', '*');
  const targetGroups = arn('elasticloadbalancing', 'targetgroup/*/*');
  const loadBalancers = [arn('elasticloadbalancing', 'loadbalancer/net/*/*'), arn('elasticloadbalancing', 'loadbalancer/app/*/*')];
  const ownedByCluster = { test: 'StringEquals', variable: `aws:ResourceTag/${CLUSTER_TAG}`, values: [p.clusterName] };
  const requestedForCluster = { test: 'StringEquals', variable: `aws:RequestTag/${CLUSTER_TAG}`, values: [p.clusterName] };
  const notChangingClusterTag = { test: 'Null', variable: `aws:RequestTag/${CLUSTER_TAG}`, values: ['true'] };
  return [
    {
      sid: 'CreateElbServiceLinkedRole',
      effect: 'Allow',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [`arn:${p.partition}:iam::${p.accountId}:role/aws-service-role/elasticloadbalancing.amazonaws.com/*`],
      condition: [{ test: 'StringEquals', variable: 'iam:AWSServiceName', values: ['elasticloadbalancing.amazonaws.com'] }],
    },
    {
      sid: 'Describe',
      effect: 'Allow',
      actions: [
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
      ],
      resources: ['*'],
    },
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
      // TargetGroupBinding opens the pod/node security group to the load balancer's group.
      sid: 'ManageSecurityGroupIngress',
      effect: 'Allow',
      actions: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'],
      resources: [securityGroups, arn('ec2', 'security-group-rule/*')],
    },
    {
      sid: 'CreateSecurityGroup',
      effect: 'Allow',
      actions: ['ec2:CreateSecurityGroup'],
      resources: [securityGroups, arn('ec2', 'vpc/*')],
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
      sid: 'ManageListenersAndRules',
      effect: 'Allow',
      actions: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:CreateRule', 'elasticloadbalancing:DeleteRule'],
      resources: [elbInAccount],
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
      resources: [
        arn('elasticloadbalancing', 'listener/net/*/*/*'),
        arn('elasticloadbalancing', 'listener/app/*/*/*'),
        arn('elasticloadbalancing', 'listener-rule/net/*/*/*'),
        arn('elasticloadbalancing', 'listener-rule/app/*/*/*'),
      ],
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
      // TargetGroupBinding: the ComfyUI chart registers pods into the Terraform-owned target group.
      sid: 'RegisterTargets',
      effect: 'Allow',
      actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
      resources: [targetGroups],
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
      resources: [elbInAccount],
    },
  ];
}
