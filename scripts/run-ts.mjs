// Runs a TypeScript entry point: `node scripts/run-ts.mjs ENTRY.ts [ARGS...]`.
// Bundles ENTRY with esbuild (packages stay external, loaded from
// node_modules; no type-check: `make typecheck` does that) into
// .build/run-ts/, then runs it in a child Node process with ARGS, passing the
// exit code through. The bundle is written to a temporary name and renamed so
// concurrent runs never execute a half-written file. Signals and the loss of
// the parent process stop the child once (below; docs/api-client.md).
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

// Stopping. The child is in this process group, so a signal sent to the group
// (Ctrl-C, `kill -TERM -- -PGID`, a CI runner) reaches it directly, while a
// signal sent to this process alone (or to npm, which passes it on) reaches
// it only through here. So every SIGINT/SIGTERM/SIGHUP is forwarded, and the
// copies one signal produces (group + npm + this runner) arrive within
// milliseconds: forwarding is coalesced here and the child coalesces again
// (cli/comfy/main.ts), so one signal, however delivered, is one stop.
// A signal SIGNAL_COALESCE_MS or more after the first is a new one.
const SIGNAL_COALESCE_MS = 1000;
// The IPC channel tells the child when this runner dies, even by SIGKILL.
const child = spawn(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
let lastForward;
const forward = (signal) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const now = Date.now();
  if (lastForward !== undefined && now - lastForward < SIGNAL_COALESCE_MS) return;
  lastForward = now;
  child.kill(signal);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => forward(signal));

// `npm run` starts this runner under `sh -c`; npm answers SIGTERM by killing
// that shell and exiting, which would leave this runner and the client
// running on their own. When the parent goes away (the parent pid changes:
// the runner was re-parented), the client is stopped as if by SIGTERM.
const parentPid = process.ppid;
const parentWatch = setInterval(() => {
  if (process.ppid === parentPid) return;
  clearInterval(parentWatch);
  process.stderr.write(`run-ts: parent process exited (pid ${parentPid}); stopping ${relative(root, entry)}\n`);
  forward('SIGTERM');
}, 250);
parentWatch.unref();

child.on('exit', (code, signal) => {
  if (signal) {
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1, SIGKILL: 9 }[signal] ?? 1));
  }
  process.exit(code ?? 1);
});
