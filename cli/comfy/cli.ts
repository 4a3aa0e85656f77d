/**
 * The `comfy` command line: run | status | models. runCli() takes its I/O as
 * arguments so tests can drive it in-process; main.ts binds it to the process.
 */
import { parseArgs, type ParseArgsConfig } from 'util';
import { isAbsolute, relative, resolve } from 'path';
import { ComfyClient, formatDuration } from './client';
import { resolveEndpoint } from './endpoint';
import { ComfyError, EXIT_CODES, ExecutionError, PromptRejectedError, TimeoutError, UsageError } from './errors';
import { JOBS_USAGE, jobsCommand, submitCommand } from './jobs/commands';
import { ProgressReporter } from './progress';
import type { OutputFile, ProgressEvent, SystemStats } from './types';
import { type ApiWorkflow, applyOverrides, applySeed, loadWorkflow, parseOverride, randomSeed, seedTargets } from './workflow';

/** The process around the CLI. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
  /** Aborted on Ctrl-C. */
  readonly signal?: AbortSignal;
}

const USAGE = `Usage: npm run comfy -- <command> [options]

Commands:
  run WORKFLOW.json     Submit an API-format workflow, follow its progress, download its outputs
  status                Server versions, GPU memory and queue
  models [FOLDER]       Model files the server sees, as FOLDER/FILE (the models bucket keys)

Connection (every command):
  --url URL             ComfyUI base URL (default: COMFY_URL, else the comfyui_url output in
                        --outputs FILE / COMFY_OUTPUTS_FILE / ./cdktf-outputs.json)
  --user NAME[:PASS]    Basic-auth user (default: COMFY_USER; password from COMFY_PASSWORD);
                        with Cognito instead set COMFY_TOKEN to an API client access token
  --outputs FILE        Deployment outputs JSON (cdktf output --outputs-file / terraform output -json)
  --request-timeout D   Timeout of each HTTP request (default 30s)
  --retries N           Retries of GET requests on network errors and 502/503/504 (default 2)
  --json                Machine-readable output on stdout
  -q, --quiet           Only warnings and errors on stderr
  -h, --help            This help

Run options:
  -o, --out DIR         Where to write outputs (default ./comfy-output)
  --set ID.inputs.F=V   Override an input, repeatable (e.g. --set 6.inputs.text="a red fox")
  --seed random|N       Set every seed/noise_seed input: random per prompt, or N, N+1, ...
  -n, --count N         Queue N prompts (default 1)
  --timeout D           Give up waiting after D for all prompts (default 30m; 0 = never)
  --previews            Also download preview (temp) images
  --no-progress         Line logs even on a terminal
  --no-cancel           On timeout or Ctrl-C, leave the prompts queued/running on the server
  --client-id ID        WebSocket client id (default: random UUID)

Durations: 90, 90s, 15m, 1h, 500ms. Exit codes: 0 ok, 2 usage, 3 unreachable, 4 auth,
5 invalid workflow, 6 rejected by ComfyUI, 7 execution error, 8 timeout, 9 server error,
130 Ctrl-C (see docs/api-client.md).
`;

const COMMON_OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  outputs: { type: 'string' },
  'request-timeout': { type: 'string' },
  retries: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const RUN_OPTIONS = {
  ...COMMON_OPTIONS,
  out: { type: 'string', short: 'o' },
  set: { type: 'string', multiple: true },
  seed: { type: 'string' },
  count: { type: 'string', short: 'n' },
  timeout: { type: 'string' },
  previews: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  'no-cancel': { type: 'boolean' },
  'client-id': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

type CommonValues = { [K in keyof typeof COMMON_OPTIONS]?: (typeof COMMON_OPTIONS)[K]['type'] extends 'string' ? string : boolean };

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, io);
      case 'status':
        return await statusCommand(rest, io);
      case 'models':
        return await modelsCommand(rest, io);
      case 'submit':
        return await submitCommand(rest, io);
      case 'jobs':
        return await jobsCommand(rest, io);
      case undefined:
      case 'help':
      case '-h':
      case '--help':
        io.stdout.write(`${USAGE}\n${JOBS_USAGE}`);
        return command === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
      default:
        throw new UsageError(`unknown command "${command}"`, 'Commands: run, status, models, submit, jobs (npm run comfy -- --help).');
    }
  } catch (err) {
    reportError(err, io);
    return err instanceof ComfyError ? err.exitCode : EXIT_CODES.internal;
  }
}

