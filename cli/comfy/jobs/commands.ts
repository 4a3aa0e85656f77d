/**
 * `submit` and `jobs status|wait|fetch|cancel|list`: the batch jobs client.
 * Jobs are queued in AWS (SQS + DynamoDB), run by the worker sidecar of
 * whichever ComfyUI replica is free, and their outputs are read from S3, so
 * nothing here talks to ComfyUI and the laptop can close between submit and
 * fetch. Exit codes follow `run` (docs/api-client.md).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createWriteStream } from 'fs';
import { mkdir, rename, rm } from 'fs/promises';
import { dirname, resolve, sep } from 'path';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import type { ParseArgsConfig } from 'util';
import { type CliIo, displayPath, parseCommandArgs as parse, parseCount, parseDuration, parseInteger, parseSeed } from '../command';
import { formatDuration, mapLimit } from '../client';
import { ComfyError, EXIT_CODES, type ErrorKind, InterruptedError, ServerError, TimeoutError, UsageError } from '../errors';
import { ProgressReporter } from '../progress';
import { loadWorkflow, parseOverride, randomSeed, seedTargets } from '../workflow';
import { JobsAws, JobsSettings, awsError, resolveJobsSettings } from './aws';
import { JOB_STATES, JobRecord, JobState, TERMINAL_STATES, isJobId, jobPrefix } from './model';
import { JobStore } from './store';
import { prepareJobs, queueJobs } from './submit';

export const JOBS_USAGE = `Batch jobs (queued in AWS, run by any free replica, outputs in S3; docs/jobs.md):
  submit WORKFLOW.json  Queue the workflow as N jobs; prints one job id per line
  jobs status ID...     State, attempts, outputs and error of jobs
  jobs wait ID...       Wait until the jobs finish, with done/running/queued/failed counts
  jobs fetch ID...      Download the jobs' outputs from S3 into -o DIR/<job-id>/
  jobs cancel ID...     Cancel queued jobs; interrupt running ones
  jobs list             Newest jobs, --state queued|running|succeeded|failed|cancelled

Jobs options (AWS credentials from the usual chain: AWS_PROFILE, SSO, env):
  --outputs FILE        Deployment outputs JSON with the jobs stack's jobs_client output
                        (default COMFY_OUTPUTS_FILE or ./cdktf-outputs.json; or set
                        COMFY_JOBS_QUEUE_URL, COMFY_JOBS_TABLE, COMFY_JOBS_BUCKET)
  --set, --seed, -n     As for run (submit); every --set is checked before anything is queued
  --timeout D           wait: give up after D (default 0 = never)
  --interval D          wait: how often to look (default 5s)
  -o, --out DIR         fetch: where to write (default ./comfy-output)
  --state S, --limit N  list: filter by state, at most N (default 50)
  --json                Machine-readable output on stdout
`;

const JOBS_OPTIONS = {
  outputs: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const SUBMIT_OPTIONS = { ...JOBS_OPTIONS, set: { type: 'string', multiple: true }, seed: { type: 'string' }, count: { type: 'string', short: 'n' } } as const satisfies ParseArgsConfig['options'];
const WAIT_OPTIONS = { ...JOBS_OPTIONS, timeout: { type: 'string' }, interval: { type: 'string' }, 'no-progress': { type: 'boolean' } } as const satisfies ParseArgsConfig['options'];
const FETCH_OPTIONS = { ...JOBS_OPTIONS, out: { type: 'string', short: 'o' } } as const satisfies ParseArgsConfig['options'];
const LIST_OPTIONS = { ...JOBS_OPTIONS, state: { type: 'string' }, limit: { type: 'string' } } as const satisfies ParseArgsConfig['options'];

/** Test seam: the AWS clients a command uses (default: from the settings and the usual credential chain). */
export interface JobsCommandDeps {
  readonly aws?: (settings: JobsSettings) => JobsAws;
}

