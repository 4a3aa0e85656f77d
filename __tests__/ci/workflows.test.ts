/**
 * The GitHub workflows: every action pinned by commit, least-privilege
 * permissions, the PR plan with a read-only OIDC role, and the deploy
 * behind an approved environment. actionlint runs in `make test` too.
 */
import { readdirSync, readFileSync } from 'fs';
import { join, resolve } from 'path';
import { parse } from 'yaml';

const DIR = resolve(__dirname, '../../.github/workflows');
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { permissions?: Record<string, string>; steps?: Step[]; uses?: string; needs?: string | string[]; environment?: string; if?: string };
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string>; jobs: Record<string, Job> };

const files = readdirSync(DIR).filter((f) => f.endsWith('.yml'));
const text = (file: string) => readFileSync(join(DIR, file), 'utf8');
const workflow = (file: string) => parse(text(file)) as Workflow;
const runs = (job: Job) => (job.steps ?? []).map((s) => s.run ?? '').join('\n');

describe('GitHub workflows', () => {
  it('exist for tests, pull requests, chart review and deploy', () => {
    expect(files.sort()).toEqual(['chart-review.yml', 'deploy.yml', 'pull-request.yml', 'test.yml']);
  });

  it.each(files)('%s pins every action to a full commit SHA with its version as a comment', (file) => {
    const uses = text(file)
      .split('\n')
      .filter((l) => /^\s*(- )?uses:/.test(l));
    expect(uses.length).toBeGreaterThan(0);
    for (const line of uses) {
      expect(line).toMatch(/uses: (\.\/\.github\/workflows\/[\w.-]+\.yml|[\w-]+\/[\w-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+)$/);
    }
  });

  it.each(files)('%s grants no permissions by default and only what each job needs', (file) => {
    const wf = workflow(file);
    const allowed: Record<string, string[]> = { contents: ['read'], 'id-token': ['write'], 'pull-requests': ['write'] };
    if (file !== 'test.yml') expect(wf.permissions).toEqual({});
    for (const job of Object.values(wf.jobs)) {
      const perms = job.permissions ?? wf.permissions;
      expect(perms).toBeDefined();
      for (const [scope, level] of Object.entries(perms ?? {})) expect(allowed[scope]).toContain(level);
      // Cloud credentials and PR write access never meet in one job.
      expect(perms?.['id-token'] === 'write' && perms?.['pull-requests'] === 'write').toBe(false);
      if (perms?.['id-token'] === 'write') expect(runs(job) + JSON.stringify(job.steps)).toMatch(/configure-aws-credentials/);
    }
  });

  it('pull-request: make test, then synth and a per-stack plan with the read-only role, summary to the PR', () => {
    const wf = workflow('pull-request.yml');
    expect(Object.keys(wf.on)).toEqual(['pull_request']);
    expect(wf.jobs.test.uses).toBe('./.github/workflows/test.yml');
    const plan = wf.jobs.plan;
    expect(plan.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    expect(runs(plan)).toMatch(/npx cdktf synth[\s\S]*scripts\/ci\/terraform-stacks\.sh plan cdktf\.out plan-summary\.md/);
    const creds = plan.steps!.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(creds?.with?.['role-to-assume']).toBe('${{ vars.AWS_PLAN_ROLE_ARN }}');
    expect(wf.jobs.comment.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(runs(wf.jobs.comment)).toContain('scripts/ci/pr-comment.sh plan');
  });

  it('test: installs the pinned tools and runs make test', () => {
    expect(runs(workflow('test.yml').jobs.test)).toMatch(/scripts\/install-tools\.sh[\s\S]*make test/);
  });

  it('chart-review: helm lint and the rendered diff against the PR base, on chart changes', () => {
    const wf = workflow('chart-review.yml');
    expect((wf.on.pull_request as { paths: string[] }).paths).toEqual(['charts/**']);
    expect(runs(wf.jobs.review)).toContain('scripts/ci/chart-review.sh "$BASE_SHA" chart-review.md');
    expect(wf.jobs.review.steps![0].with?.['fetch-depth']).toBe(0);
  });

  it('deploy: on main, test and plan first, then apply in dependency order behind the production environment', () => {
    const wf = workflow('deploy.yml');
    expect(wf.on).toEqual({ push: { branches: ['main'] } });
    const deploy = wf.jobs.deploy;
    expect(deploy.environment).toBe('production');
    expect(deploy.needs).toBe('plan');
    expect(wf.jobs.plan.needs).toBe('test');
    expect(runs(deploy)).toContain('scripts/ci/terraform-stacks.sh apply cdktf.out');
    const creds = deploy.steps!.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(creds?.with?.['role-to-assume']).toBe('${{ vars.AWS_DEPLOY_ROLE_ARN }}');
    expect(text('deploy.yml')).toMatch(/cancel-in-progress: false/);
  });
});