// ------------------------------------------------------------------ run

async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, RUN_OPTIONS, 'run');
  if (values.help) return help(io);
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'run needs a workflow file: run WORKFLOW.json' : `run takes one workflow file, got ${positionals.length}`);
  const count = parseCount(values.count);
  const seed = parseSeed(values.seed);
  const timeoutMs = values.timeout === undefined ? 30 * 60_000 : parseDuration(values.timeout, '--timeout', true);
  const overrides = (values.set ?? []).map(parseOverride);
  const outDir = resolve(io.cwd, values.out ?? 'comfy-output');

  // Everything about the workflow is checked before the first request.
  const workflow = loadWorkflow(resolve(io.cwd, positionals[0]), positionals[0]);
  const prompts: { workflow: ApiWorkflow; seed?: number }[] = [];
  for (let i = 0; i < count; i += 1) {
    const s = seed === 'random' ? randomSeed() : seed === undefined ? undefined : seed + i;
    prompts.push({ workflow: applyOverrides(s === undefined ? workflow : applySeed(workflow, s), overrides), seed: s });
  }

  const reporter = new ProgressReporter({ stream: io.stderr, tty: Boolean(io.stderr.isTTY) && !values['no-progress'], quiet: values.quiet });
  if (count > 1 && seed === undefined && seedTargets(workflow).length > 0) {
    reporter.warn(`the ${count} prompts are identical and ComfyUI will answer them from its cache; add --seed random for different images`);
  }
  const { client, endpoint } = makeClient(values, io, (e) => reporter.handle(e), values['client-id']);
  reporter.info(`endpoint ${endpoint.url} (${endpoint.source})${endpoint.credentials ? `, user ${endpoint.credentials.username}` : endpoint.bearerToken ? ', bearer token' : ''}`);
  if ((endpoint.credentials || endpoint.bearerToken) && endpoint.url.startsWith('http://') && !/^http:\/\/(localhost|127\.|\[::1\])/.test(endpoint.url)) {
    reporter.warn(`sending ${endpoint.credentials ? 'basic-auth credentials' : 'a bearer token'} over plain http://`);
  }

  const submitted: { promptId: string; seed?: number }[] = [];
  const finished = new Set<string>();
  const results: { promptId: string; seed?: number; files: string[]; cachedNodes: string[]; elapsedMs: number }[] = [];
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
  try {
    // The first request also collects the load balancer's stickiness cookie, so the socket and the prompt reach the same pod.
    const queued = await client.queueRemaining();
    if (queued > 0) reporter.info(`server queue: ${queued} prompt(s) ahead`);
    io.signal?.throwIfAborted();
    await client.connect();
    for (const [i, p] of prompts.entries()) {
      io.signal?.throwIfAborted();
      const s = await client.submit(p.workflow);
      submitted.push({ promptId: s.promptId, seed: p.seed });
      reporter.register(s.promptId, `${i + 1}/${count}`, p.workflow);
      reporter.info(`[${i + 1}/${count}] queued prompt ${s.promptId}${p.seed !== undefined ? ` (seed ${p.seed})` : ''}`);
      for (const [nodeId, e] of Object.entries(s.nodeErrors)) reporter.warn(`ComfyUI skipped output node ${nodeId}: ${JSON.stringify(e)}`);
    }
    for (const s of submitted) {
      const result = await client
        .waitForCompletion(s.promptId, {
          timeoutMs: deadline === undefined ? undefined : Math.max(1, deadline - Date.now()),
          signal: io.signal,
          onEvent: (e: ProgressEvent) => reporter.handle(e),
        })
        .catch((err: unknown) => {
          // The budget is for the whole run: name the flag, not the remainder left for this prompt.
          if (err instanceof TimeoutError) throw new TimeoutError(`prompt ${s.promptId} did not finish within --timeout ${formatDuration(timeoutMs)}`, err.hint);
          throw err;
        });
      finished.add(s.promptId);
      const files = result.files.filter((f: OutputFile) => f.type === 'output' || (values.previews && f.type === 'temp'));
      const paths = await client.downloadOutputs(files, outDir);
      if (paths.length === 0) reporter.warn(`prompt ${s.promptId} produced no output files (no SaveImage node?)`);
      const shown = paths.map((p) => displayPath(io.cwd, p));
      reporter.finish(); // stdout and stderr may share the terminal: no status line in front of a path
      if (!values.json) for (const p of shown) io.stdout.write(`${p}\n`);
      results.push({ promptId: s.promptId, seed: s.seed, files: shown, cachedNodes: result.cachedNodes, elapsedMs: result.elapsedMs });
    }
  } catch (err) {
    // A failed prompt is over; the others this run queued would only burn GPU time.
    const failedId = err instanceof ExecutionError ? err.promptId : undefined;
    const toCancel = submitted.filter((s) => !finished.has(s.promptId) && s.promptId !== failedId);
    if (!values['no-cancel'] && toCancel.length > 0) {
      reporter.finish();
      await cancelAll(client, toCancel, reporter);
    }
    throw err;
  } finally {
    client.close();
    reporter.finish();
  }
  const fileCount = results.reduce((n, r) => n + r.files.length, 0);
  reporter.info(`done: ${results.length} prompt(s), ${fileCount} file(s) in ${displayPath(io.cwd, outDir)}`);
  if (values.json) io.stdout.write(`${JSON.stringify({ endpoint: endpoint.url, outDir: displayPath(io.cwd, outDir), prompts: results }, null, 2)}\n`);
  return EXIT_CODES.ok;
}

