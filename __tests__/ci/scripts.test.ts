/**
 * The CI scripts behind the workflows, run for real against fixtures:
 * stack order from a cdktf manifest, per-stack plan/apply (with a recording
 * terraform stand-in: no AWS here), the sticky PR comment (a recording gh
 * stand-in), the chart review (real helm and git), and validate.sh's
 * failures (real terraform, provider source unreachable on purpose).
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';

const ROOT = resolve(__dirname, '../..');
const script = (name: string) => join(ROOT, 'scripts', name);

function run(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, encoding: 'utf8' });
}

/** A synthesized-app layout: manifest.json plus one working directory per stack. */
function fakeOutdir(stacks: Record<string, string[]>): string {
  const outdir = join(mkdtempSync(join(tmpdir(), 'ci-out-')), 'cdktf.out');
  const manifest: Record<string, unknown> = {};
  for (const [name, dependencies] of Object.entries(stacks)) {
    mkdirSync(join(outdir, 'stacks', name), { recursive: true });
    writeFileSync(join(outdir, 'stacks', name, 'cdk.tf.json'), JSON.stringify({ terraform: { required_providers: { aws: { source: 'aws', version: '6.25.0' } } } }));
    manifest[name] = { name, dependencies, workingDirectory: `stacks/${name}`, synthesizedStackPath: `stacks/${name}/cdk.tf.json` };
  }
  writeFileSync(join(outdir, 'manifest.json'), JSON.stringify({ version: '0.21.0', stacks: manifest }));
  return outdir;
}

