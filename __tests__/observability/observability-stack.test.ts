import { readFileSync } from 'fs';
import { join } from 'path';
import { CloudfrontMonitoringSubscription } from '@cdktf/provider-aws/lib/cloudfront-monitoring-subscription';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EksAddon } from '@cdktf/provider-aws/lib/eks-addon';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { contractMetric, CUSTOM_NAMESPACES } from '../../constructs/observability/metric-names';
import { CLOUDFRONT_METRICS_REGION } from '../../constructs/observability/observed-platform';
import { runbookAnchor } from '../../constructs/observability/platform-alarms';
import { FAKE_CLUSTER } from '../helpers/fake-outputs';
import { FAKE_CAPACITY_SOURCES, FAKE_EDGE_SOURCES, FAKE_JOBS_SOURCES, FAKE_MODEL_SYNC_SOURCES, knownResourceNames, renderedMetrics, synthObservability } from './fixtures';

/** AWS namespaces the platform's own resources publish to, with the dimension naming the resource. */
const AWS_NAMESPACE_DIMENSIONS: Record<string, string[]> = {
  'AWS/SQS': ['QueueName'],
  'AWS/Lambda': ['FunctionName'],
  'AWS/Events': ['RuleName'],
  'AWS/CloudFront': ['DistributionId', 'FunctionName', 'Region'],
  'AWS/ApplicationELB': ['LoadBalancer', 'TargetGroup'],
  // Published by the CloudWatch observability add-on this stack installs, per ClusterName.
  ContainerInsights: ['ClusterName'],
};

const alarmsOf = (parsed: any) => Object.values<any>(parsed.resource.aws_cloudwatch_metric_alarm);
const alarmNamed = (parsed: any, suffix: string) => alarmsOf(parsed).find((a) => a.alarm_name === `comfyui-dev-ops-${suffix}`);
const policyDoc = (parsed: any, prefix: string) => parsed.data.aws_iam_policy_document[Object.keys(parsed.data.aws_iam_policy_document).find((k) => k.startsWith(prefix))!];

