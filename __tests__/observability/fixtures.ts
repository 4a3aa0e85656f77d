/**
 * Literal metric sources of the other stacks, shaped like what the default
 * config produces, so the observability stack can be synthesized alone and
 * every name in its dashboard and alarms can be traced back to one of these.
 */
import { App, Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { ObservedPlatform } from '../../constructs/observability/observed-platform';
import { CapacityMetricSources, EdgeMetricSources, JobsMetricSources, ModelSyncMetricSources } from '../../stacks/contracts';
import { ObservabilityStack } from '../../stacks/observability-stack';
import { testConfig } from '../helpers/config';
import { FAKE_CLUSTER } from '../helpers/fake-outputs';

export const FAKE_MODEL_SYNC_SOURCES: ModelSyncMetricSources = {
  queueName: 'comfyui-dev-model-sync',
  deadLetterQueueName: 'comfyui-dev-model-sync-dlq',
  functionName: 'comfyui-dev-model-sync',
  nodeFailureRuleName: 'comfyui-dev-model-sync-node-failures',
};

export const FAKE_CAPACITY_SOURCES: CapacityMetricSources = {
  queueName: 'comfyui-dev-karpenter',
  spotRuleName: 'comfyui-dev-karpenter-spot',
  rebalanceRuleName: 'comfyui-dev-karpenter-rebalance',
  stateChangeRuleName: 'comfyui-dev-karpenter-state-change',
  scheduledChangeRuleName: 'comfyui-dev-karpenter-scheduled-change',
};

export const FAKE_EDGE_SOURCES: EdgeMetricSources = {
  distributionId: 'E1A2B3C4D5E6F7',
  loadBalancerArnSuffix: 'app/comfyui-dev-alb/0123456789abcdef',
  targetGroupArnSuffix: 'targetgroup/comfyui-dev-comfyui/0a1b2c3d4e5f6a7b',
  authFunctionName: 'comfyui-dev-basic-auth',
};

export const FAKE_JOBS_SOURCES: JobsMetricSources = {
  queueName: 'comfyui-dev-jobs',
  deadLetterQueueName: 'comfyui-dev-jobs-dlq',
};

/** What the observability constructs watch, from the fakes above (basic auth, no jobs). */
export const FAKE_PLATFORM: ObservedPlatform = {
  clusterName: FAKE_CLUSTER.clusterName,
  region: 'us-west-2',
  modelSync: FAKE_MODEL_SYNC_SOURCES,
  interruptions: FAKE_CAPACITY_SOURCES,
  edge: { ...FAKE_EDGE_SOURCES, authMode: 'basic' },
  capacityPublisherFunctionName: 'comfyui-dev-capacity-metrics',
  cloudFrontAdditionalMetrics: true,
};

/** Every name a widget or alarm may use for an AWS-namespace metric, by dimension. */
export function knownResourceNames(withJobs: boolean): Record<string, Set<string>> {
  const jobs = withJobs ? [FAKE_JOBS_SOURCES.queueName, FAKE_JOBS_SOURCES.deadLetterQueueName] : [];
  return {
    QueueName: new Set([FAKE_MODEL_SYNC_SOURCES.queueName, FAKE_MODEL_SYNC_SOURCES.deadLetterQueueName, FAKE_CAPACITY_SOURCES.queueName, ...jobs]),
    FunctionName: new Set([FAKE_MODEL_SYNC_SOURCES.functionName, 'comfyui-dev-capacity-metrics', FAKE_EDGE_SOURCES.authFunctionName as string]),
    RuleName: new Set([
      FAKE_MODEL_SYNC_SOURCES.nodeFailureRuleName,
      FAKE_CAPACITY_SOURCES.spotRuleName,
      FAKE_CAPACITY_SOURCES.rebalanceRuleName,
      FAKE_CAPACITY_SOURCES.stateChangeRuleName,
      FAKE_CAPACITY_SOURCES.scheduledChangeRuleName,
    ]),
    DistributionId: new Set([FAKE_EDGE_SOURCES.distributionId]),
    LoadBalancer: new Set([FAKE_EDGE_SOURCES.loadBalancerArnSuffix]),
    TargetGroup: new Set([FAKE_EDGE_SOURCES.targetGroupArnSuffix]),
    ClusterName: new Set([FAKE_CLUSTER.clusterName]),
    Region: new Set(['Global']),
  };
}

const synthesized = new Map<string, ReturnType<typeof synthesize>>();

/** Synthesizes the observability stack alone from the fake sources (once per input: tests only read the result). */
export function synthObservability(input: ConfigInput = {}, options: { jobs?: boolean } = {}): ReturnType<typeof synthesize> {
  const key = JSON.stringify([input, options]);
  if (!synthesized.has(key)) synthesized.set(key, synthesize(input, options));
  return synthesized.get(key)!;
}

function synthesize(input: ConfigInput, options: { jobs?: boolean }) {
  const app: App = Testing.app();
  const stack = new ObservabilityStack(app, 'observability', {
    config: testConfig(input),
    cluster: FAKE_CLUSTER,
    capacity: FAKE_CAPACITY_SOURCES,
    modelSync: FAKE_MODEL_SYNC_SOURCES,
    edge: FAKE_EDGE_SOURCES,
    ...(options.jobs ? { jobs: FAKE_JOBS_SOURCES } : {}),
  });
  const synth = Testing.synth(stack);
  const parsed = JSON.parse(synth);
  const dashboards = Object.values<any>(parsed.resource.aws_cloudwatch_dashboard);
  return { stack, synth, parsed, body: JSON.parse(dashboards[0].dashboard_body) };
}

/** One metric read by a rendered dashboard: plain rows and the targets of SEARCH expressions. */
export interface RenderedMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  /** The full dimension set (SEARCH schema, or the row's dimension names). */
  readonly dimensionKeys: string[];
  readonly region: string;
  readonly widget: string;
}

