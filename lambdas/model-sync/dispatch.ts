/**
 * Sending commands to the GPU nodes: one SSM SendCommand per (action, key),
 * addressed by tag (`Targets`), so the number of calls depends on the number
 * of changed keys and never on the number of nodes (an `InstanceIds` list is
 * capped at 50 per call; `Targets` has no cap).
 */
import type { SendCommandCommandInput } from '@aws-sdk/client-ssm';

/** How commands are sent. */
export interface DispatchSettings {
  /** Name of the Terraform-managed Command document. */
  readonly documentName: string;
  /** EC2 tag key selecting GPU nodes (without the `tag:` prefix). */
  readonly targetTagKey: string;
  /** EC2 tag value selecting this cluster's GPU nodes. */
  readonly targetTagValue: string;
  /** CloudWatch log group receiving command output. */
  readonly outputLogGroup: string;
  /** SSM MaxConcurrency: nodes (count or percentage) running the command at once. */
  readonly maxConcurrency: string;
  /** SSM MaxErrors: failed nodes (count or percentage) after which SSM stops sending. */
  readonly maxErrors: string;
  /** SSM TimeoutSeconds: how long a node may take to start the command. */
  readonly deliveryTimeoutSeconds: number;
}

/** The SendCommand request for one action on one key. The key is only ever a parameter value. */
export function sendCommandInput(settings: DispatchSettings, action: 'copy' | 'delete', key: string): SendCommandCommandInput {
  return {
    DocumentName: settings.documentName,
    Targets: [{ Key: `tag:${settings.targetTagKey}`, Values: [settings.targetTagValue] }],
    Parameters: { action: [action], key: [key] },
    MaxConcurrency: settings.maxConcurrency,
    MaxErrors: settings.maxErrors,
    TimeoutSeconds: settings.deliveryTimeoutSeconds,
    // The key stays out of the comment: comments are capped at 100 characters.
    Comment: `comfyui model-sync ${action}`,
    CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: settings.outputLogGroup },
  };
}

/** Error names AWS uses for throttling (SSM, and the SDK's generic ones). */
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'TooManyUpdates', 'RateExceeded']);

/** True when an error from an AWS SDK call means "slow down". */
export function isThrottling(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $retryable?: { throttling?: unknown } };
  return (typeof e.name === 'string' && THROTTLING.has(e.name)) || e.$retryable?.throttling === true;
}

/** Backoff of the retry loop (on top of the SDK's own adaptive retries). */
export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  readonly attempts: number;
  /** Delay before the second attempt; doubles every attempt (full jitter). */
  readonly baseDelayMs: number;
  /** Upper bound of one delay. */
  readonly maxDelayMs: number;
}

/** Retry clock: injectable so tests run without waiting. */
export interface RetryClock {
  /** Waits `ms` milliseconds. */
  readonly sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1) for jitter. */
  readonly random: () => number;
  /** Milliseconds left before the invocation must return. */
  readonly remainingMs: () => number;
}

/** Time kept back to build and return the batch response. */
const RESPONSE_RESERVE_MS = 3000;

/**
 * Runs `call`, retrying throttling errors with capped exponential backoff and
 * full jitter, never sleeping past the invocation deadline. Other errors, and
 * throttling that outlasts the policy, are thrown to the caller.
 * `onRetry` is told about every retry (for logs and metrics).
 */
export async function withThrottlingRetry<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  clock: RetryClock,
  onRetry: (attempt: number, delayMs: number, error: unknown) => void = () => undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isThrottling(error) || attempt >= policy.attempts) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.floor(clock.random() * ceiling);
      if (clock.remainingMs() - delay < RESPONSE_RESERVE_MS) throw error;
      onRetry(attempt, delay, error);
      await clock.sleep(delay);
    }
  }
}

/** Runs `worker` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, worker: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await worker(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
  return results;
}
