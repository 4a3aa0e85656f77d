/**
 * The project's own stacks pass every rule, the policy is applied to every
 * stack buildPlatform creates, and a finding stops synthesis: app.synth()
 * and main.ts (exit 1, nothing written, every finding printed).
 */
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { App, Aspects, TerraformStack, Testing } from 'cdktf';
import { acknowledgePolicyFinding, PlatformPolicy, platformRules } from '../../constructs/policy';
import { buildPlatform } from '../../stacks/app';
import { testConfig } from '../helpers/config';
import { infoAnnotations, ofRule, policyErrors, policyStack } from './helpers';

const ROOT = resolve(__dirname, '../..');

function errorsOf(stack: TerraformStack): string[] {
  Testing.synth(stack);
  return stack.node.findAll().flatMap((n) => n.node.metadata.filter((m) => m.type === '@cdktf/error').map((m) => String(m.data)));
}

describe('the project stacks', () => {
  it.each([
    ['the default config', {}],
    ['a state bucket, extra tags and custom names', { name: 'studio', environment: 'prod', tags: { CostCenter: 'gpu' }, state: { bucket: 'acme-tfstate' }, models: { bucketName: 'studio-models' } }],
  ])('pass every rule with %s', (_label, input) => {
    const stacks = buildPlatform(Testing.app(), testConfig(input));
    for (const stack of Object.values(stacks)) expect(errorsOf(stack)).toEqual([]);
  });

  it('get the policy on every stack buildPlatform creates', () => {
    const stacks = buildPlatform(Testing.app(), testConfig());
    for (const stack of Object.values(stacks)) {
      expect(Aspects.of(stack).all.some((a) => a instanceof PlatformPolicy)).toBe(true);
    }
  });

  it('have one summary per rule, every id unique', () => {
    const rules = platformRules();
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    expect(rules.map((r) => r.id)).toEqual([
      'COMFY-S3-001', 'COMFY-S3-002', 'COMFY-S3-003', 'COMFY-SG-001', 'COMFY-IAM-001', 'COMFY-IAM-002',
      'COMFY-IAM-003', 'COMFY-IAM-004', 'COMFY-EKS-001', 'COMFY-LOG-001', 'COMFY-LOG-002', 'COMFY-TAG-001',
    ]);
  });
});

describe('a finding in a project stack', () => {
  it('makes app.synth() throw with the rule id and the construct path', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'policy-synth-')) });
    const { storage } = buildPlatform(app, testConfig());
    new S3Bucket(storage, 'StrayBucket', { bucket: 'stray' });
    expect(() => app.synth()).toThrow(/\[COMFY-S3-001\] S3 bucket has no aws_s3_bucket_public_access_block .* at comfyui-dev-storage\/StrayBucket/);
  });

  describe('main.ts', () => {
    beforeAll(() => {
      const build = spawnSync('node', ['scripts/build-app.mjs'], { cwd: ROOT, encoding: 'utf8' });
      expect(build.status).toBe(0);
    });

    // Fault injection from outside the project code: a preload adds an
    // unprotected bucket to the first stack just before the app synthesizes.
    function runMainWithStrayBucket(env: Record<string, string>) {
      const dir = mkdtempSync(join(tmpdir(), 'policy-main-'));
      const preload = join(dir, 'stray-bucket.js');
      writeFileSync(
        preload,
        [
          `const cdktf = require(require.resolve('cdktf', { paths: [${JSON.stringify(ROOT)}] }));`,
          `const { S3Bucket } = require(require.resolve('@cdktf/provider-aws/lib/s3-bucket', { paths: [${JSON.stringify(ROOT)}] }));`,
          'const synth = cdktf.App.prototype.synth;',
          'cdktf.App.prototype.synth = function () {',
          '  const stack = this.node.children.find((c) => cdktf.TerraformStack.isStack(c));',
          "  new S3Bucket(stack, 'StrayBucket', { bucket: 'stray' });",
          '  return synth.call(this);',
          '};',
        ].join('\n'),
      );
      const outdir = join(dir, 'cdktf.out');
      const run = spawnSync('node', ['--require', preload, join(ROOT, '.build/main.js')], {
        cwd: ROOT,
        env: { ...process.env, CDKTF_OUTDIR: outdir, ...env },
        encoding: 'utf8',
      });
      return { ...run, outdir, dir };
    }

    it.each([
      ['run directly (make synth)', {}],
      ['run by the cdktf CLI, which asks cdktf to continue on error annotations', { CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: 'true' }],
    ])('exits 1, writes nothing and prints every finding when %s', (_label, env) => {
      const run = runMainWithStrayBucket(env);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('Synthesis stopped by 3 error(s) (policy rules: docs/security.md):');
      for (const rule of ['COMFY-S3-001', 'COMFY-S3-002', 'COMFY-S3-003']) {
        expect(run.stderr).toMatch(new RegExp(`  \\[${rule}\\] .* at comfyui-dev-network/StrayBucket\\n`));
      }
      expect(existsSync(run.outdir)).toBe(false);
      expect(readdirSync(run.dir)).toEqual(['stray-bucket.js']);
    });
  });
});

describe('acknowledgePolicyFinding', () => {
  it('turns the findings of one rule below a scope into info annotations that carry the reason', () => {
    const stack = policyStack();
    const scope = new S3Bucket(stack, 'Acknowledged', { bucket: 'ack' });
    acknowledgePolicyFinding(scope, 'COMFY-S3-001', 'fixture: this bucket is deliberately left without a public access block');
    const errors = policyErrors(stack);
    expect(ofRule(errors, 'COMFY-S3-001')).toEqual([]);
    expect(ofRule(errors, 'COMFY-S3-002')).toHaveLength(1);
    expect(infoAnnotations(stack)).toEqual([
      expect.stringMatching(/^\[COMFY-S3-001\] .* at bad\/Acknowledged \(acknowledged: fixture: this bucket is deliberately left without a public access block\)$/),
    ]);
  });

  it('requires a rule id and a reason that explains something', () => {
    const stack = policyStack();
    expect(() => acknowledgePolicyFinding(stack, 'S3-001', 'a long enough reason for the test')).toThrow('ruleId must look like COMFY-S3-001, got "S3-001"');
    expect(() => acknowledgePolicyFinding(stack, 'COMFY-S3-001', 'needed')).toThrow('reason must explain why in at least 20 characters, got "needed"');
  });
});
