/**
 * Observability stack: the one dashboard, the platform alarms and the SNS
 * topic(s) they notify, GPU metrics (the CloudWatch observability add-on
 * with its agent's Pod Identity role) and the capacity publisher (GPU node
 * counts and the estimated spend). AWS only. It reads what it watches from
 * the other stacks' typed `metricSources`, so it deploys last and never
 * looks a name up; `jobs` is optional until the jobs stack lands (one line
 * in stacks/app.ts wires it).
 *
 * CloudFront publishes its metrics in us-east-1 only: the edge widgets say
 * so, and the edge 5xx alarm (with a topic of its own, since an alarm
 * notifies topics of its region) is created through a us-east-1 provider.
 */
import { CloudfrontMonitoringSubscription } from '@cdktf/provider-aws/lib/cloudfront-monitoring-subscription';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Annotations, TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { defaultTags, gpuNodeTag } from '../config';
import { eligibleGpuInstanceTypes } from '../config/gpu-instance-types';
import { AlarmTopic } from '../constructs/observability/alarm-topic';
import { CapacityPublisher } from '../constructs/observability/capacity-publisher';
import { ContainerInsights } from '../constructs/observability/container-insights';
import { DashboardModel, renderDashboard } from '../constructs/observability/dashboard-model';
import { CLOUDFRONT_METRICS_REGION, ObservedPlatform } from '../constructs/observability/observed-platform';
import { buildPlatformDashboard } from '../constructs/observability/platform-dashboard';
import { opsAlarmPrefix, PlatformAlarms } from '../constructs/observability/platform-alarms';
import { CapacityMetricSources, ClusterOutputs, EdgeMetricSources, JobsMetricSources, ModelSyncMetricSources } from './contracts';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface ObservabilityStackProps extends PlatformStackProps {
  /** The cluster (ClusterName dimension, add-on, Pod Identity). */
  readonly cluster: ClusterOutputs;
  /** Karpenter's interruption queue and rules (capacity stack). */
  readonly capacity: CapacityMetricSources;
  /** The model-sync queues, function and rule (model-sync stack). */
  readonly modelSync: ModelSyncMetricSources;
  /** Distribution, ALB, target group, auth function (edge stack). */
  readonly edge: EdgeMetricSources;
  /** The jobs queue and DLQ (jobs stack). Default: no jobs widgets or alarm. */
  readonly jobs?: JobsMetricSources;
}

