/**
 * What the KEDA operator may do in AWS (EKS Pod Identity; the ScaledObject's
 * TriggerAuthentication uses `podIdentity.provider: aws`, i.e. the operator's
 * own credentials): read the wake queue's and (batch jobs) the jobs queue's
 * message counts, and read CloudWatch
 * metrics (ComfyUI queue depth, the target group's request count).
 * GetMetricData has no resource-level permissions, so it is `*`; it reads
 * numbers only, no log or object data.
 */
import { DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';

export interface KedaOperatorStatementsInput {
  /** ARN of the wake queue (aws-sqs-queue trigger). */
  readonly wakeQueueArn: string;
  /** ARN of the batch jobs queue (jobs-backlog trigger; docs/jobs.md). Default: none. */
  readonly jobsQueueArn?: string;
}

export function kedaOperatorStatements(input: KedaOperatorStatementsInput): DataAwsIamPolicyDocumentStatement[] {
  return [
    { sid: 'ReadWakeQueueDepth', effect: 'Allow', actions: ['sqs:GetQueueAttributes'], resources: [input.wakeQueueArn] },
    ...(input.jobsQueueArn ? [{ sid: 'ReadJobsBacklog', effect: 'Allow', actions: ['sqs:GetQueueAttributes'], resources: [input.jobsQueueArn] }] : []),
    { sid: 'ReadScalingMetrics', effect: 'Allow', actions: ['cloudwatch:GetMetricData'], resources: ['*'] },
  ];
}
