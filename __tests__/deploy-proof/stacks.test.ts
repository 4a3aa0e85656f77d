/**
 * How make validate (dev) and make e2e prepare their copies of the stacks:
 * moto gaps and what references them are removed across stacks, in-cluster
 * resources become evaluated outputs, the project's cdktf.out is untouched.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdktf';
import { dependencyWaves, prepareStacks, readStacks, references, SynthStack, TerraformJson } from '../../scripts/e2e/stacks';
import { buildPlatform } from '../../stacks/app';
import { testConfig } from '../helpers/config';

function stackOf(name: string, tf: TerraformJson): SynthStack {
  const dir = mkdtempSync(join(tmpdir(), `synth-${name}-`));
  writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(tf));
  return { name, dir, tf };
}

const remote = (producer: string) => ({ backend: 'local', config: { path: `../../../terraform.${producer}.tfstate` }, workspace: '${terraform.workspace}' });

// GIVEN a producer whose gap resource feeds an output, and a consumer reading that output
const producer = stackOf('p', {
  terraform: { backend: { local: { path: '../../../terraform.p.tfstate' } }, required_providers: { aws: { source: 'aws', version: '6.25.0' } } },
  provider: { aws: [{ region: 'us-west-2' }] },
  resource: {
    aws_eks_cluster: { C: { name: 'c' } },
    aws_eks_addon: { A: { cluster_name: '${aws_eks_cluster.C.name}' } },
    aws_iam_role: { R: { name: 'r', depends_on: ['aws_eks_addon.A'] }, R_2: { name: '${aws_eks_addon.A.id}' } },
  },
  data: { aws_security_group: { MadeByAddon: { filter: [{ name: 'group-name', values: ['x'] }], depends_on: ['aws_eks_addon.A'] } } },
  output: { addon: { value: '${aws_eks_addon.A.arn}' }, cluster: { value: '${aws_eks_cluster.C.name}' } },
});
const consumer = stackOf('c', {
  terraform: { backend: { local: { path: '../../../terraform.c.tfstate' } }, required_providers: { aws: {}, helm: {}, kubernetes: {} } },
  provider: { aws: [{}], helm: [{ kubernetes: {} }], kubernetes: [{}] },
  data: { terraform_remote_state: { 'cross-stack-reference-input-p': remote('p') } },
  resource: {
    aws_sqs_queue: {
      Q: { name: '${data.terraform_remote_state.cross-stack-reference-input-p.outputs.cluster}' },
      Gone: { name: '${data.terraform_remote_state.cross-stack-reference-input-p.outputs.addon}' },
    },
    kubernetes_namespace_v1: { Ns: { metadata: { name: 'apps' }, depends_on: ['aws_sqs_queue.Q'] } },
    helm_release: { Rel: { chart: './assets/chart', name: 'rel', namespace: '${kubernetes_namespace_v1.Ns.metadata[0].name}', values: ['${jsonencode({"q" = aws_sqs_queue.Q.url})}'], provider: 'helm' } },
  },
});

describe('prepareStacks', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'prepare-'));
  const [p, c] = prepareStacks([consumer, producer], { workDir, gaps: new Set(['aws_eks_addon']) });
  const pTf = JSON.parse(readFileSync(join(p.dir, 'cdk.tf.json'), 'utf8'));
  const cTf = JSON.parse(readFileSync(join(c.dir, 'cdk.tf.json'), 'utf8'));

  it('prepares producers before consumers', () => {
    expect([p.name, c.name]).toEqual(['p', 'c']);
  });

  it('removes the gap type and what references its attributes, transitively and across stacks', () => {
    expect(p.removed).toEqual(
      expect.arrayContaining([
        { address: 'aws_eks_addon.A', kind: 'gap', because: 'aws_eks_addon' },
        { address: 'aws_iam_role.R_2', kind: 'dependent', because: 'aws_eks_addon.A' },
        { address: 'output.addon', kind: 'dependent', because: 'aws_eks_addon.A' },
        // a data source reads what its depends_on creates
        { address: 'data.aws_security_group.MadeByAddon', kind: 'dependent', because: 'aws_eks_addon.A' },
      ]),
    );
    expect(c.removed).toEqual([{ address: 'aws_sqs_queue.Gone', kind: 'dependent', because: 'data.terraform_remote_state.cross-stack-reference-input-p.outputs.addon' }]);
    expect(p.resources.sort()).toEqual(['aws_eks_cluster.C', 'aws_iam_role.R']);
    expect(c.resources).toEqual(['aws_sqs_queue.Q']);
  });

  it('keeps a resource that only depends_on a removed one, without that edge', () => {
    expect(pTf.resource.aws_iam_role.R).toEqual({ name: 'r' });
  });

  it('turns in-cluster resources into outputs of their evaluated configuration', () => {
    expect(c.inCluster.map((r) => r.address).sort()).toEqual(['helm_release.Rel', 'kubernetes_namespace_v1.Ns']);
    expect(cTf.resource.helm_release).toBeUndefined();
    const release = cTf.locals['in_cluster__helm_release__Rel'];
    expect(release.namespace).toBe('${local.in_cluster__kubernetes_namespace_v1__Ns.metadata[0].name}');
    expect(release.provider).toBeUndefined();
    expect(cTf.locals['in_cluster__kubernetes_namespace_v1__Ns'].metadata).toEqual([{ name: 'apps' }]);
    expect(cTf.output['in_cluster__helm_release__Rel']).toEqual({ value: '${local.in_cluster__helm_release__Rel}', sensitive: true });
  });

  it('drops the backend, the kubernetes/helm providers and points remote state at the copies', () => {
    expect(cTf.terraform.backend).toBeUndefined();
    expect(Object.keys(cTf.provider)).toEqual(['aws']);
    expect(Object.keys(cTf.terraform.required_providers)).toEqual(['aws']);
    expect(cTf.data.terraform_remote_state['cross-stack-reference-input-p'].config.path).toBe(join(workDir, 'p', 'terraform.tfstate'));
  });

  it('leaves the synthesized stack untouched', () => {
    expect(JSON.parse(readFileSync(join(producer.dir, 'cdk.tf.json'), 'utf8'))).toEqual(producer.tf);
  });
});

describe('references', () => {
  it('matches whole addresses only', () => {
    expect(references('${aws_iam_role.R.arn}', 'aws_iam_role.R')).toBe(true);
    expect(references('${aws_iam_role.R_2.arn}', 'aws_iam_role.R')).toBe(false);
    expect(references('${data.aws_iam_role.R.arn}', 'aws_iam_role.R')).toBe(false);
    expect(references('${data.aws_iam_role.R.arn}', 'data.aws_iam_role.R')).toBe(true);
  });
});

describe('the real stacks', () => {
  const app = Testing.app();
  buildPlatform(app, testConfig());
  app.synth();
  const stacks = readStacks(app.outdir);
  const root = mkdtempSync(join(tmpdir(), 'real-'));

  it('apply in waves that respect every cross-stack read', () => {
    const waves = dependencyWaves(stacks).map((w) => w.map((s) => s.name));
    const position = (name: string) => waves.findIndex((w) => w.includes(name));
    expect(waves[0]).toEqual(expect.arrayContaining(['comfyui-dev-network', 'comfyui-dev-storage']));
    expect(position('comfyui-dev-cluster')).toBeGreaterThan(position('comfyui-dev-network'));
    expect(position('comfyui-dev-app')).toBeGreaterThan(position('comfyui-dev-edge'));
    expect(position('comfyui-dev-cluster-addons')).toBeGreaterThan(position('comfyui-dev-capacity'));
  });

  it('carry every helm_release and kubernetes_* resource to the Kubernetes side', () => {
    const prepared = prepareStacks(stacks, { workDir: join(root, 'work'), gaps: new Set() });
    const inCluster = prepared.flatMap((s) => s.inCluster.map((r) => r.address));
    const expected = stacks.flatMap((s) => Object.entries(s.tf.resource ?? {}).flatMap(([type, byName]) => (/^(helm|kubernetes)_/.test(type) ? Object.keys(byName).map((n) => `${type}.${n}`) : [])));
    expect(expected.length).toBeGreaterThan(0);
    expect(inCluster.sort()).toEqual(expected.sort());
    expect(prepared.flatMap((s) => s.removed)).toEqual([]);
  });
});
