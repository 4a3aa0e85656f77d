/**
 * Entry point of `npm run comfy -- ...` (bundled and run by scripts/run-ts.mjs).
 *
 * The first SIGINT, SIGTERM or SIGHUP stops waiting and cancels what this run
 * queued (runCli prints what it does). One signal often arrives several
 * times: sent to the process group it reaches this process directly and
 * again through npm and scripts/run-ts.mjs, which forward it. Copies within
 * SIGNAL_COALESCE_MS of the first count as that one signal; a signal after
 * that quits at once, without waiting for the cancel to finish.
 * Started by run-ts.mjs, the IPC channel to it closes when the runner dies
 * (even by SIGKILL): that stops the run like SIGTERM.
 */
import { runCli } from './cli';
import { EXIT_CODES, InterruptedError } from './errors';

/** Window in which repeated signals are copies of the first one (run-ts.mjs uses the same). */
const SIGNAL_COALESCE_MS = 1000;

const controller = new AbortController();
let firstStop: number | undefined;
function stop(cause: string): void {
  const now = Date.now();
  if (firstStop === undefined) {
    firstStop = now;
    controller.abort(new InterruptedError(`stopped by ${cause}`, cause));
    return;
  }
  if (now - firstStop < SIGNAL_COALESCE_MS) return;
  process.stderr.write(`\n${cause} again: quitting at once, without waiting for the cancel\n`);
  process.exit(EXIT_CODES.interrupted);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
if (process.channel) {
  process.on('disconnect', () => stop('the loss of its runner (scripts/run-ts.mjs)'));
  process.channel.unref(); // the channel only watches the runner; it must not keep the process alive
}
// After SIGHUP the terminal may be gone: a failed write to it must not crash the cancel.
process.stderr.on('error', () => undefined);

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
