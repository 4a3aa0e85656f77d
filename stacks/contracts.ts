/**
 * Typed values that flow between stacks. A stack exposes one of these as a
 * public field and the next stack takes it as a prop; cdktf turns the tokens
 * into outputs and remote-state reads. Nothing is looked up by name.
 */
import type { NodeFilesRef } from '../constructs/models/node-user-data';

/** An S3 bucket another stack reads or writes. */
export interface BucketRef {
  /** Bucket name. */
  readonly name: string;
  /** Bucket ARN. */
  readonly arn: string;
}

/** What the storage stack owns: every bucket and the key encrypting them. */
export interface StorageOutputs {
  /** Models, laid out like ComfyUI/models/. */
  readonly modelsBucket: BucketRef;
  /** Generated images and videos (mounted by ComfyUI through Mountpoint for S3). */
  readonly outputsBucket: BucketRef;
  /** Uploaded inputs (mounted by ComfyUI through Mountpoint for S3). */
  readonly inputsBucket: BucketRef;
  /** Server access logs of the buckets above. */
  readonly logsBucket: BucketRef;
  /** Customer-managed KMS key encrypting models, outputs and inputs. */
  readonly dataKeyArn: string;
}

/** What the network stack provides. */
export interface NetworkOutputs {
  /** VPC id. */
  readonly vpcId: string;
  /** VPC CIDR block. */
  readonly vpcCidr: string;
  /** Private subnet ids, one per AZ (nodes, pods, the internal ALB). */
  readonly privateSubnetIds: string[];
  /** Public subnet ids, one per AZ (NAT gateways). */
  readonly publicSubnetIds: string[];
  /** CIDR blocks of the private subnets (network policy). */
  readonly privateSubnetCidrs: string[];
}

/** What the cluster stack provides. */
export interface ClusterOutputs {
  /** EKS cluster name. */
  readonly clusterName: string;
  /** EKS cluster ARN. */
  readonly clusterArn: string;
  /** API server endpoint. */
  readonly endpoint: string;
  /** Base64 cluster CA certificate. */
  readonly certificateAuthorityData: string;
  /** EKS-managed cluster security group (attached to control plane ENIs and nodes). */
  readonly clusterSecurityGroupId: string;
  /** Additional security group for nodes (system and GPU); discovery-tagged for Karpenter. */
  readonly nodeSecurityGroupId: string;
  /** IAM role ARN of the system managed node group. */
  readonly systemNodeRoleArn: string;
}

/** What the capacity stack (Karpenter's AWS side) provides. */
export interface CapacityOutputs {
  /** IAM role name of GPU nodes (the role inside gpuNodeInstanceProfileName). */
  readonly gpuNodeRoleName: string;
  /** IAM role ARN of GPU nodes. */
  readonly gpuNodeRoleArn: string;
  /** Terraform-owned instance profile of GPU nodes (EC2NodeClass `instanceProfile`). */
  readonly gpuNodeInstanceProfileName: string;
  /** SQS queue name Karpenter reads interruption events from. */
  readonly interruptionQueueName: string;
  /** The SSM document GPU nodes install the model-sync files from (name, version, installer sha256). */
  readonly nodeFiles: NodeFilesRef;
}

/** What the edge stack provides to the app. */
export interface EdgeOutputs {
  /** ARN of the Terraform-owned target group ComfyUI pods register into (TargetGroupBinding). */
  readonly targetGroupArn: string;
  /** Security group of the internal ALB (allowed into pods on the ComfyUI port). */
  readonly albSecurityGroupId: string;
  /** Public hostname users open (CloudFront domain or the custom domain). */
  readonly publicHostname: string;
}

/** What the app stack provides (image pipelines push to the repository). */
export interface AppOutputs {
  /** ECR repository URL ComfyUI images are pushed to. */
  readonly imageRepositoryUrl: string;
  /** IAM role ComfyUI pods assume through Pod Identity. */
  readonly comfyuiRoleArn: string;
}

/** What the model-sync stack provides (S3 -> SQS -> Lambda -> SSM). */
export interface ModelSyncOutputs {
  /** Name of the SSM Command document nodes run (`copy|delete KEY`). */
  readonly documentName: string;
  /** ARN of that document. */
  readonly documentArn: string;
  /** Queue receiving the models bucket's notifications. */
  readonly queueArn: string;
  /** Its dead-letter queue. */
  readonly deadLetterQueueArn: string;
  /** Log group receiving command output from GPU nodes (the GPU node role writes to it). */
  readonly commandLogGroupArn: string;
}