describe('observability stack: dashboard', () => {
  it.each([
    ['basic auth, no jobs', {}, false],
    ['cognito-like mode none, with jobs', { edge: { auth: { mode: 'none' as const, acknowledgeUnauthenticated: true } } }, true],
  ])('reads only contract metrics or AWS metrics of resources the stacks create (%s)', (_name, input, jobs) => {
    const { body } = synthObservability(input, { jobs });
    const metrics = renderedMetrics(body);
    expect(metrics.length).toBeGreaterThan(30);
    const known = knownResourceNames(jobs);
    for (const m of metrics) {
      const where = `${m.widget}: ${m.namespace} ${m.metricName}`;
      if ((CUSTOM_NAMESPACES as readonly string[]).includes(m.namespace)) {
        const entry = contractMetric(m.namespace, m.metricName);
        expect({ where, inContract: entry !== undefined }).toEqual({ where, inContract: true });
        expect({ where, dims: entry!.dimensionSets.some((set) => set.length === m.dimensionKeys.length && set.every((d, i) => d === m.dimensionKeys[i])) }).toEqual({ where, dims: true });
        expect(m.dimensions.ClusterName).toBe(FAKE_CLUSTER.clusterName);
      } else {
        const allowed = AWS_NAMESPACE_DIMENSIONS[m.namespace];
        expect({ where, awsNamespaceOfThePlatform: allowed !== undefined }).toEqual({ where, awsNamespaceOfThePlatform: true });
        const naming = Object.entries(m.dimensions);
        expect(naming.length).toBeGreaterThan(0);
        for (const [dimension, value] of naming) {
          expect({ where, dimension, value, known: known[dimension]?.has(value) ?? false }).toEqual({ where, dimension, value, known: true });
        }
      }
    }
  });

  it('queries CloudFront metrics in us-east-1 and everything else in the deployment region', () => {
    const { body } = synthObservability({ region: 'eu-central-1' });
    for (const m of renderedMetrics(body)) {
      expect({ widget: m.widget, region: m.region }).toEqual({ widget: m.widget, region: m.namespace === 'AWS/CloudFront' ? CLOUDFRONT_METRICS_REGION : 'eu-central-1' });
    }
  });

  it('has the widgets the issue lists', () => {
    const titles = synthObservability({}, { jobs: true }).body.widgets.filter((w: any) => w.type === 'metric').map((w: any) => w.properties.title);
    for (const expected of [
      'GPU utilisation per node (%)',
      'GPU memory used per node (%)',
      'GPU utilisation per pod (%)',
      'GPU memory used per pod (%)',
      'ComfyUI prompts pending per replica',
      'ComfyUI prompts running per replica',
      'Prompt duration (s)',
      'Model readiness per node (1 = ready)',
      'Model sync lag: S3 event to copy on node (s)',
      'Model sync failures by reason',
      'Model-sync queue, DLQ and Lambda',
      'GPU nodes by capacity type and instance type',
      'Spot interruptions and rebalance events',
      'ESTIMATED GPU spend (USD) — configured prices x instance hours',
      'Edge requests and error rates (CloudFront)',
      'Auth failures (Basic auth at CloudFront)',
      'Origin latency at CloudFront (ms)',
      'ALB: target response time and errors',
      'Jobs finished, failed, retried',
      'Jobs backlog',
      'Age of the oldest queued job (s)',
    ]) {
      expect(titles).toContain(expected);
    }
  });

  it('shows jobs widgets only when the jobs sources are wired', () => {
    const without = synthObservability().synth;
    expect(without).not.toContain('ComfyUI/Jobs');
    expect(without).not.toContain(FAKE_JOBS_SOURCES.queueName);
    const withJobs = synthObservability({}, { jobs: true }).synth;
    expect(withJobs).toContain('ComfyUI/Jobs');
  });

  it('shows auth failures from the ALB in cognito mode and a note when auth is off', () => {
    const none = synthObservability({ edge: { auth: { mode: 'none', acknowledgeUnauthenticated: true } } }).body;
    expect(JSON.stringify(none)).toContain('Authentication is off at the edge');
    expect(JSON.stringify(none)).not.toContain('FunctionExecutionErrors');
  });

  it('labels the spend line as an estimate and sums it over the time range', () => {
    const { body } = synthObservability();
    const spend = body.widgets.find((w: any) => w.properties.title?.startsWith('ESTIMATED GPU spend'));
    const labels = spend.properties.metrics.map((row: any[]) => row[row.length - 1].label);
    expect(labels.filter((l: string) => l.startsWith('estimate:'))).toHaveLength(3);
    expect(JSON.stringify(spend)).toContain('RUNNING_SUM(FILL(rate, 0) * PERIOD(rate) / 3600)');
  });

  it('lists every platform alarm in the alarm status widget', () => {
    const { body, parsed } = synthObservability({}, { jobs: true });
    const widget = body.widgets.find((w: any) => w.type === 'alarm');
    expect(widget.properties.alarms).toHaveLength(alarmsOf(parsed).length);
  });
});

