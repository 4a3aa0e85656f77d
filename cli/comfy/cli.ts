/**
 * The `comfy` command line: a table of subcommands (run | status | models),
 * each with its own options and help. runCli() takes its I/O as arguments so
 * tests can drive it in-process; main.ts binds it to the process. A new
 * subcommand is a CliCommand (command.ts) in its own module, added to
 * COMMANDS below.
 */
import { type ParseArgsConfig } from 'util';
import { resolve } from 'path';
import { ComfyClient, formatDuration } from './client';
import { clusterStatusCommand } from './cluster-status';
import { type CliCommand, type CliIo, COMMON_OPTIONS, CONNECTION_HELP, commandHelp, displayPath, HELP_FOOTER, makeClient, parseCommandArgs, parseCount, parseDuration, parseSeed } from './command';
import { ComfyError, EXIT_CODES, ExecutionError, InterruptedError, PromptRejectedError, ServerError, TimeoutError, UsageError } from './errors';
import { JOBS_USAGE, jobsCommand, submitCommand } from './jobs/commands';
import { ProgressReporter } from './progress';
import type { OutputFile, ProgressEvent, SystemStats } from './types';
import { type ApiWorkflow, applyOverrides, applySeed, loadWorkflow, parseOverride, randomSeed, seedTargets } from './workflow';
import { waitThroughWake } from './wake';

export type { CliCommand, CliIo } from './command';
export { parseDuration } from './command';

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

/** How long run waits for the server to confirm an interrupt before saying it could not. */
const INTERRUPT_CONFIRM_MS = 10_000;

const RUN: CliCommand = {
  name: 'run',
  args: 'WORKFLOW.json',
  summary: 'Submit an API-format workflow, follow its progress, download its outputs',
  handlesStop: true,
  optionsHelp: `  -o, --out DIR         Where to write outputs (default ./comfy-output)
  --set ID.inputs.F=V   Override an input, repeatable (e.g. --set 6.inputs.text="a red fox")
  --seed random|N       Set every seed/noise_seed input: random per prompt, or N, N+1, ...
  -n, --count N         Queue N prompts (default 1)
  --timeout D           Give up waiting after D for all prompts (default 30m; 0 = never)
  --previews            Also download preview (temp) images
  --no-progress         Line logs even on a terminal
  --no-cancel           On timeout or a stop signal, leave the prompts queued/running on the server
  --client-id ID        WebSocket client id (default: random UUID)
`,
  run: (argv, io) => runCommand(argv, io),
};

const STATUS: CliCommand = {
  name: 'status',
  args: '',
  summary: 'Server versions, GPU memory and queue; with --cluster, platform health and cost from CloudWatch',
  optionsHelp: `  --cluster             Platform health and cost from CloudWatch instead (AWS credentials;
                        see status --cluster --help)
`,
  run: (argv, io) => (argv.includes('--cluster') ? clusterStatusCommand(argv.filter((arg) => arg !== '--cluster'), io) : statusCommand(argv, io)),
};

const MODELS: CliCommand = {
  name: 'models',
  args: '[FOLDER]',
  summary: 'Model files the server sees, as FOLDER/FILE (exit 9 when there are none)',
  optionsHelp: '',
  run: (argv, io) => modelsCommand(argv, io),
};

// Batch jobs (docs/jobs.md): AWS credentials instead of the ComfyUI URL; each prints JOBS_USAGE for --help.
const SUBMIT: CliCommand = {
  name: 'submit',
  args: 'WORKFLOW.json',
  summary: 'Queue the workflow as batch jobs (AWS; outputs in S3); prints job ids',
  optionsHelp: JOBS_USAGE,
  run: (argv, io) => submitCommand(argv, io),
};

const JOBS: CliCommand = {
  name: 'jobs',
  args: 'status|wait|fetch|cancel|list',
  summary: 'Follow, fetch, cancel and list batch jobs',
  optionsHelp: JOBS_USAGE,
  run: (argv, io) => jobsCommand(argv, io),
};

/** Every subcommand, in the order the help lists them. */
export const COMMANDS: readonly CliCommand[] = [RUN, STATUS, MODELS, SUBMIT, JOBS];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args}`.length)) + 2;
  const list = COMMANDS.map((c) => `  ${`${c.name} ${c.args}`.trimEnd().padEnd(width)}${c.summary}\n`).join('');
  return `Usage: npm run comfy -- <command> [options]\n\nCommands:\n${list}\nnpm run comfy -- <command> --help shows the options of a command.\n\n${CONNECTION_HELP}\n${HELP_FOOTER}`;
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === 'help' || name === '-h' || name === '--help') {
      const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
      io.stdout.write(topic ? commandHelp(topic) : usage());
      return name === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command "${name}"`, `Commands: ${COMMANDS.map((c) => c.name).join(', ')} (npm run comfy -- --help).`);
    const running = command.run(rest, io);
    if (command.handlesStop || !io.signal) return await running;
    const signal = io.signal;
    return await Promise.race([
      running,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    ]);
  } catch (err) {
    reportError(err, io);
    return err instanceof ComfyError ? err.exitCode : EXIT_CODES.internal;
  }
}

/** Prints a command's help when --help was given; returns true if it did. */
function helpRequested(values: { help?: boolean }, command: CliCommand, io: CliIo): boolean {
  if (values.help) io.stdout.write(commandHelp(command));
  return Boolean(values.help);
}

