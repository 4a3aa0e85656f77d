/**
 * What every `comfy` subcommand shares: the process I/O, the command table
 * entry, the connection options, argument parsing and the client they build.
 * A subcommand lives in its own module, exports a CliCommand and is listed
 * once in COMMANDS (cli.ts); the general and per-command help come from it.
 */
import { isAbsolute, relative } from 'path';
import { parseArgs, type ParseArgsConfig } from 'util';
import { ComfyClient } from './client';
import { resolveEndpoint } from './endpoint';
import { UsageError } from './errors';
import type { ProgressEvent } from './types';

/** The process around the CLI. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
  /** Aborted on the first SIGINT/SIGTERM/SIGHUP; its reason is an InterruptedError. */
  readonly signal?: AbortSignal;
}

/** One subcommand: a row of the command table. */
export interface CliCommand {
  /** The word after `npm run comfy --`. */
  readonly name: string;
  /** Arguments after the name, for the usage line (`WORKFLOW.json`, `[FOLDER]`). */
  readonly args: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The command's own options, formatted like CONNECTION_HELP (empty when it has none). */
  readonly optionsHelp: string;
  /**
   * True when the command reacts to the stop signal itself (to cancel what it
   * started); otherwise runCli stops waiting for it when the signal aborts.
   */
  readonly handlesStop?: boolean;
  /** Runs the command; returns the exit code. */
  readonly run: (argv: readonly string[], io: CliIo) => Promise<number>;
}

/** Options every command accepts (connection and output). */
export const COMMON_OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  outputs: { type: 'string' },
  'request-timeout': { type: 'string' },
  retries: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export type CommonValues = { [K in keyof typeof COMMON_OPTIONS]?: (typeof COMMON_OPTIONS)[K]['type'] extends 'string' ? string : boolean };

export const CONNECTION_HELP = `Connection (every command):
  --url URL             ComfyUI base URL (default: COMFY_URL, else the comfyui_url output in
                        --outputs FILE / COMFY_OUTPUTS_FILE / ./cdktf-outputs.json)
  --user NAME[:PASS]    Basic-auth user (default: COMFY_USER; password from COMFY_PASSWORD);
                        with Cognito instead set COMFY_TOKEN to an API client access token
  --outputs FILE        Deployment outputs JSON (cdktf output --outputs-file / terraform output -json)
  --request-timeout D   Timeout of each HTTP request (default 30s)
  --retries N           Retries of GET requests on network errors and 502/503/504 (default 2)
  --json                Machine-readable output on stdout
  -q, --quiet           Only warnings and errors on stderr
  -h, --help            Help (of the command, after its name)
`;

export const HELP_FOOTER = `Durations: 90, 90s, 15m, 1h, 500ms. Exit codes: 0 ok, 2 usage, 3 unreachable, 4 auth,
5 invalid workflow, 6 rejected by ComfyUI, 7 execution error, 8 timeout, 9 server error,
130 stopped by a signal (see docs/api-client.md).
`;

/** Help of one command: its usage line, its options, then the connection options. */
export function commandHelp(command: CliCommand): string {
  const own = command.optionsHelp ? `${command.name[0].toUpperCase()}${command.name.slice(1)} options:\n${command.optionsHelp}\n` : '';
  return `Usage: npm run comfy -- ${command.name}${command.args ? ` ${command.args}` : ''} [options]\n\n${command.summary}\n\n${own}${CONNECTION_HELP}\n${HELP_FOOTER}`;
}

/** parseArgs with the command's options; a parse failure is a usage error pointing at the command's help. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: O, command: string) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`, `See: npm run comfy -- ${command} --help`);
  }
}

/** The client and endpoint the connection options and environment describe. */
export function makeClient(values: CommonValues, io: CliIo, onEvent?: (e: ProgressEvent) => void, clientId?: string) {
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

/** Milliseconds from `90`, `90s`, `15m`, `1h`, `500ms` (bare numbers are seconds). */
export function parseDuration(text: string, flag: string, allowZero: boolean): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag} expects a duration such as 90, 90s, 15m or 1h, got "${text}"`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  const ms = Math.round(Number(match[1]) * factor);
  if (ms === 0 && !allowZero) throw new UsageError(`${flag} must be greater than 0`);
  return ms;
}

/** A whole number flag value in [min, max]. */
export function parseInteger(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`${flag} expects a whole number from ${min} to ${max}, got "${text}"`);
  return Number(text);
}

/** `-n`/`--count`: 1 when absent, else 1 to 1000. */
export function parseCount(text: string | undefined): number {
  return text === undefined ? 1 : parseInteger(text, '--count', 1, 1000);
}

/** `--seed random|N`. */
export function parseSeed(text: string | undefined): 'random' | number | undefined {
  if (text === undefined || text === 'random') return text;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--seed expects "random" or a whole number from 0 to 2^53-1, got "${text}"`);
  return Number(text);
}

/** A path relative to cwd when it lies below it, else as given. */
export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
