/**
 * What happens on the nodes after the Lambda has sent a command, without the
 * Lambda waiting for multi-GB copies:
 *
 * - the command output log group (SendCommand CloudWatchOutputConfig), where
 *   each node's stdout/stderr of every copy/delete lands;
 * - an EventBridge rule matching per-node invocations of the model-sync
 *   document that ended Failed or TimedOut, recorded in a log group (which
 *   node, which command) and counted by an alarm.
 *
 * A failed node does not block the others and converges on its next
 * reconcile; the alarm says that it happened.
 */
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchLogResourcePolicy } from '@cdktf/provider-aws/lib/cloudwatch-log-resource-policy';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { Construct } from 'constructs';
import { occurrenceAlarm } from './occurrence-alarm';

export interface NodeCommandMonitorProps {
  /** Name prefix of the rule, log groups and alarm (`<prefix>-model-sync`). */
  readonly name: string;
  /** Name of the log group receiving command output (modelSyncCommandLogGroup(config)). */
  readonly outputLogGroupName: string;
  /** Name of the SSM document whose invocations are watched. */
  readonly documentName: string;
  /** Retention of both log groups in days. */
  readonly logRetentionDays: number;
  /** KMS key ARN encrypting both log groups. Default: CloudWatch Logs default encryption. */
  readonly logKmsKeyArn?: string;
  /** SNS topics notified by the alarm. Default: none. */
  readonly alarmActions?: readonly string[];
}

/** Invocation statuses that mean a node did not apply a change. */
export const FAILED_INVOCATION_STATUSES = ['Failed', 'TimedOut'] as const;

export class NodeCommandMonitor extends Construct {
  /** Log group of command output from the nodes. */
  public readonly outputLogGroup: CloudwatchLogGroup;
  /** Log group recording failed invocations. */
  public readonly failureLogGroup: CloudwatchLogGroup;
  /** The EventBridge rule matching failed invocations. */
  public readonly failureRule: CloudwatchEventRule;
  /** Alarm: at least one node failed a copy/delete. */
  public readonly failureAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: NodeCommandMonitorProps) {
    super(scope, id);

    this.outputLogGroup = new CloudwatchLogGroup(this, 'OutputLogGroup', {
      name: props.outputLogGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });

    this.failureRule = new CloudwatchEventRule(this, 'FailureRule', {
      name: `${props.name}-node-failures`,
      description: 'A GPU node failed or timed out running the model-sync document',
      eventPattern: JSON.stringify({
        source: ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        detail: { 'document-name': [props.documentName], status: [...FAILED_INVOCATION_STATUSES] },
      }),
    });

    // EventBridge can only write to log groups named /aws/events/...
    this.failureLogGroup = new CloudwatchLogGroup(this, 'FailureLogGroup', {
      name: `/aws/events/${props.name}-node-failures`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });
    const logPolicy = new DataAwsIamPolicyDocument(this, 'FailureLogPolicyDocument', {
      statement: [
        {
          sid: 'EventBridgeWritesFailures',
          effect: 'Allow',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [`${this.failureLogGroup.arn}:*`],
          principals: [{ type: 'Service', identifiers: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] }],
          condition: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: [this.failureRule.arn] }],
        },
      ],
    });
    const resourcePolicy = new CloudwatchLogResourcePolicy(this, 'FailureLogPolicy', {
      policyName: `${props.name}-node-failures`,
      policyDocument: logPolicy.json,
    });
    new CloudwatchEventTarget(this, 'FailureTarget', {
      rule: this.failureRule.name,
      targetId: 'failure-log',
      arn: this.failureLogGroup.arn,
      dependsOn: [resourcePolicy],
    });

    this.failureAlarm = occurrenceAlarm(this, 'FailureAlarm', {
      alarmName: `${props.name}-node-command-failures`,
      description: `A GPU node failed or timed out copying/deleting a model. Which node and command: log group /aws/events/${props.name}-node-failures; output: ${props.outputLogGroupName}. The node converges on its next reconcile.`,
      namespace: 'AWS/Events',
      metricName: 'TriggeredRules',
      dimensions: { RuleName: this.failureRule.name },
      actions: props.alarmActions,
    });
  }
}