// ------------------------------------------------------------------ run

async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, RUN_OPTIONS, 'run');
  if (helpRequested(values, RUN, io)) return EXIT_CODES.ok;
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
  if (count > 1 && prompts.every((p) => JSON.stringify(p.workflow) === JSON.stringify(prompts[0].workflow))) {
    reporter.warn(
      `the ${count} prompts are identical: every prompt after the first will be a cached copy of the first (ComfyUI reuses every node's cached result)${
        seedTargets(workflow).length > 0 ? '; add --seed random for different images' : '; the workflow has no seed input, so vary an input with --set in separate runs'
      }`,
    );
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
  // One line when a signal stops the run, saying what happens to the prompts (the cancel itself reports per prompt).
  const onStop = (): void => {
    const by = io.signal?.reason instanceof InterruptedError ? (io.signal.reason.stoppedBy ?? 'signal') : 'signal';
    reporter.finish();
    io.stderr.write(
      values['no-cancel']
        ? `\n${by}: stopping; this run's prompts stay on the server (--no-cancel)\n`
        : `\n${by}: stopping and cancelling this run's prompts (a second signal quits at once)\n`,
    );
  };
  if (io.signal?.aborted) onStop();
  else io.signal?.addEventListener('abort', onStop, { once: true });
  try {
    // The first request also collects the load balancer's stickiness cookie, so the socket and the prompt reach the same pod.
    // At zero replicas this GET wakes the GPU (the edge answers 503 + Retry-After meanwhile).
    const queued = await waitThroughWake(() => client.queueRemaining(), {
      deadline,
      budget: `--timeout ${formatDuration(timeoutMs)}`,
      onProgress: (line) => reporter.info(line),
      signal: io.signal,
    });
    if (queued > 0) reporter.info(`server queue: ${queued} prompt(s) ahead`);
    io.signal?.throwIfAborted();
    await client.connect();
    for (const [i, p] of prompts.entries()) {
      io.signal?.throwIfAborted();
      reporter.expect(); // counted as this run's before the server's status event about it can arrive
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
    } else if (toCancel.length > 0) {
      reporter.info(`left on the server (--no-cancel): ${toCancel.map((p) => p.promptId).join(', ')}`);
    }
    throw err;
  } finally {
    io.signal?.removeEventListener('abort', onStop);
    client.close();
    reporter.finish();
  }
  const fileCount = results.reduce((n, r) => n + r.files.length, 0);
  reporter.info(`done: ${results.length} prompt(s), ${fileCount} file(s) in ${displayPath(io.cwd, outDir)}`);
  if (values.json) io.stdout.write(`${JSON.stringify({ endpoint: endpoint.url, outDir: displayPath(io.cwd, outDir), prompts: results }, null, 2)}\n`);
  return EXIT_CODES.ok;
}

/**
 * Best effort: removes what this run queued so an abandoned run does not keep
 * a GPU busy. An interrupt only asks ComfyUI to stop at its next check, so a
 * running prompt is reported interrupted once /queue no longer runs it.
 */
async function cancelAll(client: ComfyClient, prompts: { promptId: string }[], reporter: ProgressReporter): Promise<void> {
  for (const { promptId } of prompts) {
    try {
      const outcome = await client.cancel(promptId);
      if (outcome === 'dequeued') reporter.warn(`prompt ${promptId} removed from the queue`);
      if (outcome !== 'interrupted') continue;
      reporter.info(`prompt ${promptId}: interrupt requested`);
      if (await client.waitUntilNotRunning(promptId, INTERRUPT_CONFIRM_MS)) reporter.warn(`prompt ${promptId} interrupted`);
      else reporter.warn(`prompt ${promptId}: interrupt requested, but the server still runs it after ${formatDuration(INTERRUPT_CONFIRM_MS)} (npm run comfy -- status shows the queue)`);
    } catch (err) {
      reporter.warn(`could not cancel prompt ${promptId}: ${(err as Error).message}`);
    }
  }
}

// --------------------------------------------------------------- status

async function statusCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, COMMON_OPTIONS, 'status');
  if (helpRequested(values, STATUS, io)) return EXIT_CODES.ok;
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
  const { values, positionals } = parseCommandArgs(argv, COMMON_OPTIONS, 'models');
  if (helpRequested(values, MODELS, io)) return EXIT_CODES.ok;
  if (positionals.length > 1) throw new UsageError(`models takes at most one folder, got "${positionals.join(' ')}"`);
  const { client } = makeClient(values, io);
  const listing = await client.listModels(positionals[0]);
  if (listing.source === 'object_info' && !values.quiet) io.stderr.write('note: the server has no /models endpoint; listed from the loader nodes in /object_info\n');
  if (listing.aliasOf && !values.quiet) {
    io.stderr.write(`note: ComfyUI serves ${listing.aliasOf}/ as ${Object.keys(listing.folders)[0]}/ (it merges the two folders)\n`);
  }
  if (Object.values(listing.folders).every((files) => files.length === 0)) {
    const where = positionals[0] === undefined ? '' : ` in ${positionals[0]}/`;
    throw new ServerError(
      `the server lists no model files${where}`,
      undefined,
      'Upload models to the models bucket (docs/models.md); running GPU nodes copy them within about a minute, a new node at boot.',
    );
  }
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