function connect(values: { outputs?: string }, io: CliIo, deps: JobsCommandDeps) {
  const settings = resolveJobsSettings({ outputsFile: values.outputs, env: io.env, cwd: io.cwd });
  const aws = deps.aws ? deps.aws(settings) : new JobsAws({ region: settings.region, endpoint: io.env.AWS_ENDPOINT_URL || undefined });
  return { settings, aws, store: new JobStore(aws.dynamodb, settings.tableName) };
}

/** Runs an AWS step, turning SDK failures into the client's exit-code classes. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw awsError(err, what);
  }
}

function jobIds(positionals: readonly string[], command: string): string[] {
  if (positionals.length === 0) throw new UsageError(`${command} needs at least one job id`, `Example: npm run comfy -- ${command} $(cat job-ids.txt)`);
  const bad = positionals.filter((id) => !isJobId(id));
  if (bad.length > 0) throw new UsageError(`${command}: not a job id: ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ` (+${bad.length - 3} more)` : ''}`, 'Job ids are the UUIDs `submit` printed.');
  return [...new Set(positionals)];
}

// ------------------------------------------------------------------ submit

export async function submitCommand(argv: readonly string[], io: CliIo, deps: JobsCommandDeps = {}): Promise<number> {
  const { values, positionals } = parse(argv, SUBMIT_OPTIONS, 'submit');
  if (values.help) return usage(io);
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'submit needs a workflow file: submit WORKFLOW.json' : `submit takes one workflow file, got ${positionals.length}`);
  const count = parseCount(values.count);
  const seed = parseSeed(values.seed);
  const overrides = (values.set ?? []).map(parseOverride);
  const workflow = loadWorkflow(resolve(io.cwd, positionals[0]), positionals[0]);
  const reporter = new ProgressReporter({ stream: io.stderr, tty: false, quiet: values.quiet });
  const { settings, aws } = connect(values, io, deps);
  try {
    // Every copy is built and checked before the first request: a bad --set queues nothing.
    const jobs = prepareJobs(workflow, { count, seed, overrides, outputsPrefix: settings.outputsPrefix, randomSeed });
    if (count > 1 && seed === undefined && seedTargets(workflow).length > 0) {
      reporter.warn(`the ${count} jobs are identical and ComfyUI will answer them from its cache; add --seed random for different images`);
    }
    const large = jobs.filter((j) => j.workflowKey).length;
    if (large > 0) reporter.info(`the workflow is over the SQS message limit: ${large} job(s) carry it through s3://${settings.outputsBucket}/${settings.outputsPrefix}jobs/<id>/workflow.json`);
    const started = Date.now();
    const ids = await step('queueing jobs', () => queueJobs(aws, settings, jobs));
    const seconds = (Date.now() - started) / 1000;
    reporter.info(`queued ${ids.length} job(s) in ${seconds.toFixed(2)} s (${Math.round(ids.length / Math.max(seconds, 0.001))} jobs/s); follow with: npm run comfy -- jobs wait <ids>`);
    if (values.json) io.stdout.write(`${JSON.stringify({ queueUrl: settings.queueUrl, jobs: jobs.map((j) => ({ id: j.id, seed: j.seed, workflowDigest: j.digest })) }, null, 2)}\n`);
    else io.stdout.write(ids.map((id) => `${id}\n`).join(''));
    return EXIT_CODES.ok;
  } finally {
    aws.destroy();
  }
}

// -------------------------------------------------------------------- jobs

export async function jobsCommand(argv: readonly string[], io: CliIo, deps: JobsCommandDeps = {}): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'status':
      return statusCommand(rest, io, deps);
    case 'wait':
      return waitCommand(rest, io, deps);
    case 'fetch':
      return fetchCommand(rest, io, deps);
    case 'cancel':
      return cancelCommand(rest, io, deps);
    case 'list':
      return listCommand(rest, io, deps);
    case undefined:
    case '-h':
    case '--help':
      io.stdout.write(JOBS_USAGE);
      return sub === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
    default:
      throw new UsageError(`unknown jobs command "${sub}"`, 'jobs status|wait|fetch|cancel|list (npm run comfy -- jobs --help)');
  }
}

function usage(io: CliIo): number {
  io.stdout.write(JOBS_USAGE);
  return EXIT_CODES.ok;
}

async function statusCommand(argv: readonly string[], io: CliIo, deps: JobsCommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, JOBS_OPTIONS, 'jobs status');
  if (values.help) return usage(io);
  const ids = jobIds(positionals, 'jobs status');
  const { store, aws } = connect(values, io, deps);
  try {
    const records = await step('reading job records', () => store.getMany(ids));
    const missing = ids.filter((id) => !records.has(id));
    if (values.json) io.stdout.write(`${JSON.stringify({ jobs: ids.map((id) => records.get(id) ?? { id, state: 'unknown' }) }, null, 2)}\n`);
    else io.stdout.write(ids.map((id) => `${formatRecord(records.get(id), id)}\n`).join(''));
    if (missing.length > 0) throw new UsageError(`no such job: ${missing.join(', ')}`);
    return EXIT_CODES.ok;
  } finally {
    aws.destroy();
  }
}

async function waitCommand(argv: readonly string[], io: CliIo, deps: JobsCommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, WAIT_OPTIONS, 'jobs wait');
  if (values.help) return usage(io);
  const ids = jobIds(positionals, 'jobs wait');
  const timeoutMs = values.timeout === undefined ? 0 : parseDuration(values.timeout, '--timeout', true);
  const intervalMs = values.interval === undefined ? 5_000 : parseDuration(values.interval, '--interval', false);
  const tty = Boolean(io.stderr.isTTY) && !values['no-progress'];
  const { store, aws } = connect(values, io, deps);
  const started = Date.now();
  let lastLine = '';
  try {
    for (;;) {
      io.signal?.throwIfAborted();
      const records = await step('reading job records', () => store.getMany(ids));
      const missing = ids.filter((id) => !records.has(id));
      if (missing.length > 0) throw new UsageError(`no such job: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (+${missing.length - 5} more)` : ''}`);
      const counts = countStates([...records.values()]);
      const line = `${counts.succeeded}/${ids.length} done · ${counts.running} running · ${counts.queued} queued · ${counts.failed + counts.cancelled} failed (${formatDuration(Date.now() - started)})`;
      if (!values.quiet && line.replace(/\(.*\)$/, '') !== lastLine.replace(/\(.*\)$/, '')) io.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      else if (!values.quiet && tty) io.stderr.write(`\r\x1b[2K${line}`);
      lastLine = line;
      if (counts.succeeded + counts.failed + counts.cancelled === ids.length) {
        if (tty && !values.quiet) io.stderr.write('\n');
        return finishWait([...ids.map((id) => records.get(id) as JobRecord)], io, values.json === true);
      }
      if (timeoutMs > 0 && Date.now() - started >= timeoutMs) {
        if (tty && !values.quiet) io.stderr.write('\n');
        throw new TimeoutError(`${ids.length - counts.succeeded - counts.failed - counts.cancelled} job(s) did not finish within --timeout ${formatDuration(timeoutMs)}`, 'The jobs keep running; wait again later (they stay queued while no GPU replica is up).');
      }
      await sleepUnlessAborted(Math.min(intervalMs, timeoutMs > 0 ? Math.max(1, started + timeoutMs - Date.now()) : intervalMs), io.signal);
    }
  } finally {
    aws.destroy();
  }
}

function finishWait(records: JobRecord[], io: CliIo, json: boolean): number {
  if (json) io.stdout.write(`${JSON.stringify({ jobs: records }, null, 2)}\n`);
  else for (const r of records) io.stdout.write(`${formatRecord(r, r.id)}\n`);
  const failed = records.filter((r) => r.state !== 'succeeded');
  if (failed.length === 0) return EXIT_CODES.ok;
  for (const r of failed.slice(0, 10)) io.stderr.write(`error: job ${r.id} ${r.state}${r.error ? `: ${r.error.replace(/\n/g, '\n  ')}` : ''}\n`);
  return EXIT_CODES[failureKind(failed)];
}

/** The exit-code class of a set of unsuccessful jobs: the one a user fixes first. */
function failureKind(records: JobRecord[]): ErrorKind {
  const kinds = new Set(records.map((r) => (r.state === 'cancelled' ? 'cancelled' : r.errorKind ?? 'exhausted')));
  if (kinds.has('invalid')) return 'workflow';
  if (kinds.has('rejected')) return 'rejected';
  if (kinds.has('execution') || kinds.has('cancelled')) return 'execution';
  return 'server';
}

