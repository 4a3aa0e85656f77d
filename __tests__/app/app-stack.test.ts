/**
 * App stack, synthesized with fake upstream outputs (the real stacks are
 * wired in stacks/app.ts): ECR repository, the ComfyUI Pod Identity role and
 * association, the helm_release of charts/comfyui and the chart_values output.
 */
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association';
import { Release } from '@cdktf/provider-helm/lib/release';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { App, Testing, TerraformStack } from 'cdktf';
import { existsSync, mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { comfyuiPlatformValues } from '../../constructs/app/chart-values';
import { ImageRepository } from '../../constructs/app/image-repository';
import { DEFAULT_VALUES, HELM, render, requireTools, run } from '../chart/helm';
import { EDGE, synthApp, STORAGE } from './fixtures';

const { synth, parsed } = synthApp();
const policyDoc = (p: any, suffix: string) => Object.entries(p.data.aws_iam_policy_document).find(([id]) => id.startsWith(`Comfyui_Identity_${suffix}`))![1] as any;
const release = (p: any) => Object.values(p.resource.helm_release)[0] as any;

describe('ECR repository', () => {
  it('has immutable tags, scan on push and KMS encryption', () => {
    expect(synth).toHaveResourceWithProperties(EcrRepository, {
      name: 'comfyui-dev/comfyui',
      image_tag_mutability: 'IMMUTABLE',
      image_scanning_configuration: { scan_on_push: true },
      encryption_configuration: [{ encryption_type: 'KMS' }],
      force_delete: false,
    });
  });

  it('keeps config.app.ecrKeepImages images and expires untagged ones', () => {
    const rules = (p: any) => JSON.parse((Object.values(p.resource.aws_ecr_lifecycle_policy)[0] as any).policy).rules;
    expect(rules(parsed)).toEqual([
      expect.objectContaining({ rulePriority: 1, selection: expect.objectContaining({ tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 7 }) }),
      expect.objectContaining({ rulePriority: 2, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 30 }, action: { type: 'expire' } }),
    ]);
    expect(rules(synthApp({ app: { ecrKeepImages: 5 } }).parsed)[1].selection.countNumber).toBe(5);
  });

  it('rejects a non-positive image count with a clear error', () => {
    const stack = new TerraformStack(Testing.app(), 'bad');
    expect(() => new ImageRepository(stack, 'Images', { name: 'x/comfyui', keepImages: 0 })).toThrow('ImageRepository x/comfyui: keepImages must be a positive integer, got 0');
  });
});

