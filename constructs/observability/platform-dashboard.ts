/**
 * The platform's one dashboard as a typed model: headline numbers, alarm
 * states, then one row per area (GPUs, serving, model sync, capacity and
 * cost, edge, jobs). Each widget is described in docs/observability.md.
 *
 * Per-node and per-pod lines use SEARCH expressions pinned to one dimension
 * set, so nodes and replicas that come and go appear without a redeploy.
 */
import { DashboardModel, ExpressionSeries, MetricSeries, MetricWidget, SearchSeries, Statistic, Widget } from './dashboard-model';
import { HEADLINE_PERIOD_SECONDS, headlineNumbers } from './headline-numbers';
import { CAPACITY, CLUSTER_DIMENSION, JOBS, MODEL_SYNC, SERVING } from './metric-names';
import { CLOUDFRONT_METRICS_REGION, ObservedPlatform } from './observed-platform';

/** Container Insights (CloudWatch observability add-on) metric names read here. */
export const CONTAINER_INSIGHTS = {
  namespace: 'ContainerInsights',
  nodeDimensions: [CLUSTER_DIMENSION, 'InstanceId', 'NodeName'],
  podDimensions: [CLUSTER_DIMENSION, 'Namespace', 'PodName'],
  metrics: {
    nodeGpuUtilization: 'node_gpu_utilization',
    nodeGpuMemoryUtilization: 'node_gpu_memory_utilization',
    podGpuUtilization: 'pod_gpu_utilization',
    podGpuMemoryUtilization: 'pod_gpu_memory_utilization',
  },
} as const;

/** Thresholds drawn on the graphs (the alarms' own). */
export interface DashboardThresholds {
  /** Edge 5xx rate alarm threshold (percent). */
  readonly edge5xxRatePercent: number;
  /** Spot warnings in 15 minutes that make a storm. */
  readonly spotInterruptionsPer15Minutes: number;
}

export interface PlatformDashboardInput {
  /** What is watched. */
  readonly platform: ObservedPlatform;
  /** ARNs of the platform alarms (alarm status widget). */
  readonly alarmArns: readonly string[];
  /** Alarm thresholds drawn as lines. */
  readonly thresholds: DashboardThresholds;
  /** Link text naming the price table source (shown beside the estimate). */
  readonly priceNote: string;
}

const metric = (namespace: string, metricName: string, dimensions: Record<string, string>, extra: Partial<Omit<MetricSeries, 'kind' | 'namespace' | 'metricName' | 'dimensions'>> = {}): MetricSeries => ({
  kind: 'metric',
  namespace,
  metricName,
  dimensions,
  ...extra,
});

const expression = (id: string, expr: string, label: string, extra: Partial<Pick<ExpressionSeries, 'visible' | 'rightAxis'>> = {}): ExpressionSeries => ({ kind: 'expression', id, expression: expr, label, ...extra });

