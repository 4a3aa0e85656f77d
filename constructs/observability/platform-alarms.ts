/**
 * The alarms that tell an operator the platform needs attention, each with
 * a runbook section in docs/operations.md (the `runbook` anchor below; a
 * test keeps the two in step). Alarms on CloudFront metrics live in
 * us-east-1, where CloudFront publishes them, and notify a topic there.
 */
import { CloudwatchMetricAlarm, CloudwatchMetricAlarmMetricQuery } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Construct } from 'constructs';
import { CAPACITY, CLUSTER_DIMENSION, MODEL_SYNC, SERVING } from './metric-names';
import { ObservedPlatform } from './observed-platform';

/** Alarm thresholds (config observability.alarms). */
export interface AlarmThresholds {
  /** Minutes a node may report not model-ready before the alarm (multiple of 5). */
  readonly nodeNotReadyMinutes: number;
  /** Minutes GPU nodes may run with an empty queue before the alarm (multiple of 5). */
  readonly idleGpuMinutes: number;
  /** Edge 5xx rate (percent of requests) that alarms. */
  readonly edge5xxRatePercent: number;
  /** Requests per 5 minutes below which the 5xx rate is not judged. */
  readonly edge5xxMinRequests: number;
  /** Spot interruption warnings within 15 minutes that make a storm. */
  readonly spotInterruptionsPer15Minutes: number;
}

export interface PlatformAlarmsProps {
  /** Alarm name prefix (`<prefix>-ops-...`). */
  readonly namePrefix: string;
  /** What is watched. */
  readonly platform: ObservedPlatform;
  readonly thresholds: AlarmThresholds;
  /** Topic in the deployment region. */
  readonly topicArn: string;
  /** Topic in us-east-1 (CloudFront alarms); the same as topicArn when the deployment is in us-east-1. */
  readonly edgeTopicArn: string;
  /** Provider for us-east-1; undefined when the deployment is in us-east-1. */
  readonly edgeProvider?: AwsProvider;
}

/** One alarm and where its runbook is. */
export interface PlatformAlarm {
  readonly alarm: CloudwatchMetricAlarm;
  /** Alarm name suffix after `<prefix>-ops-`, also the runbook anchor in docs/operations.md. */
  readonly key: string;
}

/** Every platform alarm's name starts with this (`comfy status --cluster` lists those in ALARM). */
export function opsAlarmPrefix(namePrefix: string): string {
  return `${namePrefix}-ops-`;
}

/** Runbook anchor of an alarm key in docs/operations.md. */
export function runbookAnchor(key: string): string {
  return `alarm-${key}`;
}

export class PlatformAlarms extends Construct {
  /** Every alarm, in creation order. */
  public readonly alarms: PlatformAlarm[] = [];

  constructor(scope: Construct, id: string, props: PlatformAlarmsProps) {
    super(scope, id);
    const { platform: p, thresholds: t } = props;
    const cluster = { [CLUSTER_DIMENSION]: p.clusterName };
    for (const minutes of [t.nodeNotReadyMinutes, t.idleGpuMinutes]) {
      if (minutes % 5 !== 0 || minutes < 5) throw new Error(`alarm windows are whole 5-minute periods, got ${minutes} minutes`);
    }

    const add = (key: string, description: string, spec: Omit<ConstructorParameters<typeof CloudwatchMetricAlarm>[2], 'alarmName' | 'alarmDescription' | 'alarmActions' | 'okActions'>, edge = false) => {
      const actions = [edge ? props.edgeTopicArn : props.topicArn];
      const alarm = new CloudwatchMetricAlarm(this, key, {
        alarmName: `${opsAlarmPrefix(props.namePrefix)}${key}`,
        alarmDescription: `${description} Runbook: docs/operations.md#${runbookAnchor(key)}`,
        alarmActions: actions,
        okActions: actions,
        ...(edge && props.edgeProvider ? { provider: props.edgeProvider } : {}),
        ...spec,
      });
      this.alarms.push({ alarm, key });
      return alarm;
    };

    const dlqNotEmpty = (key: string, description: string, queueName: string) =>
      add(key, description, {
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: queueName },
        statistic: 'Maximum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
      });
    dlqNotEmpty('model-sync-dlq', 'Model-sync events failed every retry and wait in the dead-letter queue.', p.modelSync.deadLetterQueueName);