/** Writes an executable stand-in for a CLI into a fresh bin dir and returns that dir. */
function standIn(name: string, body: string): string {
  const bin = mkdtempSync(join(tmpdir(), `${name}-bin-`));
  writeFileSync(join(bin, name), `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
  return bin;
}

const PLATFORM = {
  'c-dev-app': ['c-dev-cluster', 'c-dev-storage', 'c-dev-edge'],
  'c-dev-edge': ['c-dev-network', 'c-dev-cluster'],
  'c-dev-cluster': ['c-dev-network', 'c-dev-storage'],
  'c-dev-storage': [],
  'c-dev-network': [],
};

describe('scripts/ci/stack-order.sh', () => {
  it('puts every stack after the stacks it depends on', () => {
    const result = run(script('ci/stack-order.sh'), [fakeOutdir(PLATFORM)]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual(['c-dev-storage', 'c-dev-network', 'c-dev-cluster', 'c-dev-edge', 'c-dev-app']);
  });

  it('names a cycle and a missing dependency', () => {
    const cycle = run(script('ci/stack-order.sh'), [fakeOutdir({ a: ['b'], b: ['a'], c: [] })]);
    expect(cycle.status).toBe(1);
    expect(cycle.stderr).toBe('stack-order: dependency cycle among a b\n');
    const missing = run(script('ci/stack-order.sh'), [fakeOutdir({ a: ['ghost'] })]);
    expect(missing.stderr).toMatch(/a depends on ghost, which is not in .*manifest\.json/);
  });
});

describe('scripts/ci/terraform-stacks.sh', () => {
  // Records every call as "<stack dir name> <args>"; `plan` reports changes, except in a stack named *-broken.
  const terraform = standIn(
    'terraform',
    [
      'dir="${1#-chdir=}"; stack="$(basename "$dir")"; shift',
      'echo "$stack $*" >>"$TF_CALLS"',
      'case "$1" in',
      '  init) echo "Terraform has been successfully initialized!" ;;',
      '  plan)',
      '    if [[ "$stack" == *-broken ]]; then echo "Error: no valid credential sources found" >&2; exit 1; fi',
      '    if [[ "$stack" == *-storage ]]; then echo "No changes. Your infrastructure matches the configuration."; exit 0; fi',
      '    echo "Plan: 3 to add, 1 to change, 0 to destroy."; [[ " $* " == *" -detailed-exitcode "* ]] && exit 2; exit 0 ;;',
      '  show) echo "  # aws_s3_bucket.x will be created" ;;',
      '  apply) echo "Apply complete!" ;;',
      'esac',
    ].join('\n'),
  );

  it('refuses stacks with local state before running terraform', () => {
    const outdir = fakeOutdir({ 'c-dev-network': [] });
    writeFileSync(join(outdir, 'stacks/c-dev-network/cdk.tf.json'), JSON.stringify({ terraform: { backend: { local: { path: 'x.tfstate' } } } }));
    const calls = join(mkdtempSync(join(tmpdir(), 'tf-local-')), 'calls.log');
    const result = run(script('ci/terraform-stacks.sh'), ['plan', outdir], { env: { PATH: `${terraform}:${process.env.PATH}`, TF_CALLS: calls } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('c-dev-network uses local state; set state.bucket');
    expect(existsSync(calls)).toBe(false);
  });

  function runStacks(mode: string, stacks: Record<string, string[]>) {
    const dir = mkdtempSync(join(tmpdir(), 'tf-stacks-'));
    const calls = join(dir, 'calls.log');
    const summary = join(dir, 'summary.md');
    const stepSummary = join(dir, 'step-summary.md');
    const result = run(script('ci/terraform-stacks.sh'), [mode, fakeOutdir(stacks), summary], {
      env: { PATH: `${terraform}:${process.env.PATH}`, TF_CALLS: calls, GITHUB_STEP_SUMMARY: stepSummary },
    });
    const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    return { result, calls: read(calls).trim().split('\n'), summary: read(summary), stepSummary: read(stepSummary) };
  }

  it('plans every stack in dependency order without taking the state lock and summarizes the result', () => {
    const { result, calls, summary, stepSummary } = runStacks('plan', { 'c-dev-app': ['c-dev-storage'], 'c-dev-storage': [] });
    expect(result.status).toBe(0);
    expect(calls).toEqual([
      'c-dev-storage init -input=false -no-color',
      'c-dev-storage plan -input=false -no-color -lock=false -detailed-exitcode -out=tfplan',
      'c-dev-storage show -no-color tfplan',
      'c-dev-app init -input=false -no-color',
      'c-dev-app plan -input=false -no-color -lock=false -detailed-exitcode -out=tfplan',
      'c-dev-app show -no-color tfplan',
    ]);
    expect(summary).toContain('| `c-dev-storage` | No changes. |\n| `c-dev-app` | Plan: 3 to add, 1 to change, 0 to destroy. |');
    expect(summary).toContain('<details><summary>c-dev-app</summary>\n\n```\n  # aws_s3_bucket.x will be created\n```\n</details>');
    expect(stepSummary).toBe(summary);
  });

  it('keeps planning after a failed stack, shows the error and fails', () => {
    const { result, summary } = runStacks('plan', { 'c-dev-broken': [], 'c-dev-storage': [] });
    expect(result.status).toBe(1);
    expect(summary).toContain('| `c-dev-broken` | **plan failed** |');
    expect(summary).toContain('| `c-dev-storage` | No changes. |');
    expect(summary).toContain('Error: no valid credential sources found');
  });

  it('applies the saved plan of each stack in order and stops at the first failure', () => {
    const ok = runStacks('apply', { 'c-dev-app': ['c-dev-storage'], 'c-dev-storage': [] });
    expect(ok.result.status).toBe(0);
    expect(ok.calls.filter((c) => / (plan|apply) /.test(c))).toEqual([
      'c-dev-storage plan -input=false -no-color -out=tfplan',
      'c-dev-storage apply -input=false -no-color tfplan',
      'c-dev-app plan -input=false -no-color -out=tfplan',
      'c-dev-app apply -input=false -no-color tfplan',
    ]);
    const broken = runStacks('apply', { 'c-dev-app': ['c-dev-broken'], 'c-dev-broken': [] });
    expect(broken.result.status).not.toBe(0);
    expect(broken.calls.some((c) => c.startsWith('c-dev-app'))).toBe(false);
  });

  it('rejects an unknown mode', () => {
    expect(run(script('ci/terraform-stacks.sh'), ['destroy']).stderr).toMatch(/^usage: .* plan\|apply/);
  });
});