export function buildPlatformDashboard(input: PlatformDashboardInput): DashboardModel {
  const p = input.platform;
  const cluster = { [CLUSTER_DIMENSION]: p.clusterName };
  const search = (id: string, namespace: string, metricName: string, dimensionKeys: readonly string[], stat: Statistic, label?: string, period = 60): SearchSeries => ({
    kind: 'search',
    id,
    namespace,
    metricName,
    dimensionKeys,
    filters: cluster,
    stat,
    period,
    label,
  });
  const sqs = (queueName: string, metricName: string, stat: Statistic, label: string, extra: Partial<MetricSeries> = {}) => metric('AWS/SQS', metricName, { QueueName: queueName }, { stat, label, ...extra });
  const lambda = (functionName: string, metricName: string, stat: Statistic, label: string) => metric('AWS/Lambda', metricName, { FunctionName: functionName }, { stat, label });
  const rule = (ruleName: string, label: string) => metric('AWS/Events', 'TriggeredRules', { RuleName: ruleName }, { stat: 'Sum', label });
  const cloudFront = (metricName: string, stat: Statistic, label: string, extra: Partial<MetricSeries> = {}) => metric('AWS/CloudFront', metricName, { DistributionId: p.edge.distributionId, Region: 'Global' }, { stat, label, ...extra });
  const alb = (metricName: string, stat: Statistic, label: string, perTargetGroup: boolean) =>
    metric('AWS/ApplicationELB', metricName, perTargetGroup ? { TargetGroup: p.edge.targetGroupArnSuffix, LoadBalancer: p.edge.loadBalancerArnSuffix } : { LoadBalancer: p.edge.loadBalancerArnSuffix }, { stat, label });

  const headline: Widget[] = headlineNumbers(p).map((n) => ({
    type: 'metric',
    title: n.unit ? `${n.label} (${n.unit})` : n.label,
    view: 'singleValue',
    region: n.region,
    period: HEADLINE_PERIOD_SECONDS,
    width: 3,
    series: [
      ...n.metrics.map((m) => metric(m.namespace, m.metricName, m.dimensions, { id: m.id, stat: m.stat, label: n.label, visible: n.expression === undefined })),
      ...(n.expression ? [expression(n.id, n.expression, n.label)] : []),
    ],
  }));

  const gpuRow: Widget[] = [
    graph('GPU utilisation per node (%)', [search('nodeGpu', CONTAINER_INSIGHTS.namespace, CONTAINER_INSIGHTS.metrics.nodeGpuUtilization, CONTAINER_INSIGHTS.nodeDimensions, 'Average')], { width: 6, period: 60, yAxisLabel: '%' }),
    graph('GPU memory used per node (%)', [search('nodeGpuMem', CONTAINER_INSIGHTS.namespace, CONTAINER_INSIGHTS.metrics.nodeGpuMemoryUtilization, CONTAINER_INSIGHTS.nodeDimensions, 'Average')], { width: 6, period: 60, yAxisLabel: '%' }),
    graph('GPU utilisation per pod (%)', [search('podGpu', CONTAINER_INSIGHTS.namespace, CONTAINER_INSIGHTS.metrics.podGpuUtilization, CONTAINER_INSIGHTS.podDimensions, 'Average')], { width: 6, period: 60, yAxisLabel: '%' }),
    graph('GPU memory used per pod (%)', [search('podGpuMem', CONTAINER_INSIGHTS.namespace, CONTAINER_INSIGHTS.metrics.podGpuMemoryUtilization, CONTAINER_INSIGHTS.podDimensions, 'Average')], { width: 6, period: 60, yAxisLabel: '%' }),
  ];

  const perPod = [CLUSTER_DIMENSION, SERVING.podDimension];
  const servingRow: Widget[] = [
    graph('ComfyUI prompts pending per replica', [search('pending', SERVING.namespace, SERVING.metrics.queuePending, perPod, 'Maximum')], { width: 6, period: 60 }),
    graph('ComfyUI prompts running per replica', [search('running', SERVING.namespace, SERVING.metrics.queueRunning, perPod, 'Maximum')], { width: 6, period: 60 }),
    graph(
      'Prompt duration (s)',
      [
        metric(SERVING.namespace, SERVING.metrics.promptDurationSeconds, cluster, { stat: 'p50', label: 'p50' }),
        metric(SERVING.namespace, SERVING.metrics.promptDurationSeconds, cluster, { stat: 'p95', label: 'p95' }),
        metric(SERVING.namespace, SERVING.metrics.promptDurationSeconds, cluster, { stat: 'SampleCount', label: 'prompts completed', rightAxis: true }),
      ],
      { width: 6, yAxisLabel: 'seconds' },
    ),
    graph('Wake requests from the edge', [metric(SERVING.namespace, SERVING.metrics.wakeRequests, cluster, { stat: 'Sum', label: 'wake signals' })], { width: 6 }),
  ];

  const ms = p.modelSync;
  const modelSyncRow: Widget[] = [
    graph('Model readiness per node (1 = ready)', [search('ready', MODEL_SYNC.namespace, MODEL_SYNC.metrics.nodeModelsReady, [CLUSTER_DIMENSION, MODEL_SYNC.instanceDimension], 'Minimum')], { width: 6, period: 60 }),
    graph(
      'Model sync lag: S3 event to copy on node (s)',
      [
        metric(MODEL_SYNC.namespace, MODEL_SYNC.metrics.syncLagSeconds, cluster, { stat: 'p50', label: 'p50' }),
        metric(MODEL_SYNC.namespace, MODEL_SYNC.metrics.syncLagSeconds, cluster, { stat: 'Maximum', label: 'slowest node (max)' }),
      ],
      { width: 6, yAxisLabel: 'seconds' },
    ),
    graph(
      'Model sync failures by reason',
      [
        search('failures', MODEL_SYNC.namespace, MODEL_SYNC.metrics.syncFailures, [CLUSTER_DIMENSION, MODEL_SYNC.reasonDimension], 'Sum', undefined, 300),
        search('unsyncable', MODEL_SYNC.namespace, MODEL_SYNC.metrics.unsyncableObjects, [CLUSTER_DIMENSION, MODEL_SYNC.instanceDimension], 'Maximum', 'unsyncable objects', 300),
        rule(ms.nodeFailureRuleName, 'failed node commands (SSM)'),
      ],
      { width: 6, stacked: false },
    ),
    graph(
      'Model-sync queue, DLQ and Lambda',
      [
        sqs(ms.queueName, 'ApproximateNumberOfMessagesVisible', 'Maximum', 'events waiting'),
        sqs(ms.deadLetterQueueName, 'ApproximateNumberOfMessagesVisible', 'Maximum', 'DLQ messages'),
        lambda(ms.functionName, 'Invocations', 'Sum', 'Lambda invocations'),
        lambda(ms.functionName, 'Errors', 'Sum', 'Lambda errors'),
        lambda(ms.functionName, 'Throttles', 'Sum', 'Lambda throttles'),
        metric('AWS/Lambda', 'Duration', { FunctionName: ms.functionName }, { stat: 'Maximum', label: 'Lambda duration max (ms)', rightAxis: true }),
      ],
      { width: 6 },
    ),
  ];

  const ir = p.interruptions;
  const capacityRow: Widget[] = [
    graph(
      'GPU nodes by capacity type and instance type',
      [search('nodesByType', CAPACITY.namespace, CAPACITY.metrics.gpuNodes, [CLUSTER_DIMENSION, CAPACITY.capacityTypeDimension, CAPACITY.instanceTypeDimension], 'Maximum')],
      { width: 6, period: 60, stacked: true },
    ),
    graph(
      'Spot interruptions and rebalance events',
      [
        rule(ir.spotRuleName, 'Spot interruption warnings'),
        rule(ir.rebalanceRuleName, 'rebalance recommendations'),
        rule(ir.stateChangeRuleName, 'instance stopping/terminated'),
        rule(ir.scheduledChangeRuleName, 'scheduled maintenance (Health)'),
        sqs(ir.queueName, 'ApproximateAgeOfOldestMessage', 'Maximum', 'oldest unread event (s)', { rightAxis: true }),
      ],
      { width: 6, annotations: [{ value: input.thresholds.spotInterruptionsPer15Minutes, label: 'storm alarm (per 15 min)', color: '#d62728' }] },
    ),
    graph(
      'ESTIMATED GPU spend (USD) — configured prices x instance hours',
      [
        metric(CAPACITY.namespace, CAPACITY.metrics.estimatedGpuSpendPerHour, cluster, { id: 'rate', stat: 'Average', label: 'estimate: USD per hour' }),
        expression('spent', 'RUNNING_SUM(FILL(rate, 0) * PERIOD(rate) / 3600)', 'estimate: USD spent in the time range', { rightAxis: true }),
        expression('month', 'FILL(rate, 0) * 730', 'estimate: USD per month at this rate', { visible: false }),
        metric(CAPACITY.namespace, CAPACITY.metrics.unpricedGpuNodes, cluster, { stat: 'Maximum', label: 'GPU nodes without a configured price' }),
      ],
      { width: 12, period: 300, yAxisLabel: 'USD/hour (estimate)' },
    ),
    text(`**GPU spend is an estimate**: instance hours of this cluster's GPU nodes (from EC2, every minute) x ${input.priceNote}. It excludes EBS, data transfer, the control plane and savings plans; your bill is the truth.`, 24, 2),
  ];

  const edgeRow: Widget[] = [
    graph(
      'Edge requests and error rates (CloudFront)',
      [
        cloudFront('Requests', 'Sum', 'requests', { rightAxis: true }),
        cloudFront('4xxErrorRate', 'Average', '4xx rate (%)'),
        cloudFront('5xxErrorRate', 'Average', '5xx rate (%)'),
      ],
      { width: 6, region: CLOUDFRONT_METRICS_REGION, yAxisLabel: '%', annotations: [{ value: input.thresholds.edge5xxRatePercent, label: '5xx alarm', color: '#d62728' }] },
    ),
    authFailuresWidget(p, cloudFront, alb),
    p.cloudFrontAdditionalMetrics
      ? graph('Origin latency at CloudFront (ms)', [cloudFront('OriginLatency', 'p50', 'p50'), cloudFront('OriginLatency', 'p95', 'p95')], { width: 6, region: CLOUDFRONT_METRICS_REGION, yAxisLabel: 'ms' })
      : text('Origin latency at CloudFront needs CloudFront additional metrics (observability.cloudFrontAdditionalMetrics).', 6, 6),
    graph(
      'ALB: target response time and errors',
      [
        alb('TargetResponseTime', 'p50', 'target response p50 (s)', true),
        alb('TargetResponseTime', 'p95', 'target response p95 (s)', true),
        { ...alb('HTTPCode_Target_5XX_Count', 'Sum', 'ComfyUI 5xx', true), rightAxis: true },
        { ...alb('HTTPCode_ELB_5XX_Count', 'Sum', 'ALB 5xx (no healthy target)', false), rightAxis: true },
        { ...alb('HealthyHostCount', 'Minimum', 'healthy ComfyUI pods', true), rightAxis: true },
      ],
      { width: 6, yAxisLabel: 'seconds' },
    ),
  ];

  const rows: Widget[][] = [
    [text(`# ComfyUI on EKS: ${p.clusterName}\nHealth and cost of the platform. Every widget is described in docs/observability.md; every alarm has a runbook in docs/operations.md.`, 24, 2)],
    headline,
    [{ type: 'alarm', title: 'Platform alarms', alarmArns: input.alarmArns, width: 24, height: 3 }],
    [text('## GPUs (Container Insights, NVIDIA DCGM)', 24, 1), ...gpuRow],
    [text('## Serving (ComfyUI queue, published by the queue-depth sidecar)', 24, 1), ...servingRow],
    [text('## Model sync (S3 -> SQS -> Lambda -> SSM -> nodes)', 24, 1), ...modelSyncRow],
    [text('## Capacity and cost (Karpenter GPU nodes, Spot)', 24, 1), ...capacityRow],
    [text('## Edge (CloudFront in us-east-1, internal ALB)', 24, 1), ...edgeRow],
  ];
  if (p.jobs) rows.push([text('## Batch jobs', 24, 1), ...jobsRow(p.jobs.queueName, p.jobs.deadLetterQueueName, cluster, sqs)]);
  return { region: p.region, start: '-PT12H', rows };
}

