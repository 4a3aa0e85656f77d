/**
 * Typed values that flow between stacks. A stack exposes one of these as a
 * public field and the next stack takes it as a prop; cdktf turns the tokens
 * into outputs and remote-state reads. Nothing is looked up by name.
 */
import type { NodeFilesRef } from '../constructs/models/node-user-data';
import type { ObservedEdge, ObservedInterruptions, ObservedJobs, ObservedModelSync } from '../constructs/observability/observed-platform';

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
  /** Private subnet ids, one per AZ (nodes and pods). */
  readonly privateSubnetIds: string[];
  /** Public subnet ids, one per AZ (NAT gateways). */
  readonly publicSubnetIds: string[];
  /** CIDR blocks of the private subnets. */
  readonly privateSubnetCidrs: string[];
  /** Load balancer subnet ids, one per AZ (the internal ALB only). */
  readonly albSubnetIds: string[];
  /** CIDR blocks of the load balancer subnets (the chart's NetworkPolicy admits only these). */
  readonly albSubnetCidrs: string[];
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

/** The SQS queue that wakes ComfyUI from zero replicas. */
export interface WakeQueueRef {
  /** Queue URL (SendMessage, KEDA's aws-sqs-queue trigger). */
  readonly url: string;
  /** Queue ARN (IAM). */
  readonly arn: string;
}

/** What the edge stack provides to the app. */
export interface EdgeOutputs {
  /** ARN of the Terraform-owned target group ComfyUI pods register into (TargetGroupBinding). */
  readonly targetGroupArn: string;
  /** Security group of the internal ALB (allowed into pods on the ComfyUI port). */
  readonly albSecurityGroupId: string;
  /** Public hostname users open (CloudFront domain or the custom domain). */
  readonly publicHostname: string;
  /** CloudWatch dimension values of the target group's AWS/ApplicationELB metrics (KEDA's edge-idle trigger). */
  readonly targetGroupMetricDimensions: TargetGroupMetricDimensions;
  /** Wake queue of elastic serving (app.autoscaling.mode keda): the edge's wake function writes it, KEDA polls it. */
  readonly wakeQueue?: WakeQueueRef;
}

/** ARN suffixes CloudWatch uses as the LoadBalancer and TargetGroup dimensions of AWS/ApplicationELB. */
export interface TargetGroupMetricDimensions {
  /** `app/<name>/<id>`. */
  readonly loadBalancer: string;
  /** `targetgroup/<name>/<id>`. */
  readonly targetGroup: string;
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

// ------------------------------------------------------------ observability
// What the observability stack watches, exposed by each stack as `metricSources`
// (the shapes live with the observability constructs, which cannot import stacks/).

/** The model-sync path's queues, function and failure rule (model-sync stack). */
export type ModelSyncMetricSources = ObservedModelSync;
/** Karpenter's interruption queue and EventBridge rules (capacity stack). */
export type CapacityMetricSources = ObservedInterruptions;
/** CloudFront distribution, ALB, target group and auth function (edge stack); the auth mode comes from config. */
export type EdgeMetricSources = Omit<ObservedEdge, 'authMode'>;
/** The jobs queue and its DLQ (jobs stack). */
export type JobsMetricSources = ObservedJobs;

/** What the jobs stack provides (batch jobs API, docs/jobs.md). */
export interface JobsOutputs {
  /** URL of the SQS jobs queue (worker and client). */
  readonly queueUrl: string;
  /** Its name (KEDA aws-sqs-queue trigger). */
  readonly queueName: string;
  /** Its ARN (KEDA's operator identity reads its attributes). */
  readonly queueArn: string;
  /** URL of the dead-letter queue (the worker moves exhausted jobs there). */
  readonly deadLetterQueueUrl: string;
  /** DynamoDB table of job records. */
  readonly tableName: string;
  /** EventBridge bus receiving a `Job Succeeded|Failed|Cancelled` event per finished job. */
  readonly eventBusName: string;
  /** ECR repository of the worker image. */
  readonly workerImageRepositoryUrl: string;
  /** Managed policy the ComfyUI Pod Identity role gets for the worker sidecar. */
  readonly workerPolicyArn: string;
  /** Managed policy for people and pipelines that submit jobs. */
  readonly clientPolicyArn: string;
  /** Managed policy (sqs:GetQueueAttributes on the jobs queue) for KEDA's operator role. */
  readonly scalerPolicyArn: string;
}
