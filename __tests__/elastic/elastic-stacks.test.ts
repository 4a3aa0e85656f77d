/**
 * The Terraform side of elastic serving: the wake queue and KEDA's Pod
 * Identity role (capacity), KEDA's release (cluster-addons), the wake path
 * (edge), the scaling values and metric permission (app), and the wiring
 * between them (whole platform, default config).
 */
import { CloudfrontOriginAccessControl } from '@cdktf/provider-aws/lib/cloudfront-origin-access-control';
import { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { readFileSync } from 'fs';
import { join } from 'path';
import { Testing } from 'cdktf';
import { WAKE_PAGE_PATH, WAKE_PATH_PATTERN } from '../../constructs/edge/wake-endpoint';
import { buildPlatform } from '../../stacks/app';
import { EdgeStack } from '../../stacks/edge-stack';
import { synthApp } from '../app/fixtures';
import { releasesByName, releaseValues, synthAddons, synthCapacity } from '../capacity/fixtures';
import { testConfig } from '../helpers/config';
import { FAKE_CLUSTER, FAKE_EDGE, FAKE_NETWORK } from '../helpers/fake-outputs';

function doc(parsed: any, fragment: string): any {
  const entry = Object.entries(parsed.data.aws_iam_policy_document).find(([id]) => id.includes(fragment));
  if (!entry) throw new Error(`no policy document matching ${fragment}`);
  return entry[1];
}
const bySid = (document: any) => Object.fromEntries(document.statement.map((s: any) => [s.sid, s]));
const MANUAL = { app: { autoscaling: { mode: 'manual' as const } } };

describe('capacity: the KEDA operator identity', () => {
  const { synth, parsed } = synthCapacity();

  it('binds keda/keda-operator to a role that reads only the wake queue depth and metrics', () => {
    expect(synth).toHaveResourceWithProperties(EksPodIdentityAssociation, { namespace: 'keda', service_account: 'keda-operator', cluster_name: FAKE_CLUSTER.clusterName });
    const statements = doc(parsed, 'KedaOperator_Permissions').statement;
    expect(statements).toEqual([
      { sid: 'ReadWakeQueueDepth', effect: 'Allow', actions: ['sqs:GetQueueAttributes'], resources: [FAKE_EDGE.wakeQueue!.arn] },
      { sid: 'ReadScalingMetrics', effect: 'Allow', actions: ['cloudwatch:GetMetricData'], resources: ['*'] },
    ]);
    const trust = doc(parsed, 'KedaOperator_Trust').statement[0];
    expect(trust.condition).toEqual(expect.arrayContaining([
      { test: 'StringEquals', variable: 'aws:RequestTag/kubernetes-namespace', values: ['keda'] },
      { test: 'StringEquals', variable: 'aws:RequestTag/kubernetes-service-account', values: ['keda-operator'] },
    ]));
  });

  it('mode manual creates no KEDA role', () => {
    const manual = synthCapacity(MANUAL).parsed;
    expect(Object.keys(manual.resource.aws_iam_role).some((id) => id.includes('Keda'))).toBe(false);
  });
});

describe('cluster-addons: KEDA', () => {
  const releases = releasesByName(synthAddons().parsed);

  it('installs the official chart at the pinned version on the system nodes, operator service account as associated', () => {
    const config = testConfig();
    expect(releases.keda).toMatchObject({ repository: 'https://kedacore.github.io/charts', chart: 'keda', version: '2.21.1', namespace: 'keda', create_namespace: true, atomic: true });
    expect(config.keda.version).toBe('2.21.1');
    const values = releaseValues(releases.keda);
    expect(values.serviceAccount.operator).toEqual({ create: true, name: 'keda-operator' });
    expect(values.operator.replicaCount).toBe(2);
    expect(values.nodeSelector).toEqual(releaseValues(releases.karpenter).nodeSelector);
  });

  it('mode manual installs no KEDA', () => {
    expect(releasesByName(synthAddons(MANUAL).parsed).keda).toBeUndefined();
  });
});

describe('edge: the wake path', () => {
  function synthEdge(withWake: boolean, input = {}) {
    const app = Testing.app();
    const stack = new EdgeStack(app, 'edge', { config: testConfig(withWake ? input : { ...MANUAL, ...input }), network: FAKE_NETWORK, cluster: FAKE_CLUSTER });
    const synth = Testing.synth(stack);
    return { synth, parsed: JSON.parse(synth) };
  }
  const { synth, parsed } = synthEdge(true);
  const distribution: any = Object.values(parsed.resource.aws_cloudfront_distribution)[0];

  it('creates an encrypted wake queue whose messages expire after 60 s, TLS only', () => {
    expect(synth).toHaveResourceWithProperties(SqsQueue, { name: 'comfyui-dev-wake', message_retention_seconds: 60, sqs_managed_sse_enabled: true });
    const s = bySid(doc(parsed, 'WakeQueue_PolicyDocument'));
    expect(s.DenyInsecureTransport).toMatchObject({ effect: 'Deny', actions: ['sqs:*'], condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }] });
  });

  it('runs the wake function with the queue and cluster, behind an IAM-authenticated function URL', () => {
    expect(synth).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'comfyui-dev-wake', runtime: 'nodejs22.x', architectures: ['arm64'],
      environment: { variables: { WAKE_QUEUE_URL: expect.stringMatching(/^\$\{aws_sqs_queue\.WakeQueue_[A-F0-9]+\.url\}$/), CLUSTER_NAME: FAKE_CLUSTER.clusterName, RETRY_AFTER_SECONDS: '10' } },
    });
    expect(synth).toHaveResourceWithProperties(LambdaFunctionUrl, { authorization_type: 'AWS_IAM' });
    expect(synth).toHaveResourceWithProperties(CloudfrontOriginAccessControl, { origin_access_control_origin_type: 'lambda', signing_behavior: 'always', signing_protocol: 'sigv4' });
  });

  it('lets only this distribution invoke it, and it may only send to the wake queue and write its logs', () => {
    const permissions = Object.values(parsed.resource.aws_lambda_permission) as any[];
    expect(permissions.map((p) => p.action).sort()).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl']);
    for (const p of permissions) {
      expect(p.principal).toBe('cloudfront.amazonaws.com');
      expect(p.source_arn).toMatch(/^\$\{aws_cloudfront_distribution\.Cdn_Distribution_[A-F0-9]+\.arn\}$/);
    }
    expect(permissions.find((p) => p.action === 'lambda:InvokeFunctionUrl').function_url_auth_type).toBe('AWS_IAM');
    const s = bySid(doc(parsed, 'Wake_Permissions'));
    expect(Object.keys(s).sort()).toEqual(['SignalWakeQueue', 'WriteOwnLogs', 'WriteTraces']);
    expect(s.SignalWakeQueue).toMatchObject({ actions: ['sqs:SendMessage'], resources: [expect.stringMatching(/^\$\{aws_sqs_queue\.WakeQueue_[A-F0-9]+\.arn\}$/)] });
  });

  it('serves the ALB 503 (no replica) as the wake page for every method, and /_wake/* from the function behind the auth function', () => {
    expect(distribution.custom_error_response.find((r: any) => r.error_code === 503)).toEqual({ error_code: 503, error_caching_min_ttl: 0, response_page_path: WAKE_PAGE_PATH, response_code: 503 });
    expect(distribution.custom_error_response.find((r: any) => r.error_code === 502)).toEqual({ error_code: 502, error_caching_min_ttl: 0 });
    const wakeOrigin = distribution.origin.find((o: any) => o.origin_id === 'comfyui-wake');
    expect(wakeOrigin.origin_access_control_id).toMatch(/aws_cloudfront_origin_access_control\.Wake_OriginAccessControl_[A-F0-9]+\.id/);
    expect(wakeOrigin.custom_origin_config).toMatchObject({ origin_protocol_policy: 'https-only' });
    const behaviour = distribution.ordered_cache_behavior.find((b: any) => b.path_pattern === WAKE_PATH_PATTERN);
    expect(behaviour).toMatchObject({ target_origin_id: 'comfyui-wake', allowed_methods: ['GET', 'HEAD'], viewer_protocol_policy: 'redirect-to-https' });
    // the same viewer-request auth as everything else, plus the viewer-response function that sets the 503
    expect(behaviour.function_association).toEqual([
      ...distribution.default_cache_behavior.function_association,
      { event_type: 'viewer-response', function_arn: expect.stringMatching(/^\$\{aws_cloudfront_function\.Wake_ViewerResponse_[A-F0-9]+\.arn\}$/) },
    ]);
    expect(distribution.default_cache_behavior.function_association).toHaveLength(1);
    // the default behaviour still sends every method to the ALB (no origin group: POST would not fail over)
    expect(distribution.default_cache_behavior.target_origin_id).toBe('comfyui-alb');
    expect(distribution.origin_group).toBeUndefined();
  });

  it('mode manual: no wake queue, and the distribution has no wake origin and plain 503s', () => {
    const plain: any = Object.values(synthEdge(false).parsed.resource.aws_cloudfront_distribution)[0];
    const manual = synthEdge(false).parsed;
    expect(manual.resource.aws_sqs_queue).toBeUndefined();
    expect(plain.origin.map((o: any) => o.origin_id)).toEqual(['comfyui-alb']);
    expect(plain.custom_error_response.find((r: any) => r.error_code === 503)).toEqual({ error_code: 503, error_caching_min_ttl: 0 });
  });
});

