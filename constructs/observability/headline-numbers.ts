/**
 * The headline numbers of the platform: the top row of the dashboard and
 * the lines of `comfy status --cluster`. One definition serves both, so the
 * terminal and the console never disagree about what "GPU nodes" means.
 */
import { Statistic } from './dashboard-model';
import { CAPACITY, CLUSTER_DIMENSION, JOBS, MODEL_SYNC, SERVING } from './metric-names';
import { CLOUDFRONT_METRICS_REGION, ObservedPlatform } from './observed-platform';

/** One metric a headline number reads. */
export interface HeadlineMetric {
  /** Id for GetMetricData / metric math (lower-case start). */
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: Statistic;
}

/** One headline number: a metric, or an expression over several. */
export interface HeadlineNumber {
  /** Id (lower-case start); the value of `expression`, or of the single metric. */
  readonly id: string;
  /** What it is, for the widget title and the terminal line. */
  readonly label: string;
  /** Unit shown after the value. */
  readonly unit: string;
  /** Decimal places shown. */
  readonly decimals: number;
  /** The region to query (CloudFront numbers live in us-east-1). */
  readonly region: string;
  /** Metrics read. */
  readonly metrics: readonly HeadlineMetric[];
  /** Metric math over the metrics' ids; absent when the number is the single metric. */
  readonly expression?: string;
  /** Value when no data points exist in the window (e.g. no GPU nodes have published yet). */
  readonly whenMissing: number | 'unknown';
}

/** Window the headline numbers summarise (seconds). */
export const HEADLINE_PERIOD_SECONDS = 300;

export function headlineNumbers(p: ObservedPlatform): HeadlineNumber[] {
  const cluster = { [CLUSTER_DIMENSION]: p.clusterName };
  const sqsDepth = (id: string, queueName: string): HeadlineMetric => ({ id, namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: queueName }, stat: 'Maximum' });
  const numbers: HeadlineNumber[] = [
    {
      id: 'gpuNodes',
      label: 'GPU nodes',
      unit: '',
      decimals: 0,
      region: p.region,
      metrics: [{ id: 'gpuNodes', namespace: CAPACITY.namespace, metricName: CAPACITY.metrics.gpuNodes, dimensions: cluster, stat: 'Maximum' }],
      whenMissing: 'unknown',
    },
    {
      id: 'spend',
      label: 'GPU spend (estimate)',
      unit: 'USD/h',
      decimals: 2,
      region: p.region,
      metrics: [{ id: 'spend', namespace: CAPACITY.namespace, metricName: CAPACITY.metrics.estimatedGpuSpendPerHour, dimensions: cluster, stat: 'Average' }],
      whenMissing: 'unknown',
    },
    {
      id: 'queue',
      label: 'ComfyUI queue (running + pending)',
      unit: 'prompts',
      decimals: 0,
      region: p.region,
      metrics: [
        { id: 'running', namespace: SERVING.namespace, metricName: SERVING.metrics.queueRunning, dimensions: cluster, stat: 'Maximum' },
        { id: 'pending', namespace: SERVING.namespace, metricName: SERVING.metrics.queuePending, dimensions: cluster, stat: 'Maximum' },
      ],
      expression: 'FILL(running, 0) + FILL(pending, 0)',
      whenMissing: 0,
    },
    {
      id: 'modelsReady',
      label: 'Every GPU node model-ready (1 = yes)',
      unit: '',
      decimals: 0,
      region: p.region,
      metrics: [{ id: 'modelsReady', namespace: MODEL_SYNC.namespace, metricName: MODEL_SYNC.metrics.nodeModelsReady, dimensions: cluster, stat: 'Minimum' }],
      whenMissing: 'unknown',
    },
    {
      id: 'modelSyncDlq',
      label: 'Model-sync DLQ messages',
      unit: '',
      decimals: 0,
      region: p.region,
      metrics: [sqsDepth('modelSyncDlq', p.modelSync.deadLetterQueueName)],
      whenMissing: 0,
    },
    {
      id: 'spotWarnings',
      label: 'Spot interruption warnings',
      unit: 'in 5 min',
      decimals: 0,
      region: p.region,
      metrics: [{ id: 'spotWarnings', namespace: 'AWS/Events', metricName: 'TriggeredRules', dimensions: { RuleName: p.interruptions.spotRuleName }, stat: 'Sum' }],
      whenMissing: 0,
    },
    {
      id: 'edge5xx',
      label: 'Edge 5xx rate',
      unit: '%',
      decimals: 2,
      region: CLOUDFRONT_METRICS_REGION,
      metrics: [{ id: 'edge5xx', namespace: 'AWS/CloudFront', metricName: '5xxErrorRate', dimensions: { DistributionId: p.edge.distributionId, Region: 'Global' }, stat: 'Average' }],
      whenMissing: 0,
    },
  ];
  if (p.jobs) {
    numbers.push({
      id: 'jobsBacklog',
      label: 'Jobs backlog (queued + running)',
      unit: 'jobs',
      decimals: 0,
      region: p.region,
      metrics: [
        sqsDepth('jobsVisible', p.jobs.queueName),
        { id: 'jobsInFlight', namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesNotVisible', dimensions: { QueueName: p.jobs.queueName }, stat: 'Maximum' },
      ],
      expression: 'FILL(jobsVisible, 0) + FILL(jobsInFlight, 0)',
      whenMissing: 0,
    });
    numbers.push({
      id: 'jobsFailed',
      label: 'Jobs failed',
      unit: 'in 5 min',
      decimals: 0,
      region: p.region,
      metrics: [{ id: 'jobsFailed', namespace: JOBS.namespace, metricName: JOBS.metrics.jobsFailed, dimensions: cluster, stat: 'Sum' }],
      whenMissing: 0,
    });
  }
  return numbers;
}