describe('observability stack: alarms', () => {
  it('creates the six alarm kinds of the issue, each notifying the topic of its region', () => {
    const { parsed } = synthObservability();
    const names = alarmsOf(parsed).map((a) => a.alarm_name).sort();
    expect(names).toEqual(
      [
        'capacity-publisher-errors',
        'edge-5xx-rate',
        'gpu-idle',
        'model-sync-dlq',
        'model-sync-lambda-errors',
        'node-not-model-ready',
        'spot-interruption-storm',
      ].map((k) => `comfyui-dev-ops-${k}`),
    );
    for (const alarm of alarmsOf(parsed)) {
      const edge = alarm.alarm_name.endsWith('edge-5xx-rate');
      const topic = edge ? '${aws_sns_topic.EdgeAlarmTopic_' : '${aws_sns_topic.AlarmTopic_';
      expect(alarm.alarm_actions).toHaveLength(1);
      expect(alarm.alarm_actions[0].startsWith(topic)).toBe(true);
      expect(alarm.ok_actions).toEqual(alarm.alarm_actions);
      expect(alarm.provider).toBe(edge ? 'aws.us_east_1' : undefined);
      expect(alarm.alarm_description).toMatch(/Runbook: docs\/operations\.md#alarm-/);
    }
  });

  it('alarms on the model-sync DLQ, readiness for 15 minutes, Lambda errors and a Spot storm', () => {
    const { parsed } = synthObservability();
    expect(alarmNamed(parsed, 'model-sync-dlq')).toMatchObject({ namespace: 'AWS/SQS', metric_name: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: FAKE_MODEL_SYNC_SOURCES.deadLetterQueueName }, threshold: 0, comparison_operator: 'GreaterThanThreshold' });
    expect(alarmNamed(parsed, 'node-not-model-ready')).toMatchObject({
      namespace: 'ComfyUI/ModelSync',
      metric_name: 'NodeModelsReady',
      dimensions: { ClusterName: FAKE_CLUSTER.clusterName },
      statistic: 'Minimum',
      period: 300,
      evaluation_periods: 3,
      datapoints_to_alarm: 3,
      threshold: 1,
      comparison_operator: 'LessThanThreshold',
      treat_missing_data: 'notBreaching',
    });
    expect(alarmNamed(parsed, 'model-sync-lambda-errors')).toMatchObject({ namespace: 'AWS/Lambda', metric_name: 'Errors', dimensions: { FunctionName: FAKE_MODEL_SYNC_SOURCES.functionName } });
    expect(alarmNamed(parsed, 'spot-interruption-storm')).toMatchObject({ namespace: 'AWS/Events', metric_name: 'TriggeredRules', dimensions: { RuleName: FAKE_CAPACITY_SOURCES.spotRuleName }, period: 900, threshold: 3, comparison_operator: 'GreaterThanOrEqualToThreshold' });
  });

  it('alarms when GPU nodes run for an hour with an empty queue, counting the jobs backlog once wired', () => {
    const idle = alarmNamed(synthObservability().parsed, 'gpu-idle');
    expect(idle).toMatchObject({ evaluation_periods: 12, datapoints_to_alarm: 12, threshold: 1 });
    const expression = idle.metric_query.find((q: any) => q.return_data).expression;
    expect(expression).toBe('IF(FILL(gpu, 0) > 0 AND (FILL(running, 0) + FILL(pending, 0)) == 0, 1, 0)');
    expect(idle.metric_query.find((q: any) => q.id === 'gpu').metric).toMatchObject({ namespace: 'ComfyUI/Capacity', metric_name: 'GpuNodes', dimensions: { ClusterName: FAKE_CLUSTER.clusterName } });

    const withJobs = alarmNamed(synthObservability({}, { jobs: true }).parsed, 'gpu-idle');
    expect(withJobs.metric_query.find((q: any) => q.return_data).expression).toContain('FILL(jobsQueued, 0) + FILL(jobsRunning, 0)');
    expect(alarmNamed(synthObservability({}, { jobs: true }).parsed, 'jobs-dlq').dimensions).toEqual({ QueueName: FAKE_JOBS_SOURCES.deadLetterQueueName });
  });

  it('judges the edge 5xx rate in us-east-1 only with enough requests', () => {
    const edge = alarmNamed(synthObservability({ observability: { alarms: { edge5xxRatePercent: 2.5, edge5xxMinRequests: 50 } } }).parsed, 'edge-5xx-rate');
    expect(edge.threshold).toBe(2.5);
    expect(edge.metric_query.find((q: any) => q.return_data).expression).toBe('IF(FILL(requests, 0) >= 50, FILL(rate, 0), 0)');
    expect(edge.metric_query.find((q: any) => q.id === 'rate').metric.dimensions).toEqual({ DistributionId: FAKE_EDGE_SOURCES.distributionId, Region: 'Global' });
  });

  it('has a runbook entry in docs/operations.md for every alarm', () => {
    const operations = readFileSync(join(__dirname, '../../docs/operations.md'), 'utf8');
    const { parsed } = synthObservability({}, { jobs: true });
    for (const alarm of alarmsOf(parsed)) {
      const key = alarm.alarm_name.replace('comfyui-dev-ops-', '');
      expect({ key, runbook: operations.includes(`<a id="${runbookAnchor(key)}"></a>`) }).toEqual({ key, runbook: true });
    }
  });
});