export class ObservabilityStack extends PlatformStack {
  /** What is watched (also the status_sources output). */
  public readonly platform: ObservedPlatform;
  /** The dashboard model (tests and docs read it). */
  public readonly dashboardModel: DashboardModel;
  /** The dashboard. */
  public readonly dashboard: CloudwatchDashboard;
  /** The platform alarms. */
  public readonly alarms: PlatformAlarms;
  /** Topic in the deployment region. */
  public readonly topic: AlarmTopic;
  /** Topic in us-east-1 for the CloudFront alarm (the same object as `topic` when deployed in us-east-1). */
  public readonly edgeTopic: AlarmTopic;
  /** The capacity publisher. */
  public readonly capacityPublisher: CapacityPublisher;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config, cluster } = props;
    const obs = config.observability;
    const { accountId, partition } = this;

    const unpriced = eligibleGpuInstanceTypes(config.karpenter.gpu).filter((t) => obs.gpuPrices[t.type] === undefined).map((t) => t.type);
    if (unpriced.length > 0) {
      Annotations.of(this).addWarning(
        `observability.gpuPrices has no price for instance types the GPU NodePools may launch: ${unpriced.join(', ')}. Nodes of these types are counted in UnpricedGpuNodes and left out of the spend estimate; add their USD/hour prices.`,
      );
    }
    if (obs.gpuMetrics.enabled && config.karpenter.dcgmExporter.enabled) {
      Annotations.of(this).addWarning(
        'karpenter.dcgmExporter.enabled and observability.gpuMetrics.enabled both run an NVIDIA DCGM exporter on every GPU node (the CloudWatch add-on brings its own): turn one off (docs/observability.md explains the choice).',
      );
    }

    const edgeProvider =
      config.region === CLOUDFRONT_METRICS_REGION
        ? undefined
        : new AwsProvider(this, 'aws-us-east-1', { alias: 'us_east_1', region: CLOUDFRONT_METRICS_REGION, defaultTags: [{ tags: defaultTags(config) }] });

    const topicProps = { alarmNamePrefix: this.prefix, accountId, partition, emails: obs.alarmEmails };
    this.topic = new AlarmTopic(this, 'AlarmTopic', { ...topicProps, topicName: `${this.prefix}-alarms`, region: config.region });
    this.edgeTopic = edgeProvider
      ? new AlarmTopic(this, 'EdgeAlarmTopic', { ...topicProps, topicName: `${this.prefix}-alarms-${CLOUDFRONT_METRICS_REGION}`, region: CLOUDFRONT_METRICS_REGION, provider: edgeProvider })
      : this.topic;

    if (obs.gpuMetrics.enabled) {
      new ContainerInsights(this, 'ContainerInsights', {
        clusterName: cluster.clusterName,
        addonVersion: obs.gpuMetrics.addonVersion,
        containerLogs: obs.gpuMetrics.containerLogs,
        logRetentionDays: obs.gpuMetrics.logRetentionDays,
        roleName: `${this.prefix}-cloudwatch-agent`,
        accountId,
        region: config.region,
        partition,
      });
    }

    this.capacityPublisher = new CapacityPublisher(this, 'CapacityPublisher', {
      functionName: `${this.prefix}-capacity-metrics`,
      clusterName: cluster.clusterName,
      gpuNodeTag: gpuNodeTag(config),
      prices: obs.gpuPrices,
      spotPriceRatio: obs.spotPriceRatio,
      accountId,
      logRetentionDays: obs.publisherLogRetentionDays,
    });

    if (obs.cloudFrontAdditionalMetrics) {
      // CloudFront is a global service; its API (and this setting) is served from us-east-1.
      new CloudfrontMonitoringSubscription(this, 'CloudFrontAdditionalMetrics', {
        provider: edgeProvider,
        distributionId: props.edge.distributionId,
        monitoringSubscription: { realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: 'Enabled' } },
      });
    }

    this.platform = {
      clusterName: cluster.clusterName,
      region: config.region,
      modelSync: props.modelSync,
      interruptions: props.capacity,
      edge: { ...props.edge, authMode: config.edge.auth.mode },
      capacityPublisherFunctionName: this.capacityPublisher.function.functionName,
      cloudFrontAdditionalMetrics: obs.cloudFrontAdditionalMetrics,
      ...(props.jobs ? { jobs: props.jobs } : {}),
    };

    this.alarms = new PlatformAlarms(this, 'Alarms', {
      namePrefix: this.prefix,
      platform: this.platform,
      thresholds: obs.alarms,
      topicArn: this.topic.topicArn,
      edgeTopicArn: this.edgeTopic.topicArn,
      edgeProvider,
    });

    this.dashboardModel = buildPlatformDashboard({
      platform: this.platform,
      alarmArns: this.alarms.alarms.map((a) => a.alarm.arn),
      thresholds: obs.alarms,
      priceNote: `the observability.gpuPrices table (Spot without a price: ${obs.spotPriceRatio} x On-Demand)`,
    });
    const dashboardName = `${this.prefix}-platform`;
    this.dashboard = new CloudwatchDashboard(this, 'Dashboard', { dashboardName, dashboardBody: JSON.stringify(renderDashboard(this.dashboardModel)) });

    new TerraformOutput(this, 'dashboard_url', {
      value: `https://${config.region}.console.aws.amazon.com/cloudwatch/home?region=${config.region}#dashboards/dashboard/${dashboardName}`,
      description: 'The platform dashboard',
    });
    new TerraformOutput(this, 'alarm_topic_arn', { value: this.topic.topicArn, description: 'SNS topic of the platform alarms (subscribe more endpoints here)' });
    new TerraformOutput(this, 'status_sources', { value: { ...this.platform, alarmNamePrefix: opsAlarmPrefix(this.prefix) }, description: 'What `npm run comfy -- status --cluster` reads (cluster, queues, rules, distribution)' });
  }
}
