/**
 * The additional security group of every node (system and GPU). Nodes reach
 * each other and the control plane; nothing else may connect in unless a
 * later stack adds a rule (the edge stack allows its ALB to the ComfyUI port).
 * It carries the Karpenter discovery tag, and so does the EKS-managed cluster
 * security group, so GPU nodes get both like the system nodes do.
 */
import { Ec2Tag } from '@cdktf/provider-aws/lib/ec2-tag';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Construct } from 'constructs';

export interface NodeSecurityGroupProps {
  /** VPC id. */
  readonly vpcId: string;
  /** Security group name. */
  readonly name: string;
  /** The EKS-managed cluster security group (control-plane ENIs). */
  readonly clusterSecurityGroupId: string;
  /** Tag Karpenter selects security groups by (`karpenter.sh/discovery=<cluster>`). */
  readonly discoveryTag: { key: string; value: string };
}

export class NodeSecurityGroup extends Construct {
  /** The node security group. */
  public readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: NodeSecurityGroupProps) {
    super(scope, id);
    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      name: props.name,
      description: 'EKS nodes (system and GPU): node-to-node and control-plane traffic',
      vpcId: props.vpcId,
      tags: { Name: props.name, [props.discoveryTag.key]: props.discoveryTag.value },
      // Rules are separate resources below; an inline list would fight them.
      revokeRulesOnDelete: true,
    });
    const nodes = this.securityGroup.id;

    new VpcSecurityGroupIngressRule(this, 'NodeToNode', {
      securityGroupId: nodes,
      referencedSecurityGroupId: nodes,
      ipProtocol: '-1',
      description: 'Pods and nodes talk to each other (VPC CNI: pods use node security groups)',
    });
    new VpcSecurityGroupIngressRule(this, 'ControlPlaneToNodes', {
      securityGroupId: nodes,
      referencedSecurityGroupId: props.clusterSecurityGroupId,
      ipProtocol: '-1',
      description: 'Control plane to kubelet and webhooks',
    });
    new VpcSecurityGroupIngressRule(this, 'NodesToControlPlane', {
      securityGroupId: props.clusterSecurityGroupId,
      referencedSecurityGroupId: nodes,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'Nodes to the Kubernetes API',
    });
    new VpcSecurityGroupEgressRule(this, 'AllEgress', {
      securityGroupId: nodes,
      cidrIpv4: '0.0.0.0/0',
      ipProtocol: '-1',
      description: 'Image pulls, AWS APIs, S3 (through the gateway endpoint) and model downloads',
    });

    new Ec2Tag(this, 'ClusterSecurityGroupDiscoveryTag', {
      resourceId: props.clusterSecurityGroupId,
      key: props.discoveryTag.key,
      value: props.discoveryTag.value,
    });
  }
}