async function fetchCommand(argv: readonly string[], io: CliIo, deps: JobsCommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, FETCH_OPTIONS, 'jobs fetch');
  if (values.help) return usage(io);
  const ids = jobIds(positionals, 'jobs fetch');
  const outDir = resolve(io.cwd, values.out ?? 'comfy-output');
  const { store, aws, settings } = connect(values, io, deps);
  try {
    const records = await step('reading job records', () => store.getMany(ids));
    const missing = ids.filter((id) => !records.has(id));
    if (missing.length > 0) throw new UsageError(`no such job: ${missing.join(', ')}`);
    const unfinished = ids.filter((id) => !TERMINAL_STATES.includes((records.get(id) as JobRecord).state));
    if (unfinished.length > 0) throw new TimeoutError(`${unfinished.length} job(s) have not finished: ${unfinished.slice(0, 5).join(', ')}`, 'Wait for them first: npm run comfy -- jobs wait <ids>');
    const results: { id: string; files: string[] }[] = [];
    const downloads: { id: string; key: string; target: string }[] = [];
    for (const id of ids) {
      const record = records.get(id) as JobRecord;
      if (record.state !== 'succeeded') continue;
      for (const key of record.outputKeys ?? []) downloads.push({ id, key, target: localTarget(outDir, settings.outputsPrefix, id, key) });
    }
    const written = new Map<string, string>();
    await mapLimit(downloads, 8, async (d) => {
      await step(`downloading s3://${settings.outputsBucket}/${d.key}`, () => download(aws, settings.outputsBucket, d.key, d.target));
      written.set(d.key, d.target);
    });
    for (const id of ids) {
      const files = downloads.filter((d) => d.id === id).map((d) => displayPath(io.cwd, d.target));
      results.push({ id, files });
      if (!values.json) for (const f of files) io.stdout.write(`${f}\n`);
    }
    if (values.json) io.stdout.write(`${JSON.stringify({ outDir: displayPath(io.cwd, outDir), jobs: results }, null, 2)}\n`);
    if (!values.quiet) io.stderr.write(`fetched ${written.size} file(s) of ${ids.length} job(s) into ${displayPath(io.cwd, outDir)}\n`);
    const failed = ids.map((id) => records.get(id) as JobRecord).filter((r) => r.state !== 'succeeded');
    if (failed.length > 0) {
      for (const r of failed) io.stderr.write(`error: job ${r.id} ${r.state}${r.error ? `: ${r.error.split('\n')[0]}` : ''}\n`);
      return EXIT_CODES[failureKind(failed)];
    }
    return EXIT_CODES.ok;
  } finally {
    aws.destroy();
  }
}