/** Best effort: removes what this run queued so an abandoned run does not keep a GPU busy. */
async function cancelAll(client: ComfyClient, prompts: { promptId: string }[], reporter: ProgressReporter): Promise<void> {
  for (const { promptId } of prompts) {
    try {
      const outcome = await client.cancel(promptId);
      if (outcome !== 'not-queued') reporter.warn(`prompt ${promptId} ${outcome === 'dequeued' ? 'removed from the queue' : 'interrupted'}`);
    } catch (err) {
      reporter.warn(`could not cancel prompt ${promptId}: ${(err as Error).message}`);
    }
  }
}

// --------------------------------------------------------------- status

async function statusCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, COMMON_OPTIONS, 'status');
  if (values.help) return help(io);
  if (positionals.length > 0) throw new UsageError(`status takes no arguments, got "${positionals.join(' ')}"`);
  const { client, endpoint } = makeClient(values, io);
  const stats = await client.systemStats();
  const queue = await client.queue();
  const ids = (items: unknown[][]) => items.map((item) => ({ number: item[0], promptId: item[1] }));
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ endpoint: endpoint.url, system: stats.system, devices: stats.devices, queue: { running: ids(queue.queue_running), pending: ids(queue.queue_pending) } }, null, 2)}\n`);
    return EXIT_CODES.ok;
  }
  const lines: [string, string][] = [['endpoint', endpoint.url], ['comfyui', versions(stats)]];
  for (const d of stats.devices) {
    lines.push(['device', `${d.name}${d.vram_total ? ` · VRAM ${gib(d.vram_free)} free of ${gib(d.vram_total)}` : ''}`]);
  }
  if (stats.system.ram_total) lines.push(['ram', `${gib(stats.system.ram_free)} free of ${gib(stats.system.ram_total)}`]);
  lines.push(['queue', `${queue.queue_running.length} running, ${queue.queue_pending.length} pending`]);
  for (const q of ids(queue.queue_running)) lines.push(['running', `${q.promptId} (#${q.number})`]);
  for (const q of ids(queue.queue_pending)) lines.push(['pending', `${q.promptId} (#${q.number})`]);
  io.stdout.write(lines.map(([k, v]) => `${k.padEnd(9)} ${v}\n`).join(''));
  return EXIT_CODES.ok;
}

