/** The committed moto-gap list stays explained and current, and a new gap fails with instructions. */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing } from 'cdktf';
import { newGapMessage, readGaps, staleGaps } from '../../scripts/e2e/gaps';
import { buildPlatform } from '../../stacks/app';
import { testConfig } from '../helpers/config';

describe('scripts/e2e/moto-gaps.yaml', () => {
  const gaps = readGaps();

  it('lists only aws_* resource types the default stacks use, each with a reason', () => {
    const app = Testing.app();
    const types = new Set(Object.values(buildPlatform(app, testConfig())).flatMap((stack) => Object.keys(JSON.parse(Testing.synth(stack)).resource ?? {})));
    expect(gaps.size).toBeGreaterThan(0);
    expect(staleGaps(gaps, types)).toEqual([]);
    for (const reason of gaps.values()) expect(reason).toMatch(/moto/);
  });

  it('reports an entry no stack uses any more', () => {
    expect(staleGaps(new Map([['aws_s3_bucket', 'x'], ['aws_gone', 'y']]), new Set(['aws_s3_bucket']))).toEqual(['aws_gone']);
  });

  it('rejects an entry without an explanation or of a non-aws type', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gaps-'));
    writeFileSync(join(dir, 'a.yaml'), 'aws_eks_addon: ""\n');
    expect(() => readGaps(join(dir, 'a.yaml'))).toThrow(/aws_eks_addon: explain what moto lacks/);
    writeFileSync(join(dir, 'b.yaml'), 'helm_release: moto has no Helm, obviously\n');
    expect(() => readGaps(join(dir, 'b.yaml'))).toThrow(/helm_release: not an aws_\* resource type/);
  });
});

describe('newGapMessage', () => {
  it('names the type, the stack, moto\'s error and the line to add', () => {
    const message = newGapMessage('comfyui-dev-observability', 'aws_cloudwatch_dashboard.Main', 'Error: creating CloudWatch Dashboard: 500 Internal Server Error');
    expect(message).toContain('aws_cloudwatch_dashboard.Main (type aws_cloudwatch_dashboard) in stack comfyui-dev-observability');
    expect(message).toContain('500 Internal Server Error');
    expect(message).toContain('scripts/e2e/moto-gaps.yaml');
    expect(message).toContain('aws_cloudwatch_dashboard: <what moto lacks');
  });
});