describe('scripts/ci/pr-comment.sh', () => {
  // gh stand-in: lists the comments in $GH_COMMENTS, records other calls.
  const gh = standIn('gh', ['echo "$*" >>"$GH_CALLS"', 'if [[ "$*" == *"--paginate"* ]]; then cat "$GH_COMMENTS"; fi'].join('\n'));

  function comment(existing: string) {
    const dir = mkdtempSync(join(tmpdir(), 'pr-comment-'));
    writeFileSync(join(dir, 'body.md'), '### Terraform plan');
    writeFileSync(join(dir, 'comments'), existing);
    const result = run(script('ci/pr-comment.sh'), ['plan', '42', join(dir, 'body.md')], {
      env: { PATH: `${gh}:${process.env.PATH}`, GH_CALLS: join(dir, 'calls'), GH_COMMENTS: join(dir, 'comments'), GITHUB_REPOSITORY: 'acme/comfyui' },
    });
    // one call per line, except that the comment body spans lines
    const [list, ...rest] = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    return { result, calls: [list, rest.join('\n')] };
  }

  it('updates its earlier comment', () => {
    const { result, calls } = comment('1001\n');
    expect(result.stdout).toBe('pr-comment: updated comment 1001 on #42\n');
    expect(calls[0]).toContain('repos/acme/comfyui/issues/42/comments');
    expect(calls[0]).toContain('startswith("<!-- comfyui-eks:plan -->")');
    expect(calls[1]).toBe('api --method PATCH repos/acme/comfyui/issues/comments/1001 -f body=<!-- comfyui-eks:plan -->\n### Terraform plan');
  });

  it('comments when there is none yet, and validates its arguments', () => {
    const { calls } = comment('');
    expect(calls[1]).toMatch(/^api --method POST repos\/acme\/comfyui\/issues\/42\/comments -f body=<!-- comfyui-eks:plan -->/);
    const bad = run(script('ci/pr-comment.sh'), ['plan', 'abc', '/dev/null'], { env: { GITHUB_REPOSITORY: 'acme/comfyui' } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('pr-comment: PR_NUMBER must be a number, got abc\n');
  });
});

describe('scripts/ci/chart-review.sh', () => {
  function chartRepo() {
    const repo = mkdtempSync(join(tmpdir(), 'chart-repo-'));
    const git = (...args: string[]) => {
      const r = run('git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', ...args], { cwd: repo });
      if (r.status !== 0) throw new Error(r.stderr);
      return r.stdout.trim();
    };
    const writeChart = (name: string, label: string) => {
      mkdirSync(join(repo, 'charts', name, 'templates'), { recursive: true });
      writeFileSync(join(repo, 'charts', name, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\ndescription: fixture\nversion: 0.1.0\n`);
      writeFileSync(join(repo, 'charts', name, 'values.yaml'), `label: ${label}\n`);
      writeFileSync(
        join(repo, 'charts', name, 'templates', 'configmap.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    tier: {{ .Values.label }}\ndata: {}\n',
      );
    };
    git('init', '-q', '-b', 'main');
    writeChart('web', 'blue');
    git('add', '.');
    git('commit', '-qm', 'base');
    const base = git('rev-parse', 'HEAD');
    return { repo, base, writeChart };
  }

  it('lints every chart and shows the rendered diff against the base, including new charts', () => {
    const { repo, base, writeChart } = chartRepo();
    writeChart('web', 'green');
    writeChart('jobs', 'batch');
    const result = run(script('ci/chart-review.sh'), [base, join(repo, 'review.md')], { cwd: repo });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const review = readFileSync(join(repo, 'review.md'), 'utf8');
    expect(review).toMatch(/#### `web`\n\nhelm lint: passed\n/);
    expect(review).toMatch(/-    tier: blue\n\+    tier: green/);
    expect(review).toMatch(/#### `jobs`[\s\S]*\+  name: jobs/);
  });

  it('fails when a chart does not lint', () => {
    const { repo, base } = chartRepo();
    writeFileSync(join(repo, 'charts', 'web', 'templates', 'configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name\n');
    const result = run(script('ci/chart-review.sh'), [base, join(repo, 'review.md')], { cwd: repo });
    expect(result.status).toBe(1);
    expect(readFileSync(join(repo, 'review.md'), 'utf8')).toContain('helm lint: **failed**');
  });
});

describe('scripts/validate.sh', () => {
  it('asks for a synth when there is no manifest', () => {
    const result = run(script('validate.sh'), [join(tmpdir(), 'no-such-outdir')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/manifest\.json not found: run make synth first/);
  });

  it('exits 3 with a clear message when the providers cannot be downloaded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'validate-'));
    // A provider mirror nobody listens on: the same failure as an offline registry, on any machine.
    writeFileSync(join(dir, 'terraformrc'), 'provider_installation {\n  network_mirror {\n    url = "https://127.0.0.1:9/"\n  }\n}\n');
    const result = run(script('validate.sh'), [fakeOutdir({ 'c-dev-storage': [] })], {
      env: { TF_CLI_CONFIG_FILE: join(dir, 'terraformrc'), TF_PLUGIN_CACHE_DIR: join(dir, 'cache') },
    });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/^validate: cannot download the Terraform providers for c-dev-storage \(aws@6\.25\.0\):\n {2}terraform: .*connection refused/);
  });
});