// --------------------------------------------------------------- models

async function modelsCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, COMMON_OPTIONS, 'models');
  if (values.help) return help(io);
  if (positionals.length > 1) throw new UsageError(`models takes at most one folder, got "${positionals.join(' ')}"`);
  const { client } = makeClient(values, io);
  const listing = await client.listModels(positionals[0]);
  if (listing.source === 'object_info' && !values.quiet) io.stderr.write('note: the server has no /models endpoint; listed from the loader nodes in /object_info\n');
  if (values.json) {
    io.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
    return EXIT_CODES.ok;
  }
  for (const [folder, files] of Object.entries(listing.folders)) {
    for (const file of files) io.stdout.write(`${folder}/${file}\n`);
  }
  return EXIT_CODES.ok;
}

// -------------------------------------------------------------- helpers

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: O, command: string) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`, 'See: npm run comfy -- --help');
  }
}

function makeClient(values: CommonValues, io: CliIo, onEvent?: (e: ProgressEvent) => void, clientId?: string) {
  const endpoint = resolveEndpoint({ url: values.url, user: values.user, outputsFile: values.outputs, env: io.env, cwd: io.cwd });
  const client = new ComfyClient({
    url: endpoint.url,
    credentials: endpoint.credentials,
    bearerToken: endpoint.bearerToken,
    clientId,
    requestTimeoutMs: values['request-timeout'] === undefined ? undefined : parseDuration(values['request-timeout'], '--request-timeout', false),
    retries: values.retries === undefined ? undefined : parseInteger(values.retries, '--retries', 0, 10),
    onEvent,
  });
  return { client, endpoint };
}

function help(io: CliIo): number {
  io.stdout.write(USAGE);
  return EXIT_CODES.ok;
}

/** Milliseconds from `90`, `90s`, `15m`, `1h`, `500ms` (bare numbers are seconds). */
export function parseDuration(text: string, flag: string, allowZero: boolean): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} expects a duration such as 90, 90s, 15m or 1h, got "${text}"`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  const ms = Math.round(Number(match[1]) * factor);
  if (ms === 0 && !allowZero) throw new UsageError(`${flag} must be greater than 0`);
  return ms;
}

export function parseInteger(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`${flag} expects a whole number from ${min} to ${max}, got "${text}"`);
  return Number(text);
}

export function parseCount(text: string | undefined): number {
  return text === undefined ? 1 : parseInteger(text, '--count', 1, 1000);
}

export function parseSeed(text: string | undefined): 'random' | number | undefined {
  if (text === undefined || text === 'random') return text;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--seed expects "random" or a whole number from 0 to 2^53-1, got "${text}"`);
  return Number(text);
}

export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function versions(stats: SystemStats): string {
  const s = stats.system;
  const parts = [s.comfyui_version ?? 'unknown version'];
  if (s.python_version) parts.push(`python ${s.python_version.split(' ')[0]}`);
  if (s.pytorch_version) parts.push(`pytorch ${s.pytorch_version}`);
  return parts.join(' · ');
}

function gib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

function reportError(err: unknown, io: CliIo): void {
  const out = io.stderr;
  if (!(err instanceof ComfyError)) {
    out.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    return;
  }
  out.write(`error: ${err.message.replace(/\n/g, '\n  ')}\n`); // ComfyUI exception messages span lines
  if (err instanceof PromptRejectedError) {
    for (const node of err.nodeErrors) {
      for (const e of node.errors.length > 0 ? node.errors : [{ type: 'error', message: 'invalid', details: '', inputName: undefined }]) {
        out.write(`  node ${node.nodeId} (${node.classType})${e.inputName ? ` input ${e.inputName}` : ''}: ${e.message}${e.details ? ` — ${e.details}` : ''}\n`);
      }
    }
  }
  if (err instanceof ExecutionError && err.traceback.length > 0) {
    const tail = err.traceback.join('').trimEnd().split('\n').slice(-4);
    out.write(`  traceback (last lines):\n${tail.map((l) => `    ${l}`).join('\n')}\n`);
  }
  if (err.hint) out.write(`hint: ${err.hint}\n`);
}