/** Parses `SEARCH('{Ns,D1,D2} MetricName="m" D1="v"', 'Stat', 60)`. */
export function parseSearch(expression: string): Omit<RenderedMetric, 'region' | 'widget'> | undefined {
  const m = /^SEARCH\('\{([^}]*)\} (.*)', '[A-Za-z0-9]+', \d+\)$/.exec(expression);
  if (!m) return undefined;
  const [namespace, ...dimensionKeys] = m[1].split(',').map((s) => s.replace(/^"|"$/g, ''));
  const terms = Object.fromEntries([...m[2].matchAll(/([A-Za-z]+)="((?:[^"\\]|\\.)*)"/g)].map((t) => [t[1], t[2]]));
  const { MetricName: metricName, ...dimensions } = terms;
  return { namespace, metricName, dimensions, dimensionKeys };
}

/** Every metric a rendered dashboard body reads, from the JSON alone. */
export function renderedMetrics(body: any): RenderedMetric[] {
  const out: RenderedMetric[] = [];
  for (const widget of body.widgets) {
    if (widget.type !== 'metric') continue;
    const { region, title } = widget.properties;
    for (const row of widget.properties.metrics) {
      if (typeof row[0] === 'string') {
        const strings = row.filter((x: unknown) => typeof x === 'string');
        const dimensions: Record<string, string> = {};
        for (let i = 2; i < strings.length; i += 2) dimensions[strings[i]] = strings[i + 1];
        out.push({ namespace: strings[0], metricName: strings[1], dimensions, dimensionKeys: Object.keys(dimensions), region, widget: title });
      } else if (row[0].expression?.startsWith('SEARCH(')) {
        const parsed = parseSearch(row[0].expression);
        if (!parsed) throw new Error(`unparsable SEARCH in "${title}": ${row[0].expression}`);
        out.push({ ...parsed, region, widget: title });
      }
    }
  }
  return out;
}
