/**
 * charts/comfyui with the jobs worker (jobs.*): off by default, the
 * container and its environment when on, and the values it refuses. The
 * Kubernetes-schema validation of ci/jobs-values.yaml runs with every other
 * ci case in kubernetes-schema.test.ts.
 */
import { join } from 'path';
import { comfyuiPlatformValues, jobsChartValues } from '../../constructs/app/chart-values';
import { CI_DIR, DEFAULT_VALUES, one, render, renderError, requireTools } from './helm';
import { FAKE_CLUSTER, FAKE_JOBS } from '../helpers/fake-outputs';

const JOBS_VALUES = join(CI_DIR, 'jobs-values.yaml');

beforeAll(() => requireTools());

const containers = async (sources: (string | object)[]) => one((await render(sources)).objects, 'Deployment').spec.template.spec.containers as any[];

describe('jobs worker', () => {
  it('is off by default', async () => {
    expect((await containers([DEFAULT_VALUES])).map((c) => c.name)).toEqual(['comfyui']);
  });

  it('runs as a second container next to ComfyUI, pointed at localhost and at the jobs resources', async () => {
    const all = await containers([JOBS_VALUES]);
    expect(all.map((c) => c.name)).toEqual(['comfyui', 'jobs-worker']);
    const worker = all[1];
    expect(worker.image).toBe('123456789012.dkr.ecr.us-west-2.amazonaws.com/comfyui-dev/jobs-worker:0.1.0');
    const env = Object.fromEntries(worker.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
    expect(env).toEqual({
      AWS_REGION: 'us-west-2',
      COMFYUI_URL: 'http://127.0.0.1:8188',
      JOBS_QUEUE_URL: 'https://sqs.us-west-2.amazonaws.com/123456789012/comfyui-dev-jobs',
      JOBS_DEAD_LETTER_QUEUE_URL: 'https://sqs.us-west-2.amazonaws.com/123456789012/comfyui-dev-jobs-dlq',
      JOBS_TABLE: 'comfyui-dev-jobs',
      JOBS_EVENT_BUS: 'comfyui-dev-jobs',
      JOBS_CLUSTER_NAME: 'comfyui-dev',
      JOBS_OUTPUTS_BUCKET: 'comfyui-dev-outputs-123456789012-us-west-2',
      JOBS_OUTPUTS_PREFIX: '',
      JOBS_MAX_ATTEMPTS: '3',
      JOBS_VISIBILITY_SECONDS: '120',
      JOBS_HEARTBEAT_SECONDS: '30',
      JOBS_HAND_BACK_AFTER_SECONDS: '90',
      JOBS_JOB_TIMEOUT_SECONDS: '7200',
    });
    expect(worker.env.find((e: any) => e.name === 'POD_NAME').valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(worker.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(worker.resources).toEqual({ requests: { cpu: '50m', memory: '160Mi', 'ephemeral-storage': '64Mi' }, limits: { memory: '160Mi', 'ephemeral-storage': '64Mi' } });
    // The ComfyUI port follows comfyui.port.
    const moved = await containers([JOBS_VALUES, { comfyui: { port: 8189 }, service: { port: 8189 } }]);
    expect(moved[1].env.find((e: any) => e.name === 'COMFYUI_URL').value).toBe('http://127.0.0.1:8189');
  });

  it('adds the jobs backlog (visible + in-flight, jobsPerReplica each) to the ScaledObject in mode keda', async () => {
    const scaled = one((await render([JOBS_VALUES, { jobs: { jobsPerReplica: 3 } }])).objects, 'ScaledObject');
    const trigger = scaled.spec.triggers.find((t: any) => t.name === 'jobs-backlog');
    expect(trigger).toEqual({
      type: 'aws-sqs-queue', name: 'jobs-backlog', authenticationRef: { name: 'comfyui-aws' },
      metadata: { queueURL: 'https://sqs.us-west-2.amazonaws.com/123456789012/comfyui-dev-jobs', awsRegion: 'us-west-2', queueLength: '3', activationQueueLength: '0', scaleOnInFlight: 'true' },
    });
    const without = one((await render([DEFAULT_VALUES])).objects, 'ScaledObject');
    expect(without.spec.triggers.map((t: any) => t.name)).not.toContain('jobs-backlog');
  });

  it('takes everything but enabled and the tag from the values `make values` writes (the app stack\'s chart_values)', async () => {
    const platform = { ...comfyuiPlatformValuesForTest(), jobs: jobsChartValues({ jobs: FAKE_JOBS, clusterName: FAKE_CLUSTER.clusterName, region: 'us-west-2', maxAttempts: 3 }) };
    const worker = (await containers([platform, { jobs: { enabled: true } }]))[1];
    expect(worker.env.find((e: any) => e.name === 'JOBS_QUEUE_URL').value).toBe(FAKE_JOBS.queueUrl);
  });

  it.each([
    ['enabled without a queue URL', { jobs: { queueUrl: '' } }, '/jobs/queueUrl'],
    ['enabled without a worker image', { jobs: { image: { repository: '' } } }, '/jobs/image/repository'],
    ['a queue URL that is not SQS', { jobs: { queueUrl: 'https://example.com/q' } }, '/jobs/queueUrl'],
    ['a latest worker tag', { jobs: { image: { tag: 'latest' } } }, '/jobs/image/tag'],
    ['zero jobs per replica', { jobs: { jobsPerReplica: 0 } }, '/jobs/jobsPerReplica'],
    ['an unknown jobs key', { jobs: { concurrency: 2 } }, "'concurrency'"],
  ])('the schema rejects %s', async (_what, values, field) => {
    const error = await renderError([JOBS_VALUES, values]);
    expect(error).toContain("values don't meet the specifications of the schema");
    expect(error).toContain(field);
  });

  it('rejects a heartbeat not below the visibility timeout, and a hand-back not within the grace period', async () => {
    expect(await renderError([JOBS_VALUES, { jobs: { heartbeatSeconds: 120 } }])).toContain('jobs.heartbeatSeconds (120) must be below jobs.visibilitySeconds (120)');
    expect(await renderError([JOBS_VALUES, { terminationGracePeriodSeconds: 60 }])).toContain('jobs.handBackAfterSeconds (90) must be below terminationGracePeriodSeconds (60)');
  });
});

function comfyuiPlatformValuesForTest(): Record<string, unknown> {
  return comfyuiPlatformValues({
    imageRepository: '123456789012.dkr.ecr.us-west-2.amazonaws.com/comfyui-dev/comfyui',
    serviceAccount: 'comfyui',
    port: 8188,
    modelsDir: '/mnt/models',
    readinessMarker: '/mnt/models/.model-sync/ready.json',
    modelFolders: ['checkpoints'],
    region: 'us-west-2',
    outputsBucket: { name: 'comfyui-dev-outputs-123456789012-us-west-2', arn: 'arn:aws:s3:::comfyui-dev-outputs-123456789012-us-west-2' },
    inputsBucket: { name: 'comfyui-dev-inputs-123456789012-us-west-2', arn: 'arn:aws:s3:::comfyui-dev-inputs-123456789012-us-west-2' },
    inputsWritable: false,
    targetGroupArn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/comfyui-dev/0123456789abcdef',
    ingressCidrs: ['10.2.0.0/18'],
    autoscalingMode: 'keda',
    clusterName: 'comfyui-dev',
    wakeQueueUrl: 'https://sqs.us-west-2.amazonaws.com/123456789012/comfyui-dev-wake',
    targetGroupMetricDimensions: { loadBalancer: 'app/comfyui-dev-alb/50dc6c495c0c9188', targetGroup: 'targetgroup/comfyui-dev/0123456789abcdef' },
  });
}
