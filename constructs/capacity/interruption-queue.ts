/**
 * Karpenter's interruption queue: an SQS queue (SSE, 5-minute retention)
 * fed by EventBridge rules for Spot interruption warnings, rebalance
 * recommendations, instance state changes and AWS Health scheduled changes.
 * Karpenter reads it (settings.interruptionQueue) and drains a node before
 * EC2 takes it away. Messages older than 5 minutes are useless: the Spot
 * warning gives 2 minutes.
 *
 * The patterns are the ones Karpenter's cloudformation.yaml uses, narrowed
 * to what Karpenter's parsers act on (it drops other state changes and other
 * Health events), so the queue carries no noise.
 */
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Construct } from 'constructs';
import { denyInsecureTransport } from '../models/model-sync-queue';

/** One EventBridge rule feeding the queue. */
export interface InterruptionRuleSpec {
  /** Suffix of the rule name. */
  readonly name: string;
  /** What the rule forwards. */
  readonly description: string;
  /** EventBridge event pattern. */
  readonly pattern: Record<string, unknown>;
}

/** The rules Karpenter needs, by the events its interruption controller handles. */
export const INTERRUPTION_RULES: readonly InterruptionRuleSpec[] = [
  {
    name: 'spot',
    description: 'EC2 Spot two-minute interruption warnings for Karpenter',
    pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
  },
  {
    name: 'rebalance',
    description: 'EC2 rebalance recommendations (elevated Spot interruption risk) for Karpenter',
    pattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] },
  },
  {
    name: 'state-change',
    description: 'EC2 instances stopping or terminating outside Karpenter',
    pattern: {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['stopping', 'stopped', 'shutting-down', 'terminated'] },
    },
  },
  {
    name: 'scheduled-change',
    description: 'AWS Health scheduled EC2 maintenance (retirement, reboot) for Karpenter',
    pattern: {
      source: ['aws.health'],
      'detail-type': ['AWS Health Event'],
      detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
    },
  },
];

export interface InterruptionQueueProps {
  /** Queue name; rule names are <queueName>-<rule> (EventBridge allows 64 characters). */
  readonly queueName: string;
  /** Account id (token), for the SQS service principal's source-account condition. */
  readonly accountId: string;
}

export class InterruptionQueue extends Construct {
  /** The queue. */
  public readonly queue: SqsQueue;
  /** Queue name (Karpenter's settings.interruptionQueue). */
  public readonly queueName: string;
  /** Queue ARN. */
  public readonly queueArn: string;
  /** The EventBridge rules, in INTERRUPTION_RULES order. */
  public readonly rules: CloudwatchEventRule[];

  constructor(scope: Construct, id: string, props: InterruptionQueueProps) {
    super(scope, id);
    this.queue = new SqsQueue(this, 'Queue', {
      name: props.queueName,
      messageRetentionSeconds: 300,
      sqsManagedSseEnabled: true,
    });
    this.queueName = this.queue.name;
    this.queueArn = this.queue.arn;

    this.rules = INTERRUPTION_RULES.map((spec) => {
      const rule = new CloudwatchEventRule(this, `Rule-${spec.name}`, {
        name: `${props.queueName}-${spec.name}`,
        description: spec.description,
        eventPattern: JSON.stringify(spec.pattern),
      });
      new CloudwatchEventTarget(this, `Target-${spec.name}`, {
        rule: rule.name,
        targetId: 'KarpenterInterruptionQueue',
        arn: this.queue.arn,
      });
      return rule;
    });

    const policy = new DataAwsIamPolicyDocument(this, 'PolicyDocument', {
      statement: [
        {
          sid: 'AllowEventBridgeRules',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
          actions: ['sqs:SendMessage'],
          resources: [this.queue.arn],
          condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: this.rules.map((r) => r.arn) }],
        },
        {
          sid: 'AllowSqsService',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['sqs.amazonaws.com'] }],
          actions: ['sqs:SendMessage'],
          resources: [this.queue.arn],
          condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] }],
        },
        denyInsecureTransport(this.queue.arn),
      ],
    });
    new SqsQueuePolicy(this, 'Policy', { queueUrl: this.queue.url, policy: policy.json });
  }
}