describe('observability stack: alarm topics', () => {
  it('encrypts each topic with its own key and lets only this account’s platform alarms publish', () => {
    const { synth, parsed } = synthObservability();
    expect(synth).toHaveResourceWithProperties(SnsTopic, { name: 'comfyui-dev-alarms', kms_master_key_id: expect.stringContaining('aws_kms_key.AlarmTopic_Key_') });
    expect(synth).toHaveResourceWithProperties(SnsTopic, { name: 'comfyui-dev-alarms-us-east-1', provider: 'aws.us_east_1', kms_master_key_id: expect.stringContaining('aws_kms_key.EdgeAlarmTopic_Key_') });
    const statements = policyDoc(parsed, 'AlarmTopic_TopicPolicyDocument').statement;
    const publish = statements.find((s: any) => s.sid === 'PlatformAlarmsPublish');
    expect(publish.principals).toEqual([{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }]);
    expect(publish.actions).toEqual(['sns:Publish']);
    expect(publish.condition).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ test: 'ArnLike', variable: 'aws:SourceArn', values: [expect.stringMatching(/^arn:\$\{.*\}:cloudwatch:us-west-2:\$\{.*\}:alarm:comfyui-dev-\*$/)] }),
        expect.objectContaining({ test: 'StringEquals', variable: 'aws:SourceAccount' }),
      ]),
    );
    // Nobody else may publish: the only other Allow is the account managing subscriptions.
    const allows = statements.filter((s: any) => s.effect === 'Allow');
    expect(allows.map((s: any) => s.sid).sort()).toEqual(['AccountManagesSubscriptions', 'PlatformAlarmsPublish']);
    expect(allows.find((s: any) => s.sid === 'AccountManagesSubscriptions').actions).not.toContain('sns:Publish');
    expect(statements.find((s: any) => s.sid === 'DenyInsecureTransport')).toMatchObject({ effect: 'Deny', condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }] });
    const key = policyDoc(parsed, 'AlarmTopic_KeyPolicy').statement.find((s: any) => s.sid === 'CloudWatchAlarmsEncryptMessages');
    expect(key.actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(key.condition.map((c: any) => c.variable).sort()).toEqual(['aws:SourceAccount', 'aws:SourceArn']);
  });

  it('subscribes configured emails to both topics, and none by default', () => {
    expect(Object.keys(synthObservability().parsed.resource.aws_sns_topic_subscription ?? {})).toHaveLength(0);
    const { synth } = synthObservability({ observability: { alarmEmails: ['ops@example.com'] } });
    expect(synth).toHaveResourceWithProperties(SnsTopicSubscription, { protocol: 'email', endpoint: 'ops@example.com', topic_arn: expect.stringMatching(/^\$\{aws_sns_topic\.AlarmTopic_/) });
    expect(synth).toHaveResourceWithProperties(SnsTopicSubscription, { protocol: 'email', endpoint: 'ops@example.com', provider: 'aws.us_east_1' });
  });

  it('uses one topic and no second provider when deployed in us-east-1', () => {
    const { parsed } = synthObservability({ region: 'us-east-1' });
    expect(Object.keys(parsed.resource.aws_sns_topic)).toHaveLength(1);
    expect(parsed.provider.aws).toHaveLength(1);
    expect(alarmsOf(parsed).every((a) => a.provider === undefined)).toBe(true);
  });
});

