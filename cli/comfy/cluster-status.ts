/**
 * `comfy status --cluster`: the dashboard's headline numbers in the
 * terminal, for people without console access. Reads CloudWatch with the
 * usual AWS credential chain (environment, profile, SSO, instance role);
 * what to read comes from the observability stack's `status_sources` output
 * in the deployment outputs file, never from guessed names. CloudFront
 * numbers are read in us-east-1, where CloudFront publishes them.
 */
import { existsSync, readFileSync } from 'fs';
import { resolve } from 'path';
import { parseArgs } from 'util';
import { CloudWatchClient, DescribeAlarmsCommand, DescribeAlarmsCommandOutput, GetMetricDataCommand, GetMetricDataCommandOutput, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { HEADLINE_PERIOD_SECONDS, HeadlineNumber, headlineNumbers } from '../../constructs/observability/headline-numbers';
import { ObservedPlatform } from '../../constructs/observability/observed-platform';
import type { CliIo } from './cli';
import { ComfyError, EXIT_CODES, UsageError } from './errors';

/** The output the observability stack writes for this command. */
export const STATUS_SOURCES_OUTPUT = 'status_sources';
const DEFAULT_OUTPUTS_FILE = 'cdktf-outputs.json';

/** What the command reads: the watched platform plus the alarm name prefix. */
export type StatusSources = ObservedPlatform & { readonly alarmNamePrefix: string };

/** The CloudWatch calls the command makes, per region (injectable for tests). */
export interface StatusCloudWatch {
  send(command: GetMetricDataCommand): Promise<GetMetricDataCommandOutput>;
  send(command: DescribeAlarmsCommand): Promise<DescribeAlarmsCommandOutput>;
}

/** One line of the summary. */
export interface StatusLine {
  readonly id: string;
  readonly label: string;
  readonly value: number | null;
  readonly unit: string;
  readonly text: string;
}

const USAGE = `Usage: npm run comfy -- status --cluster [--outputs FILE] [--json]

Platform health and cost from CloudWatch (the dashboard's headline numbers and
the platform alarms that fire). AWS credentials from the usual chain.

  --outputs FILE   Deployment outputs JSON holding the observability stack's
                   status_sources output (default: COMFY_OUTPUTS_FILE, else
                   ./cdktf-outputs.json from \`cdktf output --outputs-file\`)
  --json           Machine-readable output on stdout
`;

export async function clusterStatusCommand(argv: readonly string[], io: CliIo, cloudWatchFor: (region: string) => StatusCloudWatch = (region) => new CloudWatchClient({ region }), now: Date = new Date()): Promise<number> {
  let values: { outputs?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { outputs: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(`status --cluster: ${(err as Error).message}`, 'See npm run comfy -- status --cluster --help.');
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return EXIT_CODES.ok;
  }
  const sources = readStatusSources(resolve(io.cwd, values.outputs ?? io.env.COMFY_OUTPUTS_FILE ?? DEFAULT_OUTPUTS_FILE));
  const numbers = headlineNumbers(sources);
  const regions = [...new Set([sources.region, ...numbers.map((n) => n.region)])];
  const clients = new Map(regions.map((r) => [r, cloudWatchFor(r)]));
  let lines: StatusLine[];
  let firing: string[];
  try {
    [lines, firing] = await Promise.all([readNumbers(numbers, clients, now), firingAlarms(sources.alarmNamePrefix, clients)]);
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    if (/Credential|ExpiredToken|UnrecognizedClient|AccessDenied|InvalidClientTokenId/i.test(name) || /credential/i.test((err as Error).message)) {
      throw new ComfyError('auth', `CloudWatch refused the request: ${(err as Error).message}`, { hint: 'Set AWS credentials (AWS_PROFILE, aws sso login, ...) allowed cloudwatch:GetMetricData and cloudwatch:DescribeAlarms.' });
    }
    throw new ComfyError('unreachable', `CloudWatch request failed: ${(err as Error).message}`, { cause: err });
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ cluster: sources.clusterName, region: sources.region, windowSeconds: HEADLINE_PERIOD_SECONDS, numbers: lines.map(({ id, label, value, unit }) => ({ id, label, value, unit })), alarmsFiring: firing }, null, 2)}\n`);
    return EXIT_CODES.ok;
  }
  const width = Math.max(...lines.map((l) => l.label.length));
  const out = [`cluster ${sources.clusterName} (${sources.region}), last ${HEADLINE_PERIOD_SECONDS / 60} minutes`];
  for (const line of lines) out.push(`  ${line.label.padEnd(width)}  ${line.text}`);
  out.push(firing.length === 0 ? '  alarms: none firing' : `  alarms firing (${firing.length}): ${firing.join(', ')} (runbooks: docs/operations.md)`);
  io.stdout.write(`${out.join('\n')}\n`);
  return EXIT_CODES.ok;
}

/** Finds `status_sources` in a cdktf (stack -> outputs) or terraform (name -> {value}) outputs document and checks its shape. */
export function readStatusSources(file: string): StatusSources {
  if (!existsSync(file)) {
    throw new UsageError(`no outputs file ${file}`, `Run \`npx cdktf output '*-observability' --outputs-file ${DEFAULT_OUTPUTS_FILE}\` in the project directory, or pass --outputs FILE.`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the outputs file ${file}: ${(err as Error).message}`);
  }
  const found = findOutput(doc, STATUS_SOURCES_OUTPUT);
  if (found === undefined) throw new UsageError(`the outputs file ${file} has no ${STATUS_SOURCES_OUTPUT} output`, 'It is written by the observability stack (observability.enabled: true); deploy it and export its outputs.');
  const problems: string[] = [];
  const str = (path: string, value: unknown) => {
    if (typeof value !== 'string' || value.length === 0) problems.push(`${STATUS_SOURCES_OUTPUT}.${path} must be a non-empty string`);
  };
  const s = found as Record<string, any>;
  for (const key of ['clusterName', 'region', 'capacityPublisherFunctionName', 'alarmNamePrefix']) str(key, s[key]);
  for (const key of ['queueName', 'deadLetterQueueName', 'functionName', 'nodeFailureRuleName']) str(`modelSync.${key}`, s.modelSync?.[key]);
  for (const key of ['queueName', 'spotRuleName', 'rebalanceRuleName', 'stateChangeRuleName', 'scheduledChangeRuleName']) str(`interruptions.${key}`, s.interruptions?.[key]);
  for (const key of ['distributionId', 'loadBalancerArnSuffix', 'targetGroupArnSuffix', 'authMode']) str(`edge.${key}`, s.edge?.[key]);
  if (s.jobs !== undefined && s.jobs !== null) for (const key of ['queueName', 'deadLetterQueueName']) str(`jobs.${key}`, s.jobs?.[key]);
  if (problems.length > 0) throw new UsageError(`the outputs file ${file} has a malformed ${STATUS_SOURCES_OUTPUT} output:\n${problems.join('\n')}`);
  return { ...s, cloudFrontAdditionalMetrics: s.cloudFrontAdditionalMetrics === true, jobs: s.jobs ?? undefined } as StatusSources;
}

function findOutput(doc: unknown, name: string): unknown {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const record = doc as Record<string, unknown>;
  if (name in record) {
    const value = record[name];
    // terraform output -json wraps every value: { "name": { "value": ..., "type": ... } }
    return typeof value === 'object' && value !== null && 'value' in value && 'type' in value ? (value as { value: unknown }).value : value;
  }
  for (const nested of Object.values(record)) {
    const found = typeof nested === 'object' ? findOutput(nested, name) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The latest value of every headline number (one GetMetricData per region). */
async function readNumbers(numbers: readonly HeadlineNumber[], clients: Map<string, StatusCloudWatch>, now: Date): Promise<StatusLine[]> {
  const values = new Map<string, number | null>();
  for (const [region, client] of clients) {
    const inRegion = numbers.filter((n) => n.region === region);
    if (inRegion.length === 0) continue;
    const queries: MetricDataQuery[] = [];
    for (const n of inRegion) {
      // Metric ids are unique per number; prefix them so two numbers never share one.
      for (const m of n.metrics) {
        queries.push({
          Id: `${n.id}_${m.id}`,
          MetricStat: { Metric: { Namespace: m.namespace, MetricName: m.metricName, Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })) }, Period: HEADLINE_PERIOD_SECONDS, Stat: m.stat },
          ReturnData: n.expression === undefined,
        });
      }
      if (n.expression) queries.push({ Id: n.id, Expression: n.metrics.reduce((e, m) => e.replace(new RegExp(`\\b${m.id}\\b`, 'g'), `${n.id}_${m.id}`), n.expression), ReturnData: true });
    }
    const results: NonNullable<GetMetricDataCommandOutput['MetricDataResults']> = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(now.getTime() - 3 * HEADLINE_PERIOD_SECONDS * 1000), EndTime: now, ScanBy: 'TimestampDescending', NextToken: nextToken }),
      );
      results.push(...(page.MetricDataResults ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    for (const n of inRegion) {
      const id = n.expression ? n.id : `${n.id}_${n.metrics[0].id}`;
      const latest = results.find((r) => r.Id === id)?.Values?.[0];
      values.set(n.id, latest ?? (n.whenMissing === 'unknown' ? null : n.whenMissing));
    }
  }
  return numbers.map((n) => {
    const value = values.get(n.id) ?? null;
    const text = value === null ? 'no data (nothing published in the window)' : `${value.toFixed(n.decimals)}${n.unit ? ` ${n.unit}` : ''}`;
    return { id: n.id, label: n.label, value, unit: n.unit, text };
  });
}

/** Names of the platform alarms in ALARM, in every region queried. */
async function firingAlarms(prefix: string, clients: Map<string, StatusCloudWatch>): Promise<string[]> {
  const names: string[] = [];
  for (const client of clients.values()) {
    let nextToken: string | undefined;
    do {
      const page = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, StateValue: 'ALARM', NextToken: nextToken }));
      names.push(...(page.MetricAlarms ?? []).map((a) => a.AlarmName ?? '?'));
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return names.sort();
}