/** Where an output key lands: DIR/<job-id>/<path below jobs/<job-id>/>; keys outside the job's folder keep their name only. */
export function localTarget(outDir: string, outputsPrefix: string, jobId: string, key: string): string {
  const folder = `${outputsPrefix}${jobPrefix(jobId)}`;
  const below = key.startsWith(folder) ? key.slice(folder.length) : (key.split('/').pop() ?? '');
  const segments = below.split('/');
  if (below === '' || segments.some((s) => s === '' || s === '.' || s === '..')) throw new ServerError(`job ${jobId} lists an unsafe output key "${key}"; refusing to write it`);
  const target = resolve(outDir, jobId, ...segments);
  if (!target.startsWith(resolve(outDir, jobId) + sep)) throw new ServerError(`job ${jobId} lists an unsafe output key "${key}"`);
  return target;
}

async function download(aws: JobsAws, bucket: string, key: string, target: string): Promise<void> {
  const res = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.part-${process.pid}`;
  try {
    await pipeline(res.Body as Readable, createWriteStream(partial, { mode: 0o644 }));
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

async function cancelCommand(argv: readonly string[], io: CliIo, deps: JobsCommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, JOBS_OPTIONS, 'jobs cancel');
  if (values.help) return usage(io);
  const ids = jobIds(positionals, 'jobs cancel');
  const { store, aws } = connect(values, io, deps);
  try {
    const outcomes: { id: string; outcome: string }[] = [];
    await mapLimit(ids, 8, async (id) => {
      outcomes.push({ id, outcome: await step(`cancelling ${id}`, () => store.cancel(id)) });
    });
    outcomes.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
    const text: Record<string, string> = { cancelled: 'cancelled', requested: 'cancel requested (the worker interrupts it within a heartbeat)', missing: 'no such job' };
    if (values.json) io.stdout.write(`${JSON.stringify({ jobs: outcomes }, null, 2)}\n`);
    else for (const o of outcomes) io.stdout.write(`${o.id} ${text[o.outcome] ?? o.outcome.replace('-', ' ')}\n`);
    return outcomes.some((o) => o.outcome === 'missing') ? EXIT_CODES.usage : EXIT_CODES.ok;
  } finally {
    aws.destroy();
  }
}

async function listCommand(argv: readonly string[], io: CliIo, deps: JobsCommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, LIST_OPTIONS, 'jobs list');
  if (values.help) return usage(io);
  if (positionals.length > 0) throw new UsageError(`jobs list takes no arguments, got "${positionals.join(' ')}"`);
  if (values.state !== undefined && !JOB_STATES.includes(values.state as JobState)) throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')}, got "${values.state}"`);
  const limit = values.limit === undefined ? 50 : parseInteger(values.limit, '--limit', 1, 10_000);
  const { store, aws } = connect(values, io, deps);
  try {
    const records = await step('listing jobs', () => store.list({ state: values.state as JobState | undefined, limit }));
    if (values.json) io.stdout.write(`${JSON.stringify({ jobs: records }, null, 2)}\n`);
    else io.stdout.write(records.map((r) => `${formatRecord(r, r.id)}\n`).join(''));
    return EXIT_CODES.ok;
  } finally {
    aws.destroy();
  }
}

function countStates(records: JobRecord[]): Record<JobState, number> {
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  for (const r of records) counts[r.state] += 1;
  return counts;
}

function formatRecord(record: JobRecord | undefined, id: string): string {
  if (!record) return `${id}  unknown`;
  const parts = [record.id, record.state.padEnd(9), `attempts ${record.attempts}`, `created ${record.createdAt}`];
  if (record.startedAt && record.finishedAt) parts.push(`ran ${formatDuration(Date.parse(record.finishedAt) - Date.parse(record.startedAt))}`);
  if (record.outputKeys?.length) parts.push(`${record.outputKeys.length} output(s)`);
  if (record.cancelRequested && record.state === 'running') parts.push('cancel requested');
  if (record.error && record.state !== 'succeeded') parts.push(`error: ${record.error.split('\n')[0]}`);
  return parts.join('  ');
}

function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolvePromise();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof ComfyError ? signal.reason : new InterruptedError('stopped'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

