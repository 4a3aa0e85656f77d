/**
 * Entry point of `npm run comfy -- ...` (bundled and run by scripts/run-ts.mjs).
 * The first Ctrl-C stops waiting and cancels what this run queued; a second
 * one exits at once.
 */
import { runCli } from './cli';
import { EXIT_CODES, InterruptedError } from './errors';

const controller = new AbortController();
let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(EXIT_CODES.interrupted);
    process.stderr.write(`\n${signal}: stopping and cancelling this run's prompts (again to quit at once)\n`);
    controller.abort(new InterruptedError(`stopped by ${signal}`));
  });
}

// `npm run` changes to the package root; relative paths (workflow, --out) mean the caller's directory.
const cwd = process.env.npm_lifecycle_event === 'comfy' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd, signal: controller.signal }).then(
  (code) => {
    // Exit once stdout is flushed: pooled keep-alive sockets must not delay a script.
    process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(EXIT_CODES.internal);
  },
);