    const readyPeriods = t.nodeNotReadyMinutes / 5;
    add('node-not-model-ready', `A GPU node has reported NodeModelsReady 0 for ${t.nodeNotReadyMinutes} minutes: ComfyUI cannot start there.`, {
      namespace: MODEL_SYNC.namespace,
      metricName: MODEL_SYNC.metrics.nodeModelsReady,
      dimensions: cluster,
      statistic: 'Minimum',
      period: 300,
      evaluationPeriods: readyPeriods,
      datapointsToAlarm: readyPeriods,
      threshold: 1,
      comparisonOperator: 'LessThanThreshold',
      // No GPU nodes means no data, which is healthy.
      treatMissingData: 'notBreaching',
    });

    const idlePeriods = t.idleGpuMinutes / 5;
    const stat = (id: string, namespace: string, metricName: string, dimensions: Record<string, string>): CloudwatchMetricAlarmMetricQuery => ({
      id,
      returnData: false,
      metric: { namespace, metricName, dimensions, stat: 'Maximum', period: 300 },
    });
    const queueTerms = ['FILL(running, 0)', 'FILL(pending, 0)'];
    const idleQueries = [
      stat('gpu', CAPACITY.namespace, CAPACITY.metrics.gpuNodes, cluster),
      stat('running', SERVING.namespace, SERVING.metrics.queueRunning, cluster),
      stat('pending', SERVING.namespace, SERVING.metrics.queuePending, cluster),
    ];
    if (p.jobs) {
      idleQueries.push(stat('jobsQueued', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: p.jobs.queueName }));
      idleQueries.push(stat('jobsRunning', 'AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', { QueueName: p.jobs.queueName }));
      queueTerms.push('FILL(jobsQueued, 0)', 'FILL(jobsRunning, 0)');
    }
    add('gpu-idle', `GPU nodes have run for ${t.idleGpuMinutes} minutes with nothing queued or running: money is burning.`, {
      metricQuery: [
        ...idleQueries,
        { id: 'idle', label: 'GPU nodes up with an empty queue (1 = yes)', returnData: true, expression: `IF(FILL(gpu, 0) > 0 AND (${queueTerms.join(' + ')}) == 0, 1, 0)` },
      ],
      evaluationPeriods: idlePeriods,
      datapointsToAlarm: idlePeriods,
      threshold: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });

    const distribution = { DistributionId: p.edge.distributionId, Region: 'Global' };
    add(
      'edge-5xx-rate',
      `More than ${t.edge5xxRatePercent}% of requests at CloudFront failed with 5xx (judged when at least ${t.edge5xxMinRequests} requests in 5 minutes).`,
      {
        metricQuery: [
          { id: 'rate', returnData: false, metric: { namespace: 'AWS/CloudFront', metricName: '5xxErrorRate', dimensions: distribution, stat: 'Average', period: 300 } },
          { id: 'requests', returnData: false, metric: { namespace: 'AWS/CloudFront', metricName: 'Requests', dimensions: distribution, stat: 'Sum', period: 300 } },
          { id: 'judged', label: '5xx rate (%) when traffic is enough to judge', returnData: true, expression: `IF(FILL(requests, 0) >= ${t.edge5xxMinRequests}, FILL(rate, 0), 0)` },
        ],
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        threshold: t.edge5xxRatePercent,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
      },
      true,
    );

    add('spot-interruption-storm', `At least ${t.spotInterruptionsPer15Minutes} Spot interruption warnings for this account and region within 15 minutes.`, {
      namespace: 'AWS/Events',
      metricName: 'TriggeredRules',
      dimensions: { RuleName: p.interruptions.spotRuleName },
      statistic: 'Sum',
      period: 900,
      evaluationPeriods: 1,
      threshold: t.spotInterruptionsPer15Minutes,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });

    const lambdaErrors = (key: string, functionName: string, what: string) =>
      add(key, `The ${what} Lambda returned errors in the last 5 minutes.`, {
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: functionName },
        statistic: 'Sum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
      });
    lambdaErrors('model-sync-lambda-errors', p.modelSync.functionName, 'model-sync');
    lambdaErrors('capacity-publisher-errors', p.capacityPublisherFunctionName, 'capacity publisher (GPU node counts and spend estimate; the idle-GPU alarm depends on it)');

    if (p.jobs) {
      dlqNotEmpty('jobs-dlq', 'Jobs failed every attempt and wait in the jobs dead-letter queue.', p.jobs.deadLetterQueueName);
    }
  }
}