function graph(title: string, series: MetricWidget['series'], options: Omit<MetricWidget, 'type' | 'title' | 'series'> = {}): MetricWidget {
  return { type: 'metric', title, series, ...options };
}

function text(markdown: string, width: number, height: number): Widget {
  return { type: 'text', markdown, width, height };
}

function authFailuresWidget(
  p: ObservedPlatform,
  cloudFront: (metricName: string, stat: Statistic, label: string, extra?: Partial<MetricSeries>) => MetricSeries,
  alb: (metricName: string, stat: Statistic, label: string, perTargetGroup: boolean) => MetricSeries,
): Widget {
  if (p.edge.authMode === 'cognito') {
    return graph('Auth failures (ALB Cognito)', [alb('ELBAuthFailure', 'Sum', 'sign-in refused', false), alb('ELBAuthError', 'Sum', 'auth errors (IdP, config)', false)], { width: 6 });
  }
  if (p.edge.authMode === 'basic' && p.edge.authFunctionName) {
    const fn = (metricName: string, label: string) => metric('AWS/CloudFront', metricName, { FunctionName: p.edge.authFunctionName as string, Region: 'Global' }, { stat: 'Sum', label });
    return graph(
      'Auth failures (Basic auth at CloudFront)',
      [
        ...(p.cloudFrontAdditionalMetrics ? [cloudFront('401ErrorRate', 'Average', '401 rate (%): refused credentials', { rightAxis: true })] : []),
        fn('FunctionExecutionErrors', 'auth function errors'),
        fn('FunctionValidationErrors', 'auth function invalid responses'),
        fn('FunctionThrottles', 'auth function throttled'),
      ],
      { width: 6, region: CLOUDFRONT_METRICS_REGION },
    );
  }
  return text('Authentication is off at the edge (edge.auth.mode none): no auth failures to show.', 6, 6);
}