describe('observability stack: GPU metrics and the capacity publisher', () => {
  it('installs the CloudWatch observability add-on with a Pod Identity role limited to its namespace and log groups', () => {
    const { synth, parsed } = synthObservability();
    expect(synth).toHaveResourceWithProperties(EksAddon, {
      addon_name: 'amazon-cloudwatch-observability',
      addon_version: 'v4.5.0-eksbuild.1',
      configuration_values: JSON.stringify({ containerLogs: { enabled: false } }),
      pod_identity_association: [{ service_account: 'cloudwatch-agent', role_arn: expect.stringContaining('aws_iam_role.ContainerInsights_AgentRole_') }],
    });
    const trust = policyDoc(parsed, 'ContainerInsights_AgentRole_Trust').statement[0];
    expect(trust.condition).toEqual(expect.arrayContaining([{ test: 'StringEquals', variable: 'aws:RequestTag/kubernetes-namespace', values: ['amazon-cloudwatch'] }]));
    const statements = policyDoc(parsed, 'ContainerInsights_AgentRole_Permissions').statement;
    expect(statements.find((s: any) => s.sid === 'PublishContainerInsightsMetrics').condition).toEqual([{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: ['ContainerInsights'] }]);
    expect(statements.find((s: any) => s.sid === 'WriteClusterLogGroups').resources[0]).toMatch(/:log-group:\/aws\/containerinsights\/comfyui-dev\/\*$/);
    expect(synth).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/containerinsights/comfyui-dev/performance', retention_in_days: 7 });
  });

  it('leaves GPU metrics out when observability.gpuMetrics.enabled is false', () => {
    const { parsed } = synthObservability({ observability: { gpuMetrics: { enabled: false } } });
    expect(parsed.resource.aws_eks_addon).toBeUndefined();
  });

  it('runs the capacity publisher every minute, publishing only to ComfyUI/Capacity', () => {
    const { synth, parsed } = synthObservability();
    expect(synth).toHaveResourceWithProperties(CloudwatchEventRule, { schedule_expression: 'rate(1 minute)' });
    const statements = policyDoc(parsed, 'CapacityPublisher_Permissions').statement;
    expect(statements.find((s: any) => s.sid === 'PublishOwnNamespaceOnly').condition).toEqual([{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: ['ComfyUI/Capacity'] }]);
    expect(statements.map((s: any) => s.actions).flat().sort()).toEqual(['cloudwatch:PutMetricData', 'ec2:DescribeInstances', 'logs:CreateLogStream', 'logs:PutLogEvents']);
    const fn = Object.values<any>(parsed.resource.aws_lambda_function)[0];
    expect(Object.values<any>(parsed.resource.aws_lambda_function_event_invoke_config)[0]).toMatchObject({ maximum_retry_attempts: 0, maximum_event_age_in_seconds: 60 });
    expect(fn.timeout).toBeLessThan(60);
    expect(fn.environment.variables).toMatchObject({ CLUSTER_NAME: FAKE_CLUSTER.clusterName, GPU_NODE_TAG_KEY: 'comfyui-model-sync', GPU_NODE_TAG_VALUE: 'comfyui-dev', SPOT_PRICE_RATIO: '0.4' });
    expect(JSON.parse(fn.environment.variables.GPU_PRICES)['g6.xlarge']).toEqual({ onDemand: 0.8048 });
  });

  it('turns on CloudFront additional metrics for the distribution, through us-east-1', () => {
    expect(synthObservability().synth).toHaveResourceWithProperties(CloudfrontMonitoringSubscription, {
      distribution_id: FAKE_EDGE_SOURCES.distributionId,
      provider: 'aws.us_east_1',
      monitoring_subscription: { realtime_metrics_subscription_config: { realtime_metrics_subscription_status: 'Enabled' } },
    });
    expect(synthObservability({ observability: { cloudFrontAdditionalMetrics: false } }).parsed.resource.aws_cloudfront_monitoring_subscription).toBeUndefined();
  });

  it('warns about GPU types without a price and about two DCGM exporters, naming the fields', () => {
    const warnings = (stack: any) => JSON.stringify(stack.node.findAll().flatMap((c: any) => c.node.metadata).filter((m: any) => m.type === '@cdktf/warn'));
    expect(warnings(synthObservability().stack)).toBe('[]');
    const both = synthObservability({ karpenter: { dcgmExporter: { enabled: true } }, observability: { gpuPrices: { 'g6.xlarge': { onDemand: 0.8 } } } }).stack;
    expect(warnings(both)).toContain('observability.gpuPrices has no price for instance types the GPU NodePools may launch: g4dn.2xlarge');
    expect(warnings(both)).toContain('karpenter.dcgmExporter.enabled and observability.gpuMetrics.enabled both run');
  });

  it('matches the snapshot', () => {
    expect(synthObservability().synth).toMatchSnapshot();
  });
});