describe('app: scaling values and the metrics permission', () => {
  const { parsed } = synthApp();
  const release: any = Object.values(parsed.resource.helm_release)[0];

  it('passes mode keda with the platform facts, and the config scaling values as helm-owned app values', () => {
    const platform = parsed.output.chart_values.value;
    expect(platform.autoscaling).toEqual({
      mode: 'keda',
      keda: { clusterName: 'comfyui-dev', region: 'us-west-2', wakeQueueUrl: FAKE_EDGE.wakeQueue!.url, loadBalancerDimension: 'app/comfyui-dev-alb/50dc6c495c0c9188', targetGroupDimension: 'targetgroup/comfyui-dev-comfyui/0a1b2c3d4e5f6a7b' },
    });
    expect(release.values[0]).toContain('"autoscaling" = {"minReplicas" = 0, "maxReplicas" = 4, "idleMinutes" = 30, "targetQueuePerReplica" = 2, "pollingIntervalSeconds" = 10, "warmSchedules" = []}');
  });

  it('lets ComfyUI pods publish metrics only into ComfyUI/Serving', () => {
    const s = bySid(doc(parsed, 'Comfyui_Identity_Permissions'));
    expect(s.PublishServingMetrics).toEqual({
      sid: 'PublishServingMetrics', effect: 'Allow', actions: ['cloudwatch:PutMetricData'], resources: ['*'],
      condition: [{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: ['ComfyUI/Serving'] }],
    });
  });

  it('mode manual needs no wake queue', () => {
    expect(() => synthApp(MANUAL)).not.toThrow();
  });
});

