/**
 * scripts/gen-values.mjs (`make values`): turns the app stack's outputs into
 * the values file for `helm upgrade --install`. The checked-in example
 * (charts/comfyui/ci/generated-example-values.yaml) is its output for the
 * fixture, and the fixture has the shape the app stack really exports.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { CI_DIR, ROOT, run } from '../chart/helm';
import { synthApp } from './fixtures';

const SCRIPT = join(ROOT, 'scripts', 'gen-values.mjs');
const FIXTURE = join(ROOT, '__tests__', 'chart', 'fixtures', 'terraform-output.json');
const EXAMPLE = join(CI_DIR, 'generated-example-values.yaml');
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8'));
const genValues = (...args: string[]) => run(process.execPath, [SCRIPT, ...args], { cwd: ROOT });

/** Same keys at every depth; leaves compared by type. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? [shape(value[0])] : [];
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, shape(v)]));
  return typeof value;
}

it('writes the checked-in example from the `terraform output -json` fixture', async () => {
  const result = await genValues('--outputs', '__tests__/chart/fixtures/terraform-output.json', '--out', '-');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(readFileSync(EXAMPLE, 'utf8'));
});

it('reads the `cdktf output --outputs-file` format too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gen-values-'));
  const cdktfFile = join(dir, 'outputs.json');
  writeFileSync(cdktfFile, JSON.stringify({ 'comfyui-dev-app': { chart_values: fixture.chart_values.value, release: fixture.release.value } }));
  const out = join(dir, 'values.yaml');
  const result = await genValues('--outputs', cdktfFile, '--out', out);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`wrote ${out}`);
  expect(parse(readFileSync(out, 'utf8'))).toEqual(fixture.chart_values.value);
});

it('fails clearly when the outputs have no chart_values', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gen-values-'));
  const file = join(dir, 'outputs.json');
  writeFileSync(file, JSON.stringify({ 'comfyui-dev-edge': { public_hostname: { value: 'x' } } }));
  const result = await genValues('--outputs', file, '--out', '-');
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('gen-values: no chart_values output found; is the app stack deployed?');
});

it('fails clearly without synthesized stacks or on a bad argument', async () => {
  const missing = await run(process.execPath, [SCRIPT], { cwd: mkdtempSync(join(tmpdir(), 'gen-values-')) });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/gen-values: cdktf\.out\/manifest\.json not found: run `make synth` \(or cdktf deploy\) first, or pass --outputs FILE/);
  const bad = await genValues('--output', 'x');
  expect(bad.stderr).toContain('gen-values: unknown argument --output');
});

it('the fixture has exactly the shape of the chart_values output the app stack synthesizes', () => {
  const synthesized = synthApp().parsed.output.chart_values.value;
  expect(shape(fixture.chart_values.value)).toEqual(shape(synthesized));
  const { image, ...rest } = synthesized;
  const { image: fixtureImage, ...fixtureRest } = fixture.chart_values.value;
  expect(Object.keys(image)).toEqual(Object.keys(fixtureImage));
  // the fake upstream outputs in fixtures.ts are the fixture's values
  expect(fixtureRest).toEqual(rest);
});
