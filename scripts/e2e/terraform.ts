/**
 * Runs the Terraform CLI with the project's own CLI config (dev_overrides for
 * the AWS provider built by scripts/install-tools.sh aws-provider), never the
 * user's ~/.terraformrc, and never the provider registry.
 */
import { execFile } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { join, resolve } from 'path';

export const ROOT = resolve(__dirname, '..', '..');
/** Written by scripts/install-tools.sh aws-provider. */
export const TF_CLI_CONFIG = join(ROOT, '.deploy-proof', 'terraform.tfrc');

/** Directory of the provider build the CLI config points at. */
export function devProviderDir(): string {
  if (!existsSync(TF_CLI_CONFIG)) throw new Error(`${TF_CLI_CONFIG} not found: run \`scripts/install-tools.sh aws-provider\` (make tools)`);
  const m = /"registry\.terraform\.io\/hashicorp\/aws"\s*=\s*"([^"]+)"/.exec(readFileSync(TF_CLI_CONFIG, 'utf8'));
  if (!m || !existsSync(join(m[1], 'terraform-provider-aws'))) throw new Error(`no provider build behind ${TF_CLI_CONFIG}: run \`scripts/install-tools.sh aws-provider\``);
  return m[1];
}

/** Environment for terraform: the project's CLI config, no checkpoint calls, no prompts. */
export function terraformEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CLI_CONFIG_FILE: TF_CLI_CONFIG, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0', ...extra };
  delete env.TF_PLUGIN_CACHE_DIR;
  return env;
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without a shell. */
export function runCommand(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
  return new Promise((done) => {
    const child = execFile(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, timeout: options.timeoutMs ?? 600_000, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status: unknown = error ? (error as { code?: unknown }).code : 0;
      done({ code: typeof status === 'number' ? status : 1, stdout: stdout.toString(), stderr: stderr.toString() + (error && typeof status !== 'number' ? String(error) : '') });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export function terraform(dir: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<CommandResult> {
  return runCommand('terraform', [`-chdir=${dir}`, ...args], { env, timeoutMs });
}

/** Resource addresses (managed and data) that a Terraform error output names (`with aws_x.y,`). */
export function failedAddresses(output: string): string[] {
  return [...new Set([...output.matchAll(/^\s*│?\s*with ((?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)(?:\[[^\]]*\])?,/gm)].map((m) => m[1]))];
}

/** Managed resources recorded in a state file. */
export function stateResources(stateFile: string): string[] {
  if (!existsSync(stateFile)) return [];
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { resources?: { mode: string; type: string; name: string; instances: unknown[] }[] };
  return (state.resources ?? []).filter((r) => r.mode === 'managed' && r.instances.length > 0).map((r) => `${r.type}.${r.name}`);
}

/** Terraform's error diagnostics, one string per `Error:` block, without the box-drawing frame. */
export function errorBlocks(stderr: string): string[] {
  const lines = stderr.split('\n').map((l) => l.replace(/^[│╷╵]\s?/, '').trimEnd());
  const blocks: string[][] = [];
  for (const line of lines) {
    if (/^Error: /.test(line)) blocks.push([line]);
    else if (blocks.length > 0 && line !== '') blocks[blocks.length - 1].push(line);
  }
  return blocks.map((b) => b.join('\n'));
}
