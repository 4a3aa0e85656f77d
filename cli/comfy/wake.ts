/**
 * Waiting through a wake from zero. With elastic serving (autoscaling mode
 * keda) ComfyUI may have no replica: the edge then answers 503 with
 * Retry-After (the "Starting a GPU for you" page, or JSON from
 * /_wake/status) and signals KEDA to start one, which takes a few minutes
 * (GPU node, image pull, model sync). `waitThroughWake` retries an idempotent
 * first request while the answer is 503, honouring Retry-After, printing a
 * progress line ("waking the GPU… 1m20s"), until it succeeds or the --timeout
 * budget runs out. A POST /prompt at zero is never sent blind: the run
 * command wakes the GPU with GET /prompt first, then submits.
 */
import { ServerError, TimeoutError } from './errors';

/** Retry delay when the answer carries no Retry-After. */
export const DEFAULT_WAKE_RETRY_MS = 10_000;
/** Bounds of the retry delay (a broken Retry-After must not stall or spin). */
const MIN_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

export interface WakeOptions {
  /** Epoch ms after which waiting stops (the --timeout budget); undefined: no limit. */
  readonly deadline?: number;
  /** How the budget is named in the timeout error, e.g. "--timeout 30 min". */
  readonly budget: string;
  /** Receives the progress lines. */
  readonly onProgress: (line: string) => void;
  /** Aborts the wait (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Clock and sleep, replaceable in tests. */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Whether an error is the edge's "no replica yet, waking one" answer. */
export function isWaking(err: unknown): err is ServerError {
  return err instanceof ServerError && err.status === 503;
}

/** `45s`, `1m20s`, `12m05s`. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Milliseconds to wait before the next try, from Retry-After when the server sent one. */
export function retryDelayMs(err: ServerError): number {
  const seconds = err.retryAfterSeconds;
  const ms = seconds === undefined ? DEFAULT_WAKE_RETRY_MS : seconds * 1000;
  return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, ms));
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

/** Runs `attempt`; while it fails with 503, waits (Retry-After) and tries again within the deadline. */
export async function waitThroughWake<T>(attempt: () => Promise<T>, options: WakeOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const started = now();
  let waking = false;
  for (;;) {
    try {
      const result = await attempt();
      if (waking) options.onProgress(`the GPU is awake after ${formatElapsed(now() - started)}`);
      return result;
    } catch (err) {
      if (!isWaking(err)) throw err;
      if (!waking) options.onProgress('no GPU is running: waking one (usually 3-5 minutes)');
      waking = true;
      const delay = retryDelayMs(err);
      if (options.deadline !== undefined && now() + delay > options.deadline) {
        throw new TimeoutError(
          `the GPU did not wake within ${options.budget} (waited ${formatElapsed(now() - started)})`,
          'A cold start needs a GPU node, the image and the models; raise --timeout, or check the KEDA ScaledObject and Karpenter (docs/operations.md "Scaling").',
        );
      }
      options.onProgress(`waking the GPU… ${formatElapsed(now() - started)}`);
      await sleep(delay, options.signal);
    }
  }
}