function jobsRow(
  queueName: string,
  deadLetterQueueName: string,
  cluster: Record<string, string>,
  sqs: (queueName: string, metricName: string, stat: Statistic, label: string, extra?: Partial<MetricSeries>) => MetricSeries,
): Widget[] {
  return [
    graph(
      'Jobs finished, failed, retried',
      [
        metric(JOBS.namespace, JOBS.metrics.jobsSucceeded, cluster, { stat: 'Sum', label: 'succeeded' }),
        metric(JOBS.namespace, JOBS.metrics.jobsFailed, cluster, { stat: 'Sum', label: 'failed' }),
        metric(JOBS.namespace, JOBS.metrics.jobsRetried, cluster, { stat: 'Sum', label: 'retried' }),
      ],
      { width: 6 },
    ),
    graph(
      'Job duration (s)',
      [metric(JOBS.namespace, JOBS.metrics.jobDurationSeconds, cluster, { stat: 'p50', label: 'p50' }), metric(JOBS.namespace, JOBS.metrics.jobDurationSeconds, cluster, { stat: 'p95', label: 'p95' })],
      { width: 6, yAxisLabel: 'seconds' },
    ),
    graph(
      'Jobs backlog',
      [
        sqs(queueName, 'ApproximateNumberOfMessagesVisible', 'Maximum', 'queued'),
        sqs(queueName, 'ApproximateNumberOfMessagesNotVisible', 'Maximum', 'running (in flight)'),
        sqs(deadLetterQueueName, 'ApproximateNumberOfMessagesVisible', 'Maximum', 'dead-lettered'),
      ],
      { width: 6, stacked: false },
    ),
    graph('Age of the oldest queued job (s)', [sqs(queueName, 'ApproximateAgeOfOldestMessage', 'Maximum', 'oldest job waiting')], { width: 6, yAxisLabel: 'seconds' }),
  ];
}