describe('whole platform, default config', () => {
  const app = Testing.app();
  const stacks = buildPlatform(app, testConfig());
  // A full app synth: cross-stack references are only resolved there.
  app.synth();
  const read = (id: string) => JSON.parse(readFileSync(join(app.outdir, 'stacks', id, 'cdk.tf.json'), 'utf8'));

  it('wires the wake queue of the edge stack into the capacity (KEDA role) and app stacks and installs KEDA', () => {
    expect(stacks.clusterAddons.keda).toBeDefined();
    expect(stacks.edge.outputs.wakeQueue).toBeDefined();
    const edge = read('comfyui-dev-edge');
    const fn: any = Object.values(edge.resource.aws_lambda_function).find((f: any) => f.function_name === 'comfyui-dev-wake');
    expect(fn.environment.variables.WAKE_QUEUE_URL).toMatch(/^\$\{aws_sqs_queue\.WakeQueue_[A-F0-9]+\.url\}$/);
    const capacity = read('comfyui-dev-capacity');
    expect(JSON.stringify(capacity.data.aws_iam_policy_document)).toContain('data.terraform_remote_state.cross-stack-reference-input-comfyui-dev-edge.outputs.');
    const appStack = read('comfyui-dev-app');
    expect(JSON.stringify(appStack.resource.helm_release)).toContain('\\"wakeQueueUrl\\" = data.terraform_remote_state.cross-stack-reference-input-comfyui-dev-edge.outputs.');
  });

  it('lets KEDA read the jobs backlog (jobs stack) and nothing else of it', () => {
    const capacity = read('comfyui-dev-capacity');
    const keda: any = Object.entries(capacity.data.aws_iam_policy_document).find(([id]) => id.startsWith('KedaOperator_Permissions'))![1];
    const jobs = keda.statement.find((s: any) => s.sid === 'ReadJobsBacklog');
    expect(jobs.actions).toEqual(['sqs:GetQueueAttributes']);
    expect(jobs.resources).toEqual([expect.stringMatching(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-comfyui-dev-jobs\.outputs\./)]);
  });
});
