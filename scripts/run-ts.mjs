// Runs a TypeScript entry point: `node scripts/run-ts.mjs ENTRY.ts [ARGS...]`.
// Bundles ENTRY with esbuild (packages stay external, loaded from
// node_modules; no type-check: `make typecheck` does that) into
// .build/run-ts/, then runs it in a child Node process with ARGS, passing the
// exit code through. The bundle is written to a temporary name and renamed so
// concurrent runs never execute a half-written file.
import { spawn } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { NODE_BUNDLE_OPTIONS } from './esbuild-node.mjs';

const [entryArg, ...args] = process.argv.slice(2);
if (!entryArg) {
  process.stderr.write('usage: node scripts/run-ts.mjs ENTRY.ts [ARGS...]\n');
  process.exit(2);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = resolve(entryArg);
const outfile = join(root, '.build', 'run-ts', `${relative(root, entry).replace(/[\\/]/g, '__').replace(/\.ts$/, '')}.js`);

let result;
try {
  result = await build({
    ...NODE_BUNDLE_OPTIONS,
    entryPoints: [entry],
    write: false,
    outfile,
    logLevel: 'silent',
  });
} catch (err) {
  for (const e of err.errors ?? []) {
    process.stderr.write(`${e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : ''}${e.text}\n`);
  }
  if (!err.errors) process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

mkdirSync(dirname(outfile), { recursive: true });
const partial = `${outfile}.${process.pid}.tmp`;
writeFileSync(partial, result.outputFiles[0].contents);
renameSync(partial, outfile);

// Ctrl-C reaches the child directly (same process group), so SIGINT is only
// swallowed here: forwarding it too would count as a second Ctrl-C. SIGTERM
// and SIGHUP are usually sent to this process alone, so they are forwarded.
const child = spawn(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
process.on('SIGINT', () => undefined);
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => {
  if (signal) {
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9 }[signal] ?? 1));
  }
  process.exit(code ?? 1);
});
