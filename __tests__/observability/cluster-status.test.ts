import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { PassThrough } from 'stream';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { runCli } from '../../cli/comfy/cli';
import { clusterStatusCommand, StatusCloudWatch, StatusSources } from '../../cli/comfy/cluster-status';
import { FAKE_JOBS_SOURCES, FAKE_PLATFORM } from './fixtures';

const SOURCES: StatusSources = { ...FAKE_PLATFORM, alarmNamePrefix: 'comfyui-dev-ops-' };
const NOW = new Date('2026-12-06T12:00:00Z');

function io(cwd: string, env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  return { io: { stdout, stderr, env, cwd }, out: () => out, err: () => err };
}

/** A CloudWatch stub answering per region; records every call. */
function stubCloudWatch(latest: Record<string, number>, firing: Record<string, string[]> = {}) {
  const calls: { region: string; command: GetMetricDataCommand | DescribeAlarmsCommand }[] = [];
  const factory = (region: string): StatusCloudWatch => ({
    send: (async (command: GetMetricDataCommand | DescribeAlarmsCommand) => {
      calls.push({ region, command });
      if (command instanceof DescribeAlarmsCommand) return { MetricAlarms: (firing[region] ?? []).map((AlarmName) => ({ AlarmName })) };
      return {
        MetricDataResults: (command.input.MetricDataQueries ?? []).filter((q) => q.ReturnData).map((q) => ({ Id: q.Id, Values: q.Id! in latest ? [latest[q.Id!], 0] : [] })),
      };
    }) as StatusCloudWatch['send'],
  });
  return { factory, calls };
}

describe('comfy status --cluster', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfy-status-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the headline numbers, reading CloudFront in us-east-1 and the rest in the deployment region', async () => {
    writeFileSync(join(dir, 'cdktf-outputs.json'), JSON.stringify({ 'comfyui-dev-observability': { status_sources: SOURCES, dashboard_url: 'x' } }));
    const { factory, calls } = stubCloudWatch({ gpuNodes_gpuNodes: 2, spend_spend: 1.1234, queue: 3, modelsReady_modelsReady: 0, edge5xx_edge5xx: 0.5 }, { 'us-west-2': ['comfyui-dev-ops-node-not-model-ready'] });
    const t = io(dir);
    expect(await clusterStatusCommand([], t.io, factory, NOW)).toBe(0);
    const out = t.out();
    expect(out).toContain('cluster comfyui-dev (us-west-2), last 5 minutes');
    expect(out).toMatch(/GPU nodes\s+2\n/);
    expect(out).toMatch(/GPU spend \(estimate\)\s+1\.12 USD\/h/);
    expect(out).toMatch(/ComfyUI queue \(running \+ pending\)\s+3 prompts/);
    expect(out).toMatch(/Every GPU node model-ready \(1 = yes\)\s+0/);
    expect(out).toMatch(/Model-sync DLQ messages\s+0\n/);
    expect(out).toMatch(/Edge 5xx rate\s+0\.50 %/);
    expect(out).toContain('alarms firing (1): comfyui-dev-ops-node-not-model-ready');

    const metricCalls = calls.filter((c) => c.command instanceof GetMetricDataCommand);
    expect(metricCalls.map((c) => c.region).sort()).toEqual(['us-east-1', 'us-west-2']);
    const east = metricCalls.find((c) => c.region === 'us-east-1')!.command as GetMetricDataCommand;
    expect(east.input.MetricDataQueries!.map((q) => q.MetricStat?.Metric?.Namespace)).toEqual(['AWS/CloudFront']);
    const west = metricCalls.find((c) => c.region === 'us-west-2')!.command as GetMetricDataCommand;
    expect(west.input.MetricDataQueries!.find((q) => q.Id === 'queue')!.Expression).toBe('FILL(queue_running, 0) + FILL(queue_pending, 0)');
    expect(west.input.StartTime).toEqual(new Date('2026-12-06T11:45:00Z'));
    const alarmCalls = calls.filter((c) => c.command instanceof DescribeAlarmsCommand).map((c) => (c.command as DescribeAlarmsCommand).input);
    expect(alarmCalls).toEqual([
      { AlarmNamePrefix: 'comfyui-dev-ops-', StateValue: 'ALARM', NextToken: undefined },
      { AlarmNamePrefix: 'comfyui-dev-ops-', StateValue: 'ALARM', NextToken: undefined },
    ]);
  });

  it('says "no data" rather than 0 for numbers nobody published, and reads terraform-format outputs with jobs', async () => {
    writeFileSync(join(dir, 'tf.json'), JSON.stringify({ status_sources: { value: { ...SOURCES, jobs: FAKE_JOBS_SOURCES }, type: ['object', {}] } }));
    const { factory } = stubCloudWatch({});
    const t = io(dir);
    expect(await clusterStatusCommand(['--outputs', 'tf.json', '--json'], t.io, factory, NOW)).toBe(0);
    const json = JSON.parse(t.out());
    expect(json.numbers.find((n: any) => n.id === 'gpuNodes').value).toBeNull();
    expect(json.numbers.find((n: any) => n.id === 'modelSyncDlq').value).toBe(0);
    expect(json.numbers.map((n: any) => n.id)).toContain('jobsBacklog');
    expect(json.alarmsFiring).toEqual([]);
  });

  it('fails with a usage error naming what is missing, before any AWS call', async () => {
    const { factory, calls } = stubCloudWatch({});
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ status_sources: { ...SOURCES, modelSync: { ...SOURCES.modelSync, deadLetterQueueName: '' } } }));
    await expect(clusterStatusCommand(['--outputs', 'bad.json'], io(dir).io, factory, NOW)).rejects.toThrow('status_sources.modelSync.deadLetterQueueName must be a non-empty string');
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ comfyui_url: 'https://x' }));
    await expect(clusterStatusCommand(['--outputs', 'other.json'], io(dir).io, factory, NOW)).rejects.toThrow('has no status_sources output');
    expect(calls).toHaveLength(0);
  });

  it('is reached through `comfy status --cluster` and exits 2 without an outputs file', async () => {
    const t = io(dir);
    expect(await runCli(['status', '--cluster'], t.io)).toBe(2);
    expect(t.err()).toContain(`no outputs file ${join(dir, 'cdktf-outputs.json')}`);
    expect(t.err()).toContain('hint: Run `npx cdktf output');
  });

  it('maps a credentials failure to the auth exit code', async () => {
    writeFileSync(join(dir, 'cdktf-outputs.json'), JSON.stringify({ s: { status_sources: SOURCES } }));
    const failing = (): StatusCloudWatch => ({ send: (async () => Promise.reject(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }))) as StatusCloudWatch['send'] });
    await expect(clusterStatusCommand([], io(dir).io, failing, NOW)).rejects.toMatchObject({ kind: 'auth' });
  });
});
