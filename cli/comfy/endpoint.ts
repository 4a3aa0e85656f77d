/**
 * Where the client connects and with which credentials.
 *
 * URL, first match wins: --url, COMFY_URL, then the deployment outputs file
 * (--outputs, COMFY_OUTPUTS_FILE, or ./cdktf-outputs.json when present) as
 * written by `cdktf output --outputs-file cdktf-outputs.json` or
 * `terraform output -json`: the first output named in URL_OUTPUT_NAMES.
 * Credentials: --user NAME[:PASSWORD], else COMFY_USER; the password comes
 * from the flag or COMFY_PASSWORD (prefer the variable: flags show in `ps`).
 * Or, for edge.auth.mode cognito, a bearer access token in COMFY_TOKEN (no
 * flag: tokens must not show in `ps` either).
 */
import { existsSync, readFileSync } from 'fs';
import { resolve } from 'path';
import type { Credentials } from './client';
import { UsageError } from './errors';

/** Output names holding the public URL or hostname, in order of preference. */
export const URL_OUTPUT_NAMES: readonly string[] = ['comfyui_url', 'public_url', 'publicUrl', 'public_hostname', 'publicHostname'];

/** Outputs file read when neither --url, COMFY_URL nor --outputs is given. */
export const DEFAULT_OUTPUTS_FILE = 'cdktf-outputs.json';

/** Inputs of resolveEndpoint. */
export interface EndpointInput {
  /** --url. */
  readonly url?: string;
  /** --user NAME or NAME:PASSWORD. */
  readonly user?: string;
  /** --outputs FILE. */
  readonly outputsFile?: string;
  /** Environment (COMFY_URL, COMFY_USER, COMFY_PASSWORD, COMFY_TOKEN, COMFY_OUTPUTS_FILE). */
  readonly env: Record<string, string | undefined>;
  /** Directory relative paths resolve against. */
  readonly cwd: string;
}

/** A resolved endpoint. */
export interface Endpoint {
  readonly url: string;
  /** Where the URL came from (for messages). */
  readonly source: string;
  readonly credentials?: Credentials;
  /** Bearer access token (COMFY_TOKEN). */
  readonly bearerToken?: string;
}

export function resolveEndpoint(input: EndpointInput): Endpoint {
  const { url, source } = resolveUrl(input);
  const credentials = resolveCredentials(input);
  const bearerToken = input.env.COMFY_TOKEN || undefined;
  if (credentials && bearerToken) {
    throw new UsageError('COMFY_TOKEN and a user (--user or COMFY_USER) are both set', 'Unset one: a bearer token is for edge.auth.mode cognito, a user for basic.');
  }
  return { url, source, credentials, bearerToken };
}

function resolveUrl(input: EndpointInput): { url: string; source: string } {
  if (input.url) return { url: input.url, source: '--url' };
  if (input.env.COMFY_URL) return { url: input.env.COMFY_URL, source: 'COMFY_URL' };
  const explicit = input.outputsFile ?? input.env.COMFY_OUTPUTS_FILE;
  const file = resolve(input.cwd, explicit ?? DEFAULT_OUTPUTS_FILE);
  if (explicit === undefined && !existsSync(file)) {
    throw new UsageError(
      'no endpoint: pass --url, set COMFY_URL, or point --outputs at the deployment outputs',
      `Example: export COMFY_URL=https://d111111abcdef8.cloudfront.net, or run \`cdktf output --outputs-file ${DEFAULT_OUTPUTS_FILE}\` in the project directory.`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read the outputs file ${file}: ${(err as Error).message}`);
  }
  const found = findOutput(doc);
  if (!found) {
    throw new UsageError(`the outputs file ${file} has none of the outputs ${URL_OUTPUT_NAMES.join(', ')}`, 'Pass --url or set COMFY_URL instead.');
  }
  const url = /^https?:\/\//.test(found.value) ? found.value : `https://${found.value}`;
  return { url, source: `${file} (${found.name})` };
}

/** Finds the preferred URL output anywhere in a cdktf (stack -> outputs) or terraform (name -> {value}) outputs document. */
function findOutput(doc: unknown): { name: string; value: string } | undefined {
  const candidates = new Map<string, string>();
  const visit = (node: unknown, depth: number): void => {
    if (depth > 4 || typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      const text = typeof value === 'string' ? value : isValueWrapper(value) ? value.value : undefined;
      if (text !== undefined && URL_OUTPUT_NAMES.includes(key) && !candidates.has(key)) candidates.set(key, text);
      else visit(value, depth + 1);
    }
  };
  visit(doc, 0);
  for (const name of URL_OUTPUT_NAMES) {
    const value = candidates.get(name);
    if (value) return { name, value };
  }
  return undefined;
}

function isValueWrapper(value: unknown): value is { value: string } {
  return typeof value === 'object' && value !== null && typeof (value as { value?: unknown }).value === 'string';
}

function resolveCredentials(input: EndpointInput): Credentials | undefined {
  const spec = input.user ?? input.env.COMFY_USER;
  const from = input.user !== undefined ? '--user' : 'COMFY_USER';
  if (spec === undefined || spec === '') {
    if (input.env.COMFY_PASSWORD) throw new UsageError('COMFY_PASSWORD is set but no user: set COMFY_USER or pass --user');
    return undefined;
  }
  const colon = spec.indexOf(':');
  const username = colon >= 0 ? spec.slice(0, colon) : spec;
  const password = colon >= 0 ? spec.slice(colon + 1) : input.env.COMFY_PASSWORD;
  if (username === '') throw new UsageError(`${from}: the user name is empty`);
  if (password === undefined || password === '') {
    throw new UsageError(`${from} gives user "${username}" but no password`, 'Set COMFY_PASSWORD (preferred: command-line flags are visible to other users in `ps`).');
  }
  return { username, password };
}
