/**
 * Sending commands to the GPU nodes: the changes of one SQS batch travel in
 * as few SSM SendCommand requests as SSM's parameter size allows (usually
 * one), addressed by tag (`Targets`), so the number of calls depends neither
 * on the number of nodes (an `InstanceIds` list is capped at 50 per call;
 * `Targets` has no cap) nor on the number of keys, and each node runs one
 * invocation per batch instead of one per key.
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

/** One change for the nodes: a line `<action> <event-epoch-seconds> <key>` of the document's `changes` parameter. */
export interface NodeChange {
  /** What the node does. */
  readonly action: 'copy' | 'delete';
  /** The model key (validated: no control character, so never a line break). */
  readonly key: string;
  /** S3 event time, epoch seconds; 0 when unknown. */
  readonly eventTime: number;
}

/**
 * Most UTF-8 bytes of one `changes` parameter value. SSM limits the size of
 * a command's parameters; 8 KiB stays well inside it and holds about 100
 * typical keys (one SQS batch), so a batch is usually one command. A batch of
 * 100 maximum-length (1 KiB) keys becomes 13 commands.
 */
export const MAX_CHANGES_BYTES = 8192;

/** The `changes` line of one change. */
export function changeLine(change: NodeChange): string {
  return `${change.action} ${Math.max(0, Math.floor(change.eventTime))} ${change.key}`;
}

/**
 * Packs changes, in order, into as few `changes` values as fit in `maxBytes`
 * each (newline-separated). Returns the indexes of the changes in each chunk.
 */
export function chunkChanges(changes: readonly NodeChange[], maxBytes = MAX_CHANGES_BYTES): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let size = 0;
  changes.forEach((change, index) => {
    const bytes = Buffer.byteLength(changeLine(change), 'utf8');
    if (bytes > maxBytes) throw new Error(`one change is ${bytes} bytes, more than the ${maxBytes} a command may carry`);
    const added = current.length === 0 ? bytes : bytes + 1;
    if (current.length > 0 && size + added > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    size += current.length === 0 ? bytes : bytes + 1;
    current.push(index);
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The SendCommand request carrying `changes`. Keys are only ever parameter values. */
export function sendCommandInput(settings: DispatchSettings, changes: readonly NodeChange[]): SendCommandCommandInput {
  const copies = changes.filter((c) => c.action === 'copy').length;
  return {
    DocumentName: settings.documentName,
    Targets: [{ Key: `tag:${settings.targetTagKey}`, Values: [settings.targetTagValue] }],
    Parameters: { changes: [changes.map(changeLine).join('\n')] },
    MaxConcurrency: settings.maxConcurrency,
    MaxErrors: settings.maxErrors,
    TimeoutSeconds: settings.deliveryTimeoutSeconds,
    // Keys stay out of the comment: comments are capped at 100 characters.
    Comment: `comfyui model-sync: ${copies} copy, ${changes.length - copies} delete`,
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
