/**
 * How make validate (dev) and make e2e prepare their copies of the stacks:
 * moto gaps and what references them are removed across stacks, in-cluster
 * resources become evaluated outputs, the project's cdktf.out is untouched.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdktf';
import { DELETION_PROTECTION, dependencyWaves, inDependencyOrder, prepareStacks, teardownOverride, readStacks, references, SynthStack, TerraformJson } from '../../scripts/e2e/stacks';
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

describe('inDependencyOrder', () => {
  // network <- cluster <- edge; storage <- jobs (jobs need not wait for cluster or edge).
  const graph: Record<string, string[]> = { network: [], storage: [], cluster: ['network'], jobs: ['storage'], edge: ['cluster', 'network'] };
  const stacks = Object.keys(graph).map((name) => ({ name }));
  const deps = (s: { name: string }) => graph[s.name];
  /** Runs `stacks` with a per-stack duration; records start/end order. */
  async function schedule(durations: Record<string, number>, options: { reverse?: boolean; fail?: string } = {}) {
    const events: string[] = [];
    const outcome = await inDependencyOrder(stacks, deps, async (s) => {
      events.push(`start ${s.name}`);
      await new Promise((r) => setTimeout(r, durations[s.name] ?? 1));
      events.push(`end ${s.name}`);
      if (s.name === options.fail) throw new Error(`${s.name} broke`);
      return s.name;
    }, options);
    return { events, ...outcome };
  }

  it('starts a stack as soon as its own dependencies are done, not a whole wave later', async () => {
    // GIVEN cluster is slow WHEN jobs' only dependency (storage) finishes THEN jobs starts before cluster ends.
    const { events, results } = await schedule({ cluster: 60 });
    expect(events.indexOf('start jobs')).toBeLessThan(events.indexOf('end cluster'));
    expect(events.indexOf('start cluster')).toBeGreaterThan(events.indexOf('end network'));
    expect(events.indexOf('start edge')).toBeGreaterThan(events.indexOf('end cluster'));
    expect(results).toEqual(['network', 'storage', 'cluster', 'jobs', 'edge']);
  });

  it('in reverse, waits for every dependent before a stack starts', async () => {
    const { events } = await schedule({ edge: 40 }, { reverse: true });
    expect(events.indexOf('start network')).toBeGreaterThan(events.indexOf('end edge'));
    expect(events.indexOf('start network')).toBeGreaterThan(events.indexOf('end cluster'));
    expect(events.indexOf('start storage')).toBeGreaterThan(events.indexOf('end jobs'));
    expect(events.indexOf('start jobs')).toBeLessThan(events.indexOf('end edge'));
  });

  it('skips what depends on a failed stack and still runs the rest', async () => {
    const { events, results, failures } = await schedule({}, { fail: 'cluster' });
    expect(failures.map((f) => [f.stack, f.error.message])).toEqual([['cluster', 'cluster broke']]);
    expect(events).not.toContain('start edge');
    expect(results).toEqual(['network', 'storage', 'jobs']);
  });

  it('rejects a cycle before running anything', async () => {
    let ran = 0;
    const cyclic = { a: ['b'], b: ['a'] } as Record<string, string[]>;
    await expect(inDependencyOrder([{ name: 'a' }, { name: 'b' }], (s) => cyclic[s.name], async () => { ran += 1; })).rejects.toThrow('cyclic stack dependencies among a, b');
    expect(ran).toBe(0);
  });
});

describe('teardownOverride', () => {
  it('turns off every deletion protection that is on, in the form each argument takes', () => {
    const tf = {
      terraform: {},
      resource: {
        aws_dynamodb_table: { T: { name: 't', deletion_protection_enabled: true }, Off: { deletion_protection_enabled: false } },
        aws_lb: { Alb: { enable_deletion_protection: true } },
        aws_cognito_user_pool: { Pool: { deletion_protection: 'ACTIVE' } },
        aws_s3_bucket: { B: { bucket: 'b' } },
      },
    };
    expect(teardownOverride(tf)).toEqual({
      resource: {
        aws_dynamodb_table: { T: { deletion_protection_enabled: false } },
        aws_lb: { Alb: { enable_deletion_protection: false } },
        aws_cognito_user_pool: { Pool: { deletion_protection: 'INACTIVE' } },
      },
    });
    expect(teardownOverride({ terraform: {}, resource: { aws_lb: { Alb: { enable_deletion_protection: false } } } })).toBeUndefined();
  });

  it('covers what README.md tells operators to turn off before a destroy', () => {
    const teardown = /## Tear down\n([\s\S]*?)\n## /.exec(readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8'))?.[1] ?? '';
    for (const field of ['jobs.deletionProtection', 'edge.alb.deletionProtection', 'edge.auth.cognito.deletionProtection']) expect(teardown).toContain(field);
    expect(Object.keys(DELETION_PROTECTION).sort()).toEqual(['aws_cognito_user_pool', 'aws_dynamodb_table', 'aws_lb']);
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

  it('need the deletion protection of the jobs table lifted before a destroy, and nothing else by default', () => {
    const overrides = Object.fromEntries(stacks.flatMap((s) => { const o = teardownOverride(s.tf); return o ? [[s.name, o]] : []; }));
    expect(Object.keys(overrides)).toEqual(['comfyui-dev-jobs']);
    expect(Object.values(overrides['comfyui-dev-jobs'].resource.aws_dynamodb_table)).toEqual([{ deletion_protection_enabled: false }]);
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
