/**
 * The identity of GPU nodes, all in Terraform state: the IAM role, its
 * instance profile (named in the EC2NodeClass, so Karpenter creates no
 * profile of its own), and the EKS access entry (EC2_LINUX) that lets
 * kubelets with this role join the cluster.
 *
 * Permissions: the three EKS worker policies, SSM (the model-sync path runs
 * commands on nodes through Run Command), read-only access to the models
 * bucket, decrypting through S3 only, and ssm:GetDocument on the one document
 * holding the node files (the user data reads it at boot).
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Construct } from 'constructs';
import { MODEL_SYNC_METRICS_NAMESPACE } from '../models/model-sync-metrics';
import { BucketRef } from '../../stacks/contracts';

/**
 * AWS managed policies of the node role. ECR access is AmazonEC2ContainerRegistryPullOnly,
 * the narrower of the two read-only ECR policies (pull, no listing), as Karpenter's own
 * node role now uses.
 */
export const GPU_NODE_MANAGED_POLICIES = [
  'AmazonEKSWorkerNodePolicy',
  'AmazonEKS_CNI_Policy',
  'AmazonEC2ContainerRegistryPullOnly',
  'AmazonSSMManagedInstanceCore',
] as const;

export interface GpuNodeRoleProps {
  /** Role and instance profile name. */
  readonly name: string;
  /** AWS partition. */
  readonly partition: string;
  /** Region (kms:ViaService). */
  readonly region: string;
  /** EKS cluster name (access entry). */
  readonly clusterName: string;
  /** Bucket the nodes copy models from. */
  readonly modelsBucket: BucketRef;
  /** KMS key encrypting the models bucket. */
  readonly dataKeyArn: string;
  /** Account id (log group ARNs). */
  readonly accountId: string;
  /** Log group the SSM agent streams model-sync command output to (config/naming.ts modelSyncCommandLogGroup). */
  readonly commandLogGroupName: string;
  /** ARN of the SSM document holding the node files (constructs/models/node-files-document.ts). */
  readonly nodeFilesDocumentArn: string;
}

export class GpuNodeRole extends Construct {
  /** The role. */
  public readonly role: IamRole;
  /** The instance profile. */
  public readonly instanceProfile: IamInstanceProfile;
  /** The access entry that admits the nodes. */
  public readonly accessEntry: EksAccessEntry;

  constructor(scope: Construct, id: string, props: GpuNodeRoleProps) {
    super(scope, id);
    const trust = new DataAwsIamPolicyDocument(this, 'Trust', {
      statement: [
        {
          sid: 'AllowEc2',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }],
          actions: ['sts:AssumeRole'],
        },
      ],
    });
    this.role = new IamRole(this, 'Role', {
      name: props.name,
      description: 'GPU nodes launched by Karpenter (ComfyUI)',
      assumeRolePolicy: trust.json,
    });

    for (const policy of GPU_NODE_MANAGED_POLICIES) {
      new IamRolePolicyAttachment(this, policy, {
        role: this.role.name,
        policyArn: `arn:${props.partition}:iam::aws:policy/${policy}`,
      });
    }

    const modelsRead = new DataAwsIamPolicyDocument(this, 'ModelsReadDocument', {
      statement: [
        { sid: 'ListModels', effect: 'Allow', actions: ['s3:ListBucket'], resources: [props.modelsBucket.arn] },
        { sid: 'ReadModels', effect: 'Allow', actions: ['s3:GetObject'], resources: [`${props.modelsBucket.arn}/*`] },
        {
          sid: 'DecryptModelsThroughS3',
          effect: 'Allow',
          actions: ['kms:Decrypt'],
          resources: [props.dataKeyArn],
          condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`s3.${props.region}.amazonaws.com`] }],
        },
      ],
    });
    new IamRolePolicy(this, 'ModelsRead', { name: 'models-read', role: this.role.name, policy: modelsRead.json });

    // The model-sync SSM document sends command output to CloudWatch Logs; the
    // agent writes it with the node's credentials, into that one group only.
    const logGroupArn = `arn:${props.partition}:logs:${props.region}:${props.accountId}:log-group:${props.commandLogGroupName}`;
    const commandLogs = new DataAwsIamPolicyDocument(this, 'CommandLogsDocument', {
      statement: [
        {
          sid: 'WriteModelSyncCommandOutput',
          effect: 'Allow',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [logGroupArn, `${logGroupArn}:log-stream:*`],
        },
        {
          sid: 'FindModelSyncLogGroup',
          effect: 'Allow',
          actions: ['logs:DescribeLogGroups'],
          resources: [`arn:${props.partition}:logs:${props.region}:${props.accountId}:log-group:*`],
        },
      ],
    });
    new IamRolePolicy(this, 'CommandLogs', { name: 'model-sync-command-logs', role: this.role.name, policy: commandLogs.json });

    // comfyui-model-sync publishes ComfyUI/ModelSync metrics; PutMetricData has no
    // resource ARN, so the namespace condition is what keeps the node to its own metrics.
    const metrics = new DataAwsIamPolicyDocument(this, 'ModelSyncMetricsDocument', {
      statement: [
        {
          sid: 'PublishModelSyncMetrics',
          effect: 'Allow',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: [MODEL_SYNC_METRICS_NAMESPACE] }],
        },
      ],
    });
    new IamRolePolicy(this, 'ModelSyncMetrics', { name: 'model-sync-metrics', role: this.role.name, policy: metrics.json });

    // The user data reads the command and its units from this one document at boot.
    // (AmazonSSMManagedInstanceCore also allows GetDocument; this statement keeps
    // the boot path working, and reviewable, without relying on it.)
    const nodeFiles = new DataAwsIamPolicyDocument(this, 'NodeFilesReadDocument', {
      statement: [{ sid: 'ReadNodeFilesDocument', effect: 'Allow', actions: ['ssm:GetDocument'], resources: [props.nodeFilesDocumentArn] }],
    });
    new IamRolePolicy(this, 'NodeFilesRead', { name: 'node-files-read', role: this.role.name, policy: nodeFiles.json });

    this.instanceProfile = new IamInstanceProfile(this, 'InstanceProfile', { name: props.name, role: this.role.name });

    this.accessEntry = new EksAccessEntry(this, 'AccessEntry', {
      clusterName: props.clusterName,
      principalArn: this.role.arn,
      type: 'EC2_LINUX',
    });
  }
}
