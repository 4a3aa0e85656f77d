/**
 * charts/comfyui in autoscaling mode keda (the default) and manual: what is
 * rendered, that it satisfies KEDA's CRD schemas, the scale-to-zero guard on
 * the rendered ScaledObject, safe scale-in, and bad values named.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { stringify } from 'yaml';
import { CI_DIR, CRD_SCHEMA_LOCATIONS, DEFAULT_VALUES, K8sObject, KUBECONFORM, ofKind, one, render, renderError, requireTools, run, scratchDir } from '../chart/helm';
import { repeat, simulate } from './keda-model';
import { writeFileSync } from 'fs';

const CASES = {
  defaults: [DEFAULT_VALUES],
  keda: [join(CI_DIR, 'keda-values.yaml')],
  manual: [join(CI_DIR, 'replicas-values.yaml')],
  manualHpa: [join(CI_DIR, 'autoscaling-values.yaml')],
  generated: [join(CI_DIR, 'generated-example-values.yaml')],
  idle5: [DEFAULT_VALUES, { autoscaling: { idleMinutes: 5, maxReplicas: 3 } }],
} as const;
type CaseName = keyof typeof CASES;
const rendered = {} as Record<CaseName, K8sObject[]>;

beforeAll(async () => {
  requireTools();
  const names = Object.keys(CASES) as CaseName[];
  const results = await Promise.all(names.map((name) => render(CASES[name])));
  names.forEach((name, i) => (rendered[name] = results[i].objects));
});

const scaledObject = (name: CaseName) => one(rendered[name], 'ScaledObject');
const trigger = (name: CaseName, trigger: string) => scaledObject(name).spec.triggers.find((t: any) => t.name === trigger);
const deployment = (name: CaseName) => one(rendered[name], 'Deployment');
const POLLS_PER_MINUTE = 6; // pollingInterval 10 s

describe('mode keda (default)', () => {
  it('scales the Deployment between 0 and maxReplicas; idleMinutes is the cooldown before zero', () => {
    const so = scaledObject('defaults');
    expect(so.apiVersion).toBe('keda.sh/v1alpha1');
    expect(so.spec).toEqual(expect.objectContaining({ minReplicaCount: 0, maxReplicaCount: 4, cooldownPeriod: 1800, pollingInterval: 10 }));
    expect(so.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment('defaults').metadata.name });
    expect(deployment('defaults').spec.replicas).toBeUndefined();
    expect(ofKind(rendered.defaults, 'HorizontalPodAutoscaler')).toHaveLength(0);
  });

  it('wakes on the wake queue, scales on the queue of all replicas, stays up on edge requests; all through the operator identity', () => {
    expect(trigger('defaults', 'wake')).toEqual({
      type: 'aws-sqs-queue', name: 'wake', authenticationRef: { name: 'comfyui-aws' },
      metadata: { queueURL: 'https://sqs.us-west-2.amazonaws.com/123456789012/comfyui-dev-wake', awsRegion: 'us-west-2', queueLength: '1000', activationQueueLength: '0', scaleOnInFlight: 'false' },
    });
    const queue = trigger('defaults', 'queue-depth').metadata;
    // running + pending, summed over every replica's one-per-minute datapoint of the aggregate {ClusterName} series
    expect(queue.expression).toBe(`SUM(SEARCH('{"ComfyUI/Serving",ClusterName} ClusterName="comfyui-dev" (MetricName="QueueRunning" OR MetricName="QueuePending")', 'Sum', 60))`);
    expect(queue).toEqual(expect.objectContaining({ targetMetricValue: '2', activationTargetMetricValue: '0', metricStatPeriod: '60', metricEndTimeOffset: '60' }));
    const edge = trigger('defaults', 'edge-requests').metadata;
    expect(edge).toEqual(expect.objectContaining({
      namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', metricStat: 'Sum', dimensionName: 'LoadBalancer;TargetGroup',
      dimensionValue: 'app/comfyui-dev-alb/50dc6c495c0c9188;targetgroup/comfyui-dev-comfyui/0a1b2c3d4e5f6a7b', activationTargetMetricValue: '0',
    }));
    expect(one(rendered.defaults, 'TriggerAuthentication').spec).toEqual({ podIdentity: { provider: 'aws' } });
  });

  it('the generated (make values) file selects mode keda with the platform facts', () => {
    expect(scaledObject('generated').spec.triggers.map((t: any) => t.name)).toEqual(['wake', 'queue-depth', 'edge-requests']);
  });

  it('warm windows become cron triggers and extra triggers are appended (e.g. a jobs backlog)', () => {
    const so = scaledObject('keda');
    expect(so.spec.triggers.map((t: any) => t.name)).toEqual(['wake', 'queue-depth', 'edge-requests', 'warm-0', 'warm-1', 'jobs-backlog']);
    expect(trigger('keda', 'warm-1')).toEqual({ type: 'cron', name: 'warm-1', metadata: { timezone: 'America/New_York', start: '30 9 * * MON-FRI', end: '0 17 * * MON-FRI', desiredReplicas: '2' } });
    expect(so.spec).toEqual(expect.objectContaining({ cooldownPeriod: 2700, pollingInterval: 5, maxReplicaCount: 6 }));
  });

  it('runs the queue publisher as a native sidecar of the ComfyUI image, with cluster, region and pod name', () => {
    const spec = deployment('defaults').spec.template.spec;
    const sidecar = spec.initContainers.find((c: any) => c.name === 'queue-metrics');
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.image).toBe(spec.containers[0].image);
    expect(sidecar.command).toEqual(['python', '/etc/comfyui/queue-metrics.py']);
    const env = Object.fromEntries(sidecar.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
    expect(env).toEqual(expect.objectContaining({ CLUSTER_NAME: 'comfyui-dev', AWS_REGION: 'us-west-2', POD_NAME: 'metadata.name', COMFYUI_PORT: '8188' }));
    expect(sidecar.securityContext).toEqual(expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }));
    const config = one(rendered.defaults, 'ConfigMap');
    expect(config.data!['queue-metrics.py']).toBe(readFileSync(join(__dirname, '../../charts/comfyui/files/queue-metrics.py'), 'utf8'));
  });
});

describe('the scale-to-zero guard on the rendered ScaledObject', () => {
  const idle = { wake: 0, 'queue-depth': 0, 'edge-requests': 0 };
  const minutes = (n: number) => n * POLLS_PER_MINUTE;

  it('reaches 0 replicas (0 GPU nodes) after exactly idleMinutes with no request and empty queues', () => {
    const replicas = simulate(scaledObject('defaults'), repeat(idle, minutes(31)));
    expect(replicas[minutes(30) - 1]).toBe(1);
    expect(replicas[minutes(30)]).toBe(0);
  });

  it('never reaches 0 while any replica still has a running or pending prompt, even with no request for an hour', () => {
    const busy = repeat({ ...idle, 'queue-depth': 1 }, minutes(60));
    expect(Math.min(...simulate(scaledObject('defaults'), busy))).toBe(1);
  });

  it('never reaches 0 while requests arrive at least once per idle period', () => {
    const samples = repeat(idle, minutes(90)).map((s, i) => (i % minutes(25) === 0 ? { ...s, 'edge-requests': 3 } : s));
    expect(Math.min(...simulate(scaledObject('defaults'), samples))).toBe(1);
  });

  it('a queue emptied at minute 10 and silence afterwards: zero at minute 40, not before', () => {
    const samples = [...repeat({ ...idle, 'queue-depth': 2 }, minutes(10)), ...repeat(idle, minutes(31))];
    const replicas = simulate(scaledObject('defaults'), samples);
    expect(replicas[minutes(40) - 2]).toBe(1);
    expect(replicas[minutes(40)]).toBe(0);
  });

  it('idleMinutes is honoured as configured (5)', () => {
    const replicas = simulate(scaledObject('idle5'), repeat(idle, minutes(6)));
    expect(replicas.indexOf(0)).toBe(minutes(5));
  });

  it('wakes from zero on the first wake message (next poll) and scales out on the summed queue', () => {
    const so = scaledObject('defaults');
    const replicas = simulate(so, [idle, { ...idle, wake: 1 }, { ...idle, 'queue-depth': 5 }, { ...idle, 'queue-depth': 40 }], 0);
    expect(replicas).toEqual([0, 1, 3, 4]);
    expect(so.spec.pollingInterval).toBeLessThanOrEqual(30);
  });

  it('a warm window keeps its replicas with no traffic at all', () => {
    const samples = repeat({ ...idle, 'warm-1': true, 'warm-0': false }, minutes(45));
    expect(new Set(simulate(scaledObject('keda'), samples))).toEqual(new Set([2]));
  });
});

describe('safe scale-in under KEDA', () => {
  it('a removed replica drains its queue first and Karpenter never disrupts its node meanwhile', () => {
    const pod = deployment('defaults').spec.template;
    const comfyui = pod.spec.containers.find((c: any) => c.name === 'comfyui');
    expect(comfyui.lifecycle.preStop.exec.command).toEqual(['python', '/etc/comfyui/drain.py']);
    expect(pod.spec.terminationGracePeriodSeconds).toBe(900);
    expect(pod.metadata.annotations['karpenter.sh/do-not-disrupt']).toBe('true');
    // The publisher is a native sidecar: it stops after ComfyUI, so the queue stays visible while it drains.
    expect(pod.spec.initContainers.find((c: any) => c.name === 'queue-metrics').restartPolicy).toBe('Always');
    // KEDA's HPA removes at most one replica per 5 minutes after 10 quiet minutes.
    expect(scaledObject('defaults').spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown).toEqual({
      stabilizationWindowSeconds: 600, policies: [{ type: 'Pods', value: 1, periodSeconds: 300 }],
    });
    expect(scaledObject('defaults').spec.advanced.restoreToOriginalReplicaCount).toBe(false);
  });
});

describe('mode manual keeps the previous behaviour', () => {
  it('replicaCount, no ScaledObject, no publisher', () => {
    expect(deployment('manual').spec.replicas).toBe(3);
    expect(ofKind(rendered.manual, 'ScaledObject')).toHaveLength(0);
    expect(ofKind(rendered.manual, 'TriggerAuthentication')).toHaveLength(0);
    expect(deployment('manual').spec.template.spec.initContainers.map((c: any) => c.name)).not.toContain('queue-metrics');
  });

  it('or the HorizontalPodAutoscaler when enabled', () => {
    expect(one(rendered.manualHpa, 'HorizontalPodAutoscaler').spec.minReplicas).toBe(1);
    expect(ofKind(rendered.manualHpa, 'ScaledObject')).toHaveLength(0);
  });
});

describe('KEDA CRD schemas (from the pinned KEDA Go module, strict)', () => {
  const kubeconform = async (objects: K8sObject[], file: string) => {
    const path = join(scratchDir(), file);
    writeFileSync(path, objects.map((o) => `---\n${stringify(o)}`).join(''));
    const result = await run(KUBECONFORM, ['-strict', '-summary', '-output', 'json', ...CRD_SCHEMA_LOCATIONS.flatMap((l) => ['-schema-location', l]), path]);
    return { code: result.code, report: JSON.parse(result.stdout) as { resources?: { msg?: string }[]; summary: { valid: number; invalid: number; errors: number; skipped: number } } };
  };
  const kedaObjects = (name: CaseName) => rendered[name].filter((o) => o.apiVersion.startsWith('keda.sh/'));

  it.each(['defaults', 'keda', 'generated', 'idle5'] as CaseName[])('accepts the ScaledObject and TriggerAuthentication of %s', async (name) => {
    const objects = kedaObjects(name);
    expect(objects.map((o) => o.kind).sort()).toEqual(['ScaledObject', 'TriggerAuthentication']);
    const { code, report } = await kubeconform(objects, `keda-${name}.yaml`);
    expect(report.summary).toEqual({ valid: 2, invalid: 0, errors: 0, skipped: 0 });
    expect(code).toBe(0);
  });

  it('rejects an unknown field and a trigger without metadata (the validation is strict)', async () => {
    const so = scaledObject('defaults');
    const misspelt = { ...so, spec: { ...so.spec, minReplicas: 0 } };
    const noMetadata = { ...so, metadata: { ...so.metadata, name: 'bad-trigger' }, spec: { ...so.spec, triggers: [{ type: 'cron' }] } };
    const { code, report } = await kubeconform([misspelt, noMetadata], 'keda-bad.yaml');
    expect(code).not.toBe(0);
    expect(report.summary.invalid).toBe(2);
    const messages = (report.resources ?? []).map((r) => r.msg ?? '').join('\n');
    expect(messages).toContain("additional properties 'minReplicas' not allowed");
    expect(messages).toMatch(/metadata/);
  });
});

describe('bad values fail helm with the field named', () => {
  it.each([
    [{ autoscaling: { mode: 'hpa' } }, 'autoscaling.mode'],
    [{ autoscaling: { idleMinutes: 0 } }, 'autoscaling.idleMinutes'],
    [{ autoscaling: { targetQueuePerReplica: 0 } }, 'autoscaling.targetQueuePerReplica'],
    [{ autoscaling: { warmSchedules: [{ timezone: 'UTC', start: '0 8 * *', end: '0 18 * * *', minReplicas: 1 }] } }, 'autoscaling.warmSchedules.0.start'],
    [{ autoscaling: { warmSchedules: [{ timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *; rm -rf /', minReplicas: 1 }] } }, 'autoscaling.warmSchedules.0.end'],
    [{ autoscaling: { warmSchedules: [{ timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *', minReplicas: 0 }] } }, 'autoscaling.warmSchedules.0.minReplicas'],
    [{ autoscaling: { keda: { wakeQueueUrl: '' } } }, 'autoscaling.keda.wakeQueueUrl'],
    [{ autoscaling: { keda: { targetGroupDimension: 'arn:aws:elasticloadbalancing:x' } } }, 'autoscaling.keda.targetGroupDimension'],
  ])('%j names %s', async (values, field) => {
    const error = await renderError([DEFAULT_VALUES, values]);
    expect(error).toContain("values don't meet the specifications of the schema");
    expect(error).toContain(field.split('.').slice(-1)[0]);
    expect(error).toContain(field.includes('warmSchedules') ? '/autoscaling/warmSchedules/0' : `/${field.split('.').slice(0, -1).join('/')}`);
  });

  it.each([
    [{ autoscaling: { minReplicas: 5, maxReplicas: 2 } }, 'autoscaling.minReplicas (5) must be <= autoscaling.maxReplicas (2)'],
    [{ autoscaling: { enabled: true } }, 'autoscaling.enabled: the HorizontalPodAutoscaler belongs to autoscaling.mode manual'],
    [{ autoscaling: { mode: 'manual', enabled: true, minReplicas: 0 } }, 'autoscaling.minReplicas (0) must be at least 1 for the HorizontalPodAutoscaler'],
    [{ queueMetrics: { enabled: false } }, 'queueMetrics.enabled: must be true in autoscaling.mode keda'],
    [{ autoscaling: { maxReplicas: 2, warmSchedules: [{ timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *', minReplicas: 3 }] } }, 'autoscaling.warmSchedules[0].minReplicas (3) must be <= autoscaling.maxReplicas (2)'],
    [{ autoscaling: { mode: 'manual', keda: { clusterName: '' } } }, 'queueMetrics.enabled: needs autoscaling.keda.clusterName'],
  ])('%j -> %s', async (values, message) => {
    expect(await renderError([DEFAULT_VALUES, values])).toContain(message);
  });
});
