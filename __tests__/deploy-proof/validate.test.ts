/**
 * The provider built by make tools really validates: the storage stack passes
 * `terraform validate`, and the same stack with one bogus argument fails it.
 * Needs `scripts/install-tools.sh aws-provider` (make test runs it first).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdktf';
import { prepareStacks, readStacks } from '../../scripts/e2e/stacks';
import { devProviderDir } from '../../scripts/e2e/terraform';
import { validateStacks } from '../../scripts/e2e/validate';
import { buildPlatform } from '../../stacks/app';
import { testConfig } from '../helpers/config';

describe('terraform validate with the provider built here', () => {
  const app = Testing.app();
  buildPlatform(app, testConfig());
  app.synth();
  const storage = readStacks(app.outdir).filter((s) => s.name === 'comfyui-dev-storage');

  beforeAll(() => {
    devProviderDir(); // throws with the command to run when the build is missing
  });

  it('accepts the storage stack and rejects it with a bogus argument', async () => {
    const good = prepareStacks(storage, { workDir: mkdtempSync(join(tmpdir(), 'validate-good-')), gaps: new Set() });
    const bad = prepareStacks(storage, { workDir: mkdtempSync(join(tmpdir(), 'validate-bad-')), gaps: new Set() });
    const file = join(bad[0].dir, 'cdk.tf.json');
    const tf = JSON.parse(readFileSync(file, 'utf8'));
    const [bucket] = Object.keys(tf.resource.aws_s3_bucket);
    tf.resource.aws_s3_bucket[bucket].bogus_argument = true;
    writeFileSync(file, JSON.stringify(tf, null, 2));

    const [goodResult, badResult] = [(await validateStacks(good))[0], (await validateStacks(bad))[0]];
    expect(goodResult).toEqual({ stack: 'comfyui-dev-storage', ok: true, message: '' });
    expect(badResult.ok).toBe(false);
    expect(badResult.message).toMatch(/No argument or block type is named "bogus_argument"/);
  });
});
