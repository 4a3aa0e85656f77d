import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { Testing } from 'cdktf';
import { buildPlatform } from '../../stacks/app';
import { testConfig } from '../helpers/config';

const ROOT = resolve(__dirname, '../..');

describe('the whole app', () => {
  const app = Testing.app();
  const stacks = buildPlatform(app, testConfig());

  it('tags every stack through the AWS provider default tags', () => {
    for (const stack of Object.values(stacks)) {
      const synth = JSON.parse(Testing.synth(stack));
      expect(synth.provider.aws[0].default_tags[0].tags).toEqual({ Project: 'comfyui', Environment: 'dev', ManagedBy: 'cdktf' });
      expect(synth.provider.aws[0].region).toBe('us-west-2');
    }
  });

  it('uses a local backend by default and S3 with a lockfile when a state bucket is set', () => {
    const local = JSON.parse(Testing.synth(stacks.storage));
    expect(local.terraform.backend.local.path).toBe('../../../terraform.comfyui-dev-storage.tfstate');

    const s3App = Testing.app();
    const s3Stacks = buildPlatform(s3App, testConfig({ state: { bucket: 'acme-tfstate', region: 'us-east-1' } }));
    const remote = JSON.parse(Testing.synth(s3Stacks.storage));
    expect(remote.terraform.backend.s3).toEqual({
      bucket: 'acme-tfstate',
      key: 'comfyui/dev/comfyui-dev-storage.tfstate',
      region: 'us-east-1',
      encrypt: true,
      use_lockfile: true,
    });
  });
});

describe('main.ts (the synth entry point)', () => {
  beforeAll(() => {
    execFileSync('node', ['scripts/build-app.mjs'], { cwd: ROOT });
  });

  function runMain(env: Record<string, string>) {
    const outdir = join(mkdtempSync(join(tmpdir(), 'comfyui-synth-')), 'cdktf.out');
    const run = spawnSync('node', [join(ROOT, '.build/main.js')], {
      cwd: ROOT,
      env: { ...process.env, CDKTF_OUTDIR: outdir, ...env },
      encoding: 'utf8',
    });
    return { ...run, outdir };
  }

  it('synthesizes every stack with the default config', () => {
    const run = runMain({});
    expect(run.status).toBe(0);
    // only warnings (e.g. the open public API endpoint), printed with the construct path
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines.every((l) => l.startsWith('warning: comfyui-dev-'))).toBe(true);
    expect(run.stderr).toContain('warning: comfyui-dev-cluster/ControlPlane: cluster.publicAccessCidrs allows 0.0.0.0/0');
    const manifest = JSON.parse(readFileSync(join(run.outdir, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.stacks)).toEqual(expect.arrayContaining(['comfyui-dev-storage']));
  });

  it('embeds the models bootstrap in the GPU EC2NodeClass with the models bucket read from the storage stack', () => {
    const run = runMain({});
    expect(run.status).toBe(0);
    const addons = JSON.parse(readFileSync(join(run.outdir, 'stacks/comfyui-dev-cluster-addons/cdk.tf.json'), 'utf8'));
    const pool = Object.values<any>(addons.resource.helm_release).find((r) => r.name === 'karpenter-gpu-pool');
    const references = pool.values[0].match(/\$\{[^}]*\}/g);
    expect(references).toEqual([
      expect.stringMatching(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-comfyui-dev-capacity\.outputs\..*InstanceProfile.*\}$/),
      // The node files document version the user data fetches (pinned, so a node never reads a newer, unverifiable one).
      expect.stringMatching(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-comfyui-dev-capacity\.outputs\..*NodeFiles.*document_version\}$/),
      expect.stringMatching(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-comfyui-dev-storage\.outputs\..*ModelsBucket.*bucket\}$/),
    ]);
    const userData: string = JSON.parse(pool.values[0]).nodeClass.userData;
    expect(userData).toMatch(/^MIME-Version: 1\.0\n/);
    expect(userData).toContain('systemctl start --no-block comfyui-model-sync-initial.service');
  });

  it('makes every stack depend on the stacks it takes values from, so cdktf deploys them in order', () => {
    const run = runMain({});
    const manifest = JSON.parse(readFileSync(join(run.outdir, 'manifest.json'), 'utf8'));
    const dependencies = Object.fromEntries(
      Object.entries<any>(manifest.stacks).map(([id, stack]) => [id.replace('comfyui-dev-', ''), stack.dependencies.map((d: string) => d.replace('comfyui-dev-', '')).sort()]),
    );
    expect(dependencies).toEqual({
      network: [],
      storage: [],
      cluster: ['network', 'storage'],
      capacity: ['cluster', 'edge', 'jobs', 'storage'],
      'model-sync': ['storage'],
      'cluster-addons': ['capacity', 'cluster', 'network', 'storage'],
      edge: ['cluster', 'network'],
      jobs: ['storage'],
      app: ['cluster', 'cluster-addons', 'edge', 'jobs', 'storage'],
      observability: ['capacity', 'cluster', 'edge', 'jobs', 'model-sync'],
    });
  });

  it('stops on invalid config with one line per field and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfyui-bad-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'network:\n  cidr: 10.0.0.0/8\nregion: nowhere\n');
    const run = runMain({ COMFYUI_CONFIG: file });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('network.cidr: must be a /16 to /20 IPv4 block, got 10.0.0.0/8');
    expect(run.stderr).toContain('region: must be an AWS region');
    expect(existsSync(run.outdir)).toBe(false);
    expect(readdirSync(join(run.outdir, '..'))).toEqual([]);
  });
});
