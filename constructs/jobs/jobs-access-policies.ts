/**
 * Least-privilege managed policies of the jobs path, one per party:
 * - worker: attached to the ComfyUI Pod Identity role by the app stack (the
 *   worker is a sidecar of the ComfyUI pod, so it acts as that service
 *   account): receive/extend/delete on the jobs queue, send to the DLQ,
 *   update/read job items, publish to the jobs bus, PutMetricData only in the
 *   ComfyUI/Jobs namespace, the jobs key only through SQS;
 * - client: for people and pipelines that submit and collect jobs (attach it
 *   to their role): send to the queue, write/read/cancel job items, list by
 *   state, put large workflows and read outputs under jobs/ in the outputs
 *   bucket (the data key only through S3, the jobs key only through SQS);
 * - scaler: sqs:GetQueueAttributes on the jobs queue, for KEDA's aws-sqs-queue
 *   trigger (the operator's Pod Identity role attaches it).
 */
import { DataAwsIamPolicyDocument, DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { Construct } from 'constructs';
import { BucketRef } from '../../stacks/contracts';

export interface JobsAccessPoliciesProps {
  /** Name prefix of the three policies. */
  readonly namePrefix: string;
  /** Region (kms:ViaService conditions). */
  readonly region: string;
  readonly queueArn: string;
  readonly deadLetterQueueArn: string;
  readonly tableArn: string;
  readonly eventBusArn: string;
  /** KMS key of the queues and the table. */
  readonly jobsKeyArn: string;
  /** Outputs bucket (jobs/ holds large workflows and outputs). */
  readonly outputsBucket: BucketRef;
  /** Key encrypting the outputs bucket. */
  readonly dataKeyArn: string;
  /** CloudWatch namespace of the worker's metrics. */
  readonly metricNamespace: string;
}

export class JobsAccessPolicies extends Construct {
  public readonly worker: IamPolicy;
  public readonly client: IamPolicy;
  public readonly scaler: IamPolicy;

  constructor(scope: Construct, id: string, props: JobsAccessPoliciesProps) {
    super(scope, id);
    const viaSqs = [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`sqs.${props.region}.amazonaws.com`] }];
    const viaS3 = [{ test: 'StringEquals', variable: 'kms:ViaService', values: [`s3.${props.region}.amazonaws.com`] }];
    const jobObjects = `${props.outputsBucket.arn}/jobs/*`;

    const worker: DataAwsIamPolicyDocumentStatement[] = [
      { sid: 'ConsumeJobs', effect: 'Allow', actions: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], resources: [props.queueArn] },
      { sid: 'DeadLetterJobs', effect: 'Allow', actions: ['sqs:SendMessage'], resources: [props.deadLetterQueueArn] },
      { sid: 'JobsKeyThroughSqs', effect: 'Allow', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.jobsKeyArn], condition: viaSqs },
      { sid: 'UpdateJobRecords', effect: 'Allow', actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'], resources: [props.tableArn] },
      { sid: 'PublishJobEvents', effect: 'Allow', actions: ['events:PutEvents'], resources: [props.eventBusArn] },
      {
        sid: 'PublishJobMetrics',
        effect: 'Allow',
        actions: ['cloudwatch:PutMetricData'],
        // PutMetricData has no resource type; the namespace condition is what narrows it.
        resources: ['*'],
        condition: [{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: [props.metricNamespace] }],
      },
    ];
    const client: DataAwsIamPolicyDocumentStatement[] = [
      { sid: 'SubmitJobs', effect: 'Allow', actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], resources: [props.queueArn] },
      { sid: 'JobsKeyThroughSqs', effect: 'Allow', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.jobsKeyArn], condition: viaSqs },
      {
        sid: 'ManageJobRecords',
        effect: 'Allow',
        actions: ['dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:Scan'],
        resources: [props.tableArn, `${props.tableArn}/index/*`],
      },
      { sid: 'JobWorkflowsAndOutputs', effect: 'Allow', actions: ['s3:PutObject', 's3:GetObject'], resources: [jobObjects] },
      { sid: 'DataKeyThroughS3', effect: 'Allow', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [props.dataKeyArn], condition: viaS3 },
    ];
    const scaler: DataAwsIamPolicyDocumentStatement[] = [{ sid: 'ReadJobsBacklog', effect: 'Allow', actions: ['sqs:GetQueueAttributes'], resources: [props.queueArn] }];

    const policy = (name: string, description: string, statement: DataAwsIamPolicyDocumentStatement[]): IamPolicy => {
      const doc = new DataAwsIamPolicyDocument(this, `${name}Document`, { statement });
      return new IamPolicy(this, name, { name: `${props.namePrefix}-${name.toLowerCase()}`, description, policy: doc.json });
    };
    this.worker = policy('Worker', 'Jobs worker (sidecar of the ComfyUI pod): consume jobs, record results, publish events and metrics', worker);
    this.client = policy('Client', 'Submit, follow, cancel and collect ComfyUI batch jobs (npm run comfy -- submit / jobs)', client);
    this.scaler = policy('Scaler', 'Read the jobs backlog (KEDA aws-sqs-queue trigger)', scaler);
  }
}