describe('ComfyUI Pod Identity role', () => {
  it('may only be assumed by Pod Identity for this cluster, namespace and service account', () => {
    const trust = policyDoc(parsed, 'Trust').statement;
    expect(trust).toHaveLength(1);
    expect(trust[0].principals).toEqual([{ type: 'Service', identifiers: ['pods.eks.amazonaws.com'] }]);
    expect(trust[0].actions).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    const conditions = Object.fromEntries(trust[0].condition.map((c: any) => [c.variable, c.values]));
    expect(conditions).toEqual({
      'aws:SourceAccount': [expect.stringMatching(/aws_caller_identity/)],
      'aws:RequestTag/eks-cluster-name': ['comfyui-dev'],
      'aws:RequestTag/kubernetes-namespace': ['comfyui'],
      'aws:RequestTag/kubernetes-service-account': ['comfyui'],
    });
  });

  it('writes outputs, reads inputs, uses the data key through S3 only; nothing else', () => {
    const statements = policyDoc(parsed, 'Permissions').statement;
    const bySid = Object.fromEntries(statements.map((s: any) => [s.sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(['DataKeyThroughS3', 'ListOutputsAndInputs', 'PublishServingMetrics', 'ReadInputs', 'ReadWriteOutputs']);
    expect(bySid.ListOutputsAndInputs).toEqual(expect.objectContaining({ actions: ['s3:ListBucket'], resources: [STORAGE.outputsBucket.arn, STORAGE.inputsBucket.arn] }));
    expect(bySid.ReadWriteOutputs.actions.sort()).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    expect(bySid.ReadWriteOutputs.resources).toEqual([`${STORAGE.outputsBucket.arn}/*`]);
    expect(bySid.ReadInputs).toEqual(expect.objectContaining({ actions: ['s3:GetObject'], resources: [`${STORAGE.inputsBucket.arn}/*`] }));
    expect(bySid.DataKeyThroughS3).toEqual(
      expect.objectContaining({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [STORAGE.dataKeyArn],
        condition: [{ test: 'StringEquals', variable: 'kms:ViaService', values: ['s3.us-west-2.amazonaws.com'] }],
      }),
    );
    // The only "*" resource is the metrics statement, held to one namespace by its condition (metrics have no ARN).
    const text = JSON.stringify(statements.filter((s: any) => s.sid !== 'PublishServingMetrics'));
    expect(text).not.toContain(STORAGE.modelsBucket.arn);
    expect(text).not.toMatch(/"\*"|s3:\*|kms:\*/);
    expect(bySid.PublishServingMetrics.condition).toEqual([{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: ['ComfyUI/Serving'] }]);
    for (const s of statements) expect(s.effect).toBe('Allow');
  });

  it('may write inputs only when config app.inputsWritable is set', () => {
    const statements = policyDoc(synthApp({ app: { inputsWritable: true } }).parsed, 'Permissions').statement;
    const inputs = statements.find((s: any) => s.sid === 'ReadWriteInputs');
    expect(inputs.actions.sort()).toEqual(['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    expect(statements.find((s: any) => s.sid === 'ReadInputs')).toBeUndefined();
  });

  it('is associated with the ComfyUI service account', () => {
    expect(synth).toHaveResourceWithProperties(EksPodIdentityAssociation, {
      cluster_name: 'comfyui-dev',
      namespace: 'comfyui',
      service_account: 'comfyui',
      role_arn: expect.stringMatching(/^\$\{aws_iam_role\.Comfyui_Identity_Role_[A-F0-9]+\.arn\}$/),
    });
    expect(Object.keys(parsed.resource.aws_iam_role_policy)).toHaveLength(1);
    expect(parsed.resource.aws_iam_role_policy_attachment).toBeUndefined();
  });

  it('is created before the release, so the pods\' S3 mounts find credentials', () => {
    const [association] = Object.keys(parsed.resource.aws_eks_pod_identity_association);
    expect(release(parsed).depends_on).toEqual([`aws_eks_pod_identity_association.${association}`]);
  });
});

describe('ComfyUI namespace', () => {
  it('asks the load balancer controller for pod readiness gates, so rolling updates wait for healthy targets', () => {
    const [namespace] = Object.values<any>(parsed.resource.kubernetes_namespace_v1);
    expect(namespace.metadata.labels['elbv2.k8s.aws/pod-readiness-gate-inject']).toBe('enabled');
  });
});

describe('helm release of charts/comfyui', () => {
  it('installs the local chart (copied as a stack asset) into its own namespace, without waiting for GPUs', () => {
    expect(synth).toHaveResourceWithProperties(Release, {
      name: 'comfyui',
      chart: expect.stringMatching(/^\.\/assets\/Release_Chart_[A-F0-9]+\/[A-F0-9]+$/),
      namespace: expect.stringMatching(/^\$\{kubernetes_namespace_v1\.Release_Namespace_[A-F0-9]+\.metadata\[0\]\.name\}$/),
      create_namespace: false,
      wait: false,
      provider: 'helm',
    });
    expect(synth).toHaveResourceWithProperties(NamespaceV1, {
      metadata: { name: 'comfyui', labels: expect.objectContaining({ 'pod-security.kubernetes.io/audit': 'restricted' }) },
    });
  });

  it('is owned by helm after the first install by default (ignore_changes = all), by Terraform on request', () => {
    expect(release(parsed).lifecycle).toEqual({ ignore_changes: 'all' });
    expect(release(synthApp({ app: { releaseOwner: 'terraform' } }).parsed).lifecycle).toBeUndefined();
  });

  it('passes the initial app values, then the platform values computed from the other stacks', () => {
    const [appValues, platformValues] = release(parsed).values as string[];
    expect(appValues).toBe(
      '${jsonencode({"image" = {"tag" = "v0.3.66"}, "replicaCount" = 1, "autoscaling" = {"minReplicas" = 0, "maxReplicas" = 4, "idleMinutes" = 30, "targetQueuePerReplica" = 2, "pollingIntervalSeconds" = 10, "warmSchedules" = []}})}',
    );
    for (const expected of [
      '"repository" = aws_ecr_repository.Images_Repository_',
      `"targetGroupArn" = "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/comfyui-dev-comfyui/0a1b2c3d4e5f6a7b"`,
      `"bucketName" = "${STORAGE.outputsBucket.name}"`,
      `"bucketName" = "${STORAGE.inputsBucket.name}"`,
      '"ingressCidrs" = ["10.2.224.0/24", "10.2.225.0/24", "10.2.226.0/24"]',
      '"hostPath" = "/mnt/models"',
      '"readinessMarker" = ".model-sync/ready.json"',
      '"name" = "comfyui"',
      '"region" = "us-west-2"',
    ]) {
      expect(platformValues).toContain(expected);
    }
    const custom = release(synthApp({ app: { imageTag: 'v0.3.66-build.9', replicas: 2, port: 9000 }, models: { nodePath: '/data/models' } }).parsed).values as string[];
    expect(custom[0]).toMatch(/^\$\{jsonencode\(\{"image" = \{"tag" = "v0\.3\.66-build\.9"\}, "replicaCount" = 2, "autoscaling" = \{/);
    expect(custom[1]).toContain('"comfyui" = {"port" = 9000}');
    expect(custom[1]).toContain('"hostPath" = "/data/models"');
  });

  it('configures the in-cluster providers from the cluster outputs', () => {
    expect(parsed.provider.helm[0].kubernetes.host).toBe('https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com');
    expect(parsed.provider.kubernetes[0].exec[0].args).toEqual(['eks', 'get-token', '--cluster-name', 'comfyui-dev', '--region', 'us-west-2', '--output', 'json']);
  });
});

describe('outputs for make values', () => {
  it('exports the platform values, the release and the repository URL', () => {
    expect(Object.keys(parsed.output).sort()).toEqual(['chart_values', 'image_repository_url', 'release']);
    expect(parsed.output.release.value).toEqual({ name: 'comfyui', namespace: 'comfyui' });
    const values = parsed.output.chart_values.value;
    expect(values.exposure.targetGroupBinding.targetGroupArn).toBe('arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/comfyui-dev-comfyui/0a1b2c3d4e5f6a7b');
    expect(values.image.repository).toMatch(/^\$\{aws_ecr_repository\.Images_Repository_[A-F0-9]+\.repository_url\}$/);
    // app-owned values stay out of the generated file, so regenerating it never resets them
    expect(values.image.tag).toBeUndefined();
    expect(values.replicaCount).toBeUndefined();
  });

  it('the platform values satisfy the chart schema and render', async () => {
    requireTools();
    const values = { ...parsed.output.chart_values.value, image: { repository: '123456789012.dkr.ecr.us-west-2.amazonaws.com/comfyui-dev/comfyui' } };
    const { objects } = await render([values]);
    expect(objects.find((o) => o.kind === 'TargetGroupBinding')!.spec.targetGroupARN).toBe(values.exposure.targetGroupBinding.targetGroupArn);
    // and the chart's own required-values file renders the same kinds
    const reference = await render([DEFAULT_VALUES]);
    expect(objects.map((o) => o.kind).sort()).toEqual(reference.objects.map((o) => o.kind).sort());
  });

  it('rejects a readiness marker outside the models directory', () => {
    const input = {
      imageRepository: 'r', serviceAccount: 'comfyui', port: 8188, modelsDir: '/mnt/models', readinessMarker: '/var/ready.json', modelFolders: ['checkpoints'],
      region: 'us-west-2', outputsBucket: STORAGE.outputsBucket, inputsBucket: STORAGE.inputsBucket, inputsWritable: false, targetGroupArn: 'arn', ingressCidrs: ['10.0.0.0/16'],
      autoscalingMode: 'manual' as const, clusterName: 'c', targetGroupMetricDimensions: EDGE.targetGroupMetricDimensions,
    };
    expect(() => comfyuiPlatformValues(input)).toThrow('readinessMarker /var/ready.json must lie inside the models directory /mnt/models');
  });
});

it('synthesizes to disk with the chart copied next to the stack, where helm finds it', async () => {
  requireTools();
  const outdir = mkdtempSync(join(tmpdir(), 'app-synth-'));
  const app = new App({ outdir, skipValidation: false });
  synthApp({}, app);
  app.synth();
  const stackDir = join(outdir, 'stacks', 'comfyui-dev-app');
  const tf = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8'));
  const chartDir = join(stackDir, (Object.values(tf.resource.helm_release)[0] as any).chart);
  expect(existsSync(join(chartDir, 'Chart.yaml'))).toBe(true);
  const lint = await run(HELM, ['lint', '--strict', chartDir, '-f', DEFAULT_VALUES]);
  expect(lint.code).toBe(0);
});

it('matches the reviewed snapshot (chart asset hash normalized)', () => {
  expect(synth.replace(/assets\/Release_Chart_[A-F0-9]+\/[A-F0-9]+/g, 'assets/Release_Chart/<chart-hash>')).toMatchSnapshot();
});
