/**
 * An alarm that fires when a metric is above zero in a 5-minute window: the
 * model-sync path has no acceptable failure rate, only "none" or "look".
 * Missing data (no traffic) is not a breach.
 */
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { Construct } from 'constructs';

export interface OccurrenceAlarmProps {
  /** Alarm name. */
  readonly alarmName: string;
  /** What happened and where to look (shown in notifications). */
  readonly description: string;
  /** CloudWatch namespace of the metric, e.g. AWS/SQS. */
  readonly namespace: string;
  /** Metric name. */
  readonly metricName: string;
  /** Metric dimensions. */
  readonly dimensions: Record<string, string>;
  /** Statistic over the window. Default: Sum. */
  readonly statistic?: 'Sum' | 'Maximum';
  /** SNS topics notified on alarm and on recovery. Default: none. */
  readonly actions?: readonly string[];
}

export function occurrenceAlarm(scope: Construct, id: string, props: OccurrenceAlarmProps): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription: props.description,
    namespace: props.namespace,
    metricName: props.metricName,
    dimensions: props.dimensions,
    statistic: props.statistic ?? 'Sum',
    period: 300,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
    alarmActions: [...(props.actions ?? [])],
    okActions: [...(props.actions ?? [])],
  });
}
