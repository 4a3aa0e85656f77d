/**
 * Loads the platform configuration: embedded defaults (in the schema), then an
 * optional JSON/YAML file named by COMFYUI_CONFIG, then a few environment
 * variables. Returns either a validated config or one message per problem,
 * each naming the field path, so main.ts can stop before synthesizing.
 */
import { readFileSync } from 'fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, PlatformConfig } from './schema';

/** Environment variables that override single fields (applied after the file). */
export const ENV_OVERRIDES: Readonly<Record<string, readonly string[]>> = {
  COMFYUI_NAME: ['name'],
  COMFYUI_ENVIRONMENT: ['environment'],
  COMFYUI_REGION: ['region'],
};

export type ConfigResult = { ok: true; config: PlatformConfig } | { ok: false; errors: string[] };

function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** Turns zod issues into `field.path: reason` lines, one per problem. */
export function formatIssues(error: z.ZodError): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      for (const key of issue.keys) {
        lines.push(`${formatPath([...issue.path, key])}: unknown key (check the spelling against docs/configuration.md)`);
      }
    } else if (issue.code === z.ZodIssueCode.invalid_type) {
      lines.push(`${formatPath(issue.path)}: must be ${issue.expected}, got ${issue.received}`);
    } else if (issue.code === z.ZodIssueCode.invalid_enum_value) {
      lines.push(`${formatPath(issue.path)}: must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(issue.received)}`);
    } else if (issue.code === z.ZodIssueCode.too_small || issue.code === z.ZodIssueCode.too_big) {
      lines.push(`${formatPath(issue.path)}: ${issue.message.replace(/^(String|Number|Array) /, '').toLowerCase()}`);
    } else {
      lines.push(`${formatPath(issue.path)}: ${issue.message}`);
    }
  }
  return lines;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** Reads a JSON or YAML config file; errors name the file and the reason. */
export function readConfigFile(path: string): { ok: true; value: unknown } | { ok: false; errors: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, errors: [`COMFYUI_CONFIG: cannot read ${path}: ${(e as Error).message}`] };
  }
  try {
    const value: unknown = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
    if (value === null || value === undefined) return { ok: true, value: {} };
    if (typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, errors: [`COMFYUI_CONFIG: ${path} must contain a mapping of config fields`] };
    }
    return { ok: true, value };
  } catch (e) {
    return { ok: false, errors: [`COMFYUI_CONFIG: ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`] };
  }
}

/** Validates an already-read config object (defaults fill what it leaves out). */
export function parseConfig(input: unknown): ConfigResult {
  const result = configSchema.safeParse(input);
  return result.success ? { ok: true, config: result.data } : { ok: false, errors: formatIssues(result.error) };
}

/** Defaults <- COMFYUI_CONFIG file <- COMFYUI_* environment variables. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConfigResult {
  let input: Record<string, unknown> = {};
  const file = env.COMFYUI_CONFIG;
  if (file) {
    const read = readConfigFile(file);
    if (!read.ok) return read;
    input = read.value as Record<string, unknown>;
  }
  for (const [variable, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[variable];
    if (value !== undefined && value !== '') setPath(input, path, value);
  }
  return parseConfig(input);
}

/** The embedded default configuration. */
export function defaultConfig(): PlatformConfig {
  return configSchema.parse({});
}
