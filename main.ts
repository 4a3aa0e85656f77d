/**
 * Entry point of `cdktf synth` / `make synth`.
 *
 * The config is validated first: a bad config prints one line per problem and
 * exits 1 before anything is synthesized. The app is synthesized into a
 * staging directory that replaces the output directory only when synthesis
 * succeeded, so a failed run never leaves half-written stacks behind.
 */
import { existsSync, readFileSync, renameSync, rmSync } from 'fs';
import { join } from 'path';
import { App } from 'cdktf';
import { loadConfig } from './config';
import { buildPlatform } from './stacks/app';

interface Annotation {
  readonly constructPath: string;
  readonly level: string;
  readonly message: string;
}

/**
 * Annotations of every stack, read once from the manifest: errors (the
 * synth-time policy, docs/security.md) as `[RULE] message at construct/path`,
 * warnings as `warning: construct/path: message` (cdktf writes them only to
 * the manifest, so `make synth` prints them).
 */
function readAnnotations(dir: string): { errors: string[]; warnings: string[] } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { stacks: Record<string, { annotations?: Annotation[] }> };
  const all = Object.values(manifest.stacks).flatMap((stack) => stack.annotations ?? []);
  return {
    errors: all
      .filter((a) => a.level === '@cdktf/error')
      .map((a) => (a.message.endsWith(` at ${a.constructPath}`) ? a.message : `${a.message} (at ${a.constructPath})`)),
    warnings: all.filter((a) => a.level.endsWith('warn')).map((a) => `warning: ${a.constructPath}: ${a.message}`),
  };
}

function main(): number {
  const result = loadConfig(process.env);
  if (!result.ok) {
    process.stderr.write(`Invalid configuration${process.env.COMFYUI_CONFIG ? ` (${process.env.COMFYUI_CONFIG})` : ''}:\n`);
    for (const line of result.errors) process.stderr.write(`  ${line}\n`);
    return 1;
  }

  // Stacks are written even when they carry error annotations, and the
  // annotations are collected from the manifest below: one run then reports
  // the findings of every stack (cdktf alone stops at the first one), and
  // `node .build/main.js` fails the same way as under `cdktf synth`, which sets this too.
  process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS = 'true';
  const outdir = process.env.CDKTF_OUTDIR || 'cdktf.out';
  const staging = `${outdir}.staging-${process.pid}`;
  try {
    const app = new App({ outdir: staging, skipBackendValidation: false });
    buildPlatform(app, result.config);
    app.synth();
    const { errors, warnings } = readAnnotations(staging);
    if (errors.length > 0) {
      rmSync(staging, { recursive: true, force: true });
      process.stderr.write(`Synthesis stopped by ${errors.length} error(s) (policy rules: docs/security.md):\n`);
      for (const line of errors) process.stderr.write(`  ${line}\n`);
      return 1;
    }
    for (const line of warnings) process.stderr.write(`${line}\n`);
    rmSync(outdir, { recursive: true, force: true });
    renameSync(staging, outdir);
  } catch (e) {
    if (existsSync(staging)) rmSync(staging, { recursive: true, force: true });
    process.stderr.write(`Synthesis failed: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = main();
