/**
 * The IAM role ComfyUI pods act as, through EKS Pod Identity. It is what the
 * Mountpoint S3 volumes use (authenticationSource: pod): write the outputs
 * bucket, read the inputs bucket (write only when allowed), use the data key
 * through S3, nothing else. The trust policy only lets Pod Identity assume it
 * for this cluster, namespace and service account.
 */
import { DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { Construct } from 'constructs';
import { BucketRef } from '../../stacks/contracts';
import { PodIdentityRole } from '../identity/pod-identity-role';

export interface ComfyuiIdentityProps {
  /** IAM role name. */
  readonly roleName: string;
  /** Account id (token) the Pod Identity service acts for. */
  readonly accountId: string;
  /** EKS cluster of the association. */
  readonly clusterName: string;
  /** Namespace of the ComfyUI service account. */
  readonly namespace: string;
  /** ComfyUI service account name (the chart's serviceAccount.name). */
  readonly serviceAccount: string;
  /** Bucket ComfyUI writes generated outputs to. */
  readonly outputsBucket: BucketRef;
  /** Bucket ComfyUI reads inputs from. */
  readonly inputsBucket: BucketRef;
  /** Also allow writing the inputs bucket (uploads from the UI). */
  readonly inputsWritable: boolean;
  /** KMS key encrypting both buckets. */
  readonly dataKeyArn: string;
  /** Region of the buckets (the key may only be used through S3 there). */
  readonly region: string;
}

// contract: docs CloudWatch metric contract (ComfyUI/Serving)
/** Namespace the queue-depth publisher sidecar writes (and nothing else). */
export const SERVING_METRICS_NAMESPACE = 'ComfyUI/Serving';

const READ_OBJECTS = ['s3:GetObject'];
const WRITE_OBJECTS = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'];

export class ComfyuiIdentity extends Construct {
  /** The role. */
  public readonly role: IamRole;
  /** Role ARN. */
  public readonly roleArn: string;
  /** The Pod Identity association of the ComfyUI service account. */
  public readonly association: EksPodIdentityAssociation;

  constructor(scope: Construct, id: string, props: ComfyuiIdentityProps) {
    super(scope, id);
    const statements: DataAwsIamPolicyDocumentStatement[] = [
      { sid: 'ListOutputsAndInputs', effect: 'Allow', actions: ['s3:ListBucket'], resources: [props.outputsBucket.arn, props.inputsBucket.arn] },
      { sid: 'ReadWriteOutputs', effect: 'Allow', actions: [...READ_OBJECTS, ...WRITE_OBJECTS], resources: [`${props.outputsBucket.arn}/*`] },
      {
        sid: props.inputsWritable ? 'ReadWriteInputs' : 'ReadInputs',
        effect: 'Allow',
        actions: props.inputsWritable ? [...READ_OBJECTS, ...WRITE_OBJECTS] : READ_OBJECTS,
        resources: [`${props.inputsBucket.arn}/*`],
      },
      {
        sid: 'DataKeyThroughS3',
        effect: 'Allow',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.dataKeyArn],
        condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`s3.${props.region}.amazonaws.com`] }],
      },
      {
        // The queue-depth publisher sidecar (charts/comfyui/files/queue-metrics.py); metrics have no ARN.
        sid: 'PublishServingMetrics',
        effect: 'Allow',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        condition: [{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: [SERVING_METRICS_NAMESPACE] }],
      },
    ];
    const identity = new PodIdentityRole(this, 'Identity', {
      roleName: props.roleName,
      description: 'ComfyUI pods (EKS Pod Identity): write outputs, read inputs, publish queue metrics',
      accountId: props.accountId,
      clusterName: props.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      statements,
      policyName: 'comfyui-buckets',
    });
    this.role = identity.role;
    this.roleArn = identity.roleArn;
    this.association = identity.association!;
  }
}
