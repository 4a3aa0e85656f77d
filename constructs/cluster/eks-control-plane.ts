/**
 * The EKS control plane: its IAM role, the control-plane log group (created
 * here so its retention applies; EKS would otherwise create it without one),
 * and the cluster itself with access entries as the only authentication mode,
 * no implicit admin for the creator, secrets encrypted with a customer key,
 * a private endpoint and an optional, allow-listed public one.
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Annotations } from 'cdktf';
import { Construct } from 'constructs';

/** Every control-plane log type EKS can ship. */
export const CONTROL_PLANE_LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];

export interface EksControlPlaneProps {
  /** Cluster name. */
  readonly clusterName: string;
  /** Kubernetes minor version, e.g. `1.35`. */
  readonly kubernetesVersion: string;
  /** Subnets of the control-plane network interfaces (the private ones). */
  readonly subnetIds: string[];
  /** Expose the API endpoint publicly (the private endpoint is always on). */
  readonly endpointPublicAccess: boolean;
  /** CIDRs allowed to reach the public endpoint. */
  readonly publicAccessCidrs: string[];
  /** KMS key ARN encrypting Kubernetes secrets. */
  readonly secretsKeyArn: string;
  /** Retention of the control-plane log group in days. */
  readonly logRetentionDays: number;
  /** KMS key ARN for the log group; unset: CloudWatch Logs default encryption. */
  readonly logKmsKeyArn?: string;
  /** Name of the cluster IAM role. */
  readonly roleName: string;
  /** AWS partition (`aws`, `aws-cn`, `aws-us-gov`). */
  readonly partition: string;
}

export class EksControlPlane extends Construct {
  /** The cluster. */
  public readonly cluster: EksCluster;
  /** The control-plane log group. */
  public readonly logGroup: CloudwatchLogGroup;
  /** The cluster IAM role. */
  public readonly role: IamRole;

  constructor(scope: Construct, id: string, props: EksControlPlaneProps) {
    super(scope, id);
    const trust = new DataAwsIamPolicyDocument(this, 'TrustPolicy', {
      statement: [
        {
          effect: 'Allow',
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          principals: [{ type: 'Service', identifiers: ['eks.amazonaws.com'] }],
        },
      ],
    });
    this.role = new IamRole(this, 'Role', {
      name: props.roleName,
      description: `EKS control plane of ${props.clusterName}`,
      assumeRolePolicy: trust.json,
    });
    const clusterPolicy = new IamRolePolicyAttachment(this, 'ClusterPolicy', {
      role: this.role.name,
      policyArn: `arn:${props.partition}:iam::aws:policy/AmazonEKSClusterPolicy`,
    });
    // EKS uses the secrets key through the cluster role; nothing else.
    const useKey = new DataAwsIamPolicyDocument(this, 'SecretsKeyPolicy', {
      statement: [
        {
          sid: 'EncryptKubernetesSecrets',
          effect: 'Allow',
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ListGrants', 'kms:DescribeKey'],
          resources: [props.secretsKeyArn],
        },
      ],
    });
    const keyAccess = new IamRolePolicy(this, 'SecretsKeyAccess', { name: 'encrypt-secrets', role: this.role.id, policy: useKey.json });

    this.logGroup = new CloudwatchLogGroup(this, 'LogGroup', {
      // The name EKS writes to; creating it first is what makes the retention apply.
      name: `/aws/eks/${props.clusterName}/cluster`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });

    if (props.endpointPublicAccess && props.publicAccessCidrs.includes('0.0.0.0/0')) {
      Annotations.of(this).addWarning(
        'cluster.publicAccessCidrs allows 0.0.0.0/0: the Kubernetes API endpoint is reachable from the whole internet (IAM authentication still applies). Narrow it to your office/VPN CIDRs or set cluster.endpointPublicAccess to false.',
      );
    }

    this.cluster = new EksCluster(this, 'Cluster', {
      name: props.clusterName,
      version: props.kubernetesVersion,
      roleArn: this.role.arn,
      enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
      accessConfig: {
        // Access entries only: no aws-auth ConfigMap to drift, everything in Terraform state.
        authenticationMode: 'API',
        // Admins are listed explicitly (ClusterAdminAccess); the deploying identity gets nothing implicit.
        bootstrapClusterCreatorAdminPermissions: false,
      },
      // The platform installs vpc-cni, kube-proxy and CoreDNS as managed add-ons with pinned versions.
      bootstrapSelfManagedAddons: false,
      vpcConfig: {
        subnetIds: props.subnetIds,
        endpointPrivateAccess: true,
        endpointPublicAccess: props.endpointPublicAccess,
        publicAccessCidrs: props.endpointPublicAccess ? props.publicAccessCidrs : undefined,
      },
      encryptionConfig: { resources: ['secrets'], provider: { keyArn: props.secretsKeyArn } },
      dependsOn: [this.logGroup, clusterPolicy, keyAccess],
    });
  }
}
