/**
 * The system managed node group: small on-demand nodes for controllers only
 * (Karpenter, CoreDNS, the load balancer controller, the S3 CSI controller).
 * They are labelled and tainted (config/naming.ts SYSTEM_NODE_LABEL /
 * SYSTEM_NODE_TAINT) so GPU workloads never land there and controllers select
 * them explicitly. The launch template requires IMDSv2 with a hop limit of 1
 * by default (pods cannot read the node role's credentials) and encrypts the
 * gp3 root volume. Node auto-repair replaces unhealthy nodes.
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { ITerraformDependable, Token } from 'cdktf';
import { Construct } from 'constructs';
import { instanceArchitecture } from '../../config/schema';

/** Managed policies of the system node role: join the cluster, pod networking, image pulls, SSM access. */
export const SYSTEM_NODE_MANAGED_POLICIES = [
  'AmazonEKSWorkerNodePolicy',
  'AmazonEKS_CNI_Policy',
  // Pull-only: the read-only policy also allows listing and describing every repository.
  'AmazonEC2ContainerRegistryPullOnly',
  'AmazonSSMManagedInstanceCore',
];

export interface SystemNodeGroupProps {
  /** Cluster name (token). */
  readonly clusterName: string;
  /** Node group, launch template and role name. */
  readonly name: string;
  /** Private subnets, one per AZ. */
  readonly subnetIds: string[];
  /** Security groups of the nodes: the EKS cluster security group and the node security group. */
  readonly securityGroupIds: string[];
  /** Instance types (all one architecture). */
  readonly instanceTypes: string[];
  /** Minimum nodes. */
  readonly minSize: number;
  /** Desired nodes. */
  readonly desiredSize: number;
  /** Maximum nodes. */
  readonly maxSize: number;
  /** Encrypted gp3 root volume size in GiB. */
  readonly rootVolumeGiB: number;
  /** IMDSv2 hop limit (1: pods cannot reach the instance metadata service). */
  readonly metadataHopLimit: number;
  /** Kubernetes labels of the nodes. */
  readonly labels: Record<string, string>;
  /** Kubernetes taints of the nodes (Kubernetes effect names: NoSchedule, NoExecute, PreferNoSchedule). */
  readonly taints: { key: string; value: string; effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule' }[];
  /** Tags for the instances, volumes and network interfaces the group launches (provider default tags do not reach them). */
  readonly instanceTags: Record<string, string>;
  /** AWS partition (`aws`, `aws-cn`, `aws-us-gov`). */
  readonly partition: string;
  /** Resources the nodes need before they join (the networking add-ons). */
  readonly dependsOn?: ITerraformDependable[];
}

const TAINT_EFFECTS = { NoSchedule: 'NO_SCHEDULE', NoExecute: 'NO_EXECUTE', PreferNoSchedule: 'PREFER_NO_SCHEDULE' } as const;

export class SystemNodeGroup extends Construct {
  /** The node group. */
  public readonly nodeGroup: EksNodeGroup;
  /** The node IAM role. */
  public readonly role: IamRole;
  /** The launch template. */
  public readonly launchTemplate: LaunchTemplate;

  constructor(scope: Construct, id: string, props: SystemNodeGroupProps) {
    super(scope, id);
    const trust = new DataAwsIamPolicyDocument(this, 'TrustPolicy', {
      statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }] }],
    });
    this.role = new IamRole(this, 'Role', {
      name: props.name,
      description: `System nodes of ${props.name}`,
      assumeRolePolicy: trust.json,
    });
    const attachments = SYSTEM_NODE_MANAGED_POLICIES.map(
      (policy) => new IamRolePolicyAttachment(this, policy, { role: this.role.name, policyArn: `arn:${props.partition}:iam::aws:policy/${policy}` }),
    );

    this.launchTemplate = new LaunchTemplate(this, 'LaunchTemplate', {
      name: props.name,
      description: 'System nodes: IMDSv2 only, encrypted gp3 root volume',
      updateDefaultVersion: true,
      vpcSecurityGroupIds: props.securityGroupIds,
      metadataOptions: {
        httpEndpoint: 'enabled',
        httpTokens: 'required',
        httpPutResponseHopLimit: props.metadataHopLimit,
      },
      blockDeviceMappings: [
        {
          // The root device of the EKS AL2023 AMIs.
          deviceName: '/dev/xvda',
          ebs: { volumeSize: props.rootVolumeGiB, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
        },
      ],
      tagSpecifications: ['instance', 'volume', 'network-interface'].map((resourceType) => ({ resourceType, tags: props.instanceTags })),
    });

    const architecture = instanceArchitecture(props.instanceTypes[0]);
    this.nodeGroup = new EksNodeGroup(this, 'NodeGroup', {
      clusterName: props.clusterName,
      nodeGroupName: props.name,
      nodeRoleArn: this.role.arn,
      subnetIds: props.subnetIds,
      amiType: architecture === 'arm64' ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD',
      capacityType: 'ON_DEMAND',
      instanceTypes: props.instanceTypes,
      scalingConfig: { minSize: props.minSize, desiredSize: props.desiredSize, maxSize: props.maxSize },
      updateConfig: { maxUnavailable: 1 },
      labels: props.labels,
      taint: props.taints.map((t) => ({ key: t.key, value: t.value, effect: TAINT_EFFECTS[t.effect] })),
      launchTemplate: { id: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) },
      nodeRepairConfig: { enabled: true },
      dependsOn: [...attachments, ...(props.dependsOn ?? [])],
    });
  }
}
