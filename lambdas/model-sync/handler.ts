/**
 * Model-sync Lambda: SQS (S3 notifications of the models bucket) -> one SSM
 * Run Command per changed model, sent to every GPU node of the cluster by tag.
 *
 * Per batch: read every message, decode and validate keys, keep the latest
 * change per key (S3 `sequencer`), ask the bucket whether a key still exists
 * where a version delete makes that uncertain, then send `copy` or `delete`.
 * Messages whose command could not be sent are returned as batch item
 * failures (ReportBatchItemFailures): SQS redelivers exactly those, and moves
 * them to the DLQ after maxReceiveCount attempts. Skipped keys (folder
 * markers, keys outside the model folders, `..`) are logged, never retried.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mapWithConcurrency, RetryClock, RetryPolicy, sendCommandInput, withThrottlingRetry } from './dispatch';
import { createLogger, describeError, Logger } from './log';
import { coalesce, KeyChange, parseRecord, planCommands, PlannedCommand } from './plan';
import { readSettings, Settings } from './settings';

/** The one SSM operation the function uses. */
export interface SsmSender {
  /** Sends a SendCommand request. */
  send(command: SendCommandCommand): Promise<{ Command?: { CommandId?: string; TargetCount?: number } }>;
}

/** The one S3 operation the function uses (existence check after a version delete). */
export interface S3Lister {
  /** Lists at most one key from a prefix. */
  send(command: ListObjectsV2Command): Promise<{ Contents?: { Key?: string }[] }>;
}

/** What processBatch needs from the outside world (real clients in Lambda, stubs in tests). */
export interface Dependencies {
  /** Validated settings. */
  readonly settings: Settings;
  /** SSM client. */
  readonly ssm: SsmSender;
  /** S3 client. */
  readonly s3: S3Lister;
  /** Structured logger. */
  readonly log: Logger;
  /** Sleep, jitter and deadline for retries. */
  readonly clock: RetryClock;
  /** Throttling retry policy (on top of the SDK's adaptive retries). */
  readonly retry: RetryPolicy;
}

/** Figures about one batch, logged at the end and returned for tests and benchmarks. */
export interface BatchSummary {
  /** SQS messages in the batch. */
  readonly messages: number;
  /** Valid key changes read. */
  readonly changes: number;
  /** Keys skipped (ignored or rejected). */
  readonly skipped: number;
  /** Commands planned after coalescing (one per key). */
  readonly commands: number;
  /** SendCommand requests made by the handler, its own throttling retries included (the SDK's internal retries are not counted). */
  readonly sendCommandCalls: number;
  /** Messages reported as failed. */
  readonly failedMessages: number;
}

/** The retry policy of the deployed function. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 4000 };

/** True when `key` exists as an object (the smallest key with prefix `key` is `key` itself). */
async function keyExists(s3: S3Lister, bucket: string, key: string): Promise<boolean> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
  return listed.Contents?.[0]?.Key === key;
}

/** Processes one SQS batch; returns the messages to redeliver and a summary. */
export async function processBatch(event: SQSEvent, deps: Dependencies): Promise<{ response: SQSBatchResponse; summary: BatchSummary }> {
  const { settings, log } = deps;
  const failed = new Set<string>();
  const changes: KeyChange[] = [];
  let skipped = 0;

  for (const record of event.Records) {
    const parsed = parseRecord(record, settings);
    if (parsed.type === 'test-event') {
      log('info', 'S3 test event (sent when the notification is configured)', { messageId: record.messageId });
    } else if (parsed.type === 'unreadable') {
      // Not an S3 notification: keep it for the DLQ and the operator.
      log('error', 'unreadable message', { messageId: record.messageId, reason: parsed.reason, body: record.body });
      failed.add(record.messageId);
    } else {
      changes.push(...parsed.changes);
      for (const s of parsed.skipped) {
        skipped += 1;
        log(s.disposition === 'reject' ? 'warn' : 'info', s.disposition === 'reject' ? 'key rejected' : 'key ignored', { messageId: s.messageId, rawKey: s.rawKey, reason: s.reason });
      }
    }
  }

  const coalesced = coalesce(changes);
  for (const c of coalesced) {
    if (c.superseded > 0) log('info', 'older events superseded', { key: c.change.key, kept: c.change.eventName, sequencer: c.change.sequencer, superseded: c.superseded });
  }
  const commands = planCommands(coalesced);
  let sendCommandCalls = 0;

  const dispatchOne = async (command: PlannedCommand): Promise<void> => {
    try {
      let action: 'copy' | 'delete';
      if (command.kind === 'resolve') {
        const exists = await withThrottlingRetry(() => keyExists(deps.s3, settings.bucket, command.key), deps.retry, deps.clock);
        action = exists ? 'copy' : 'delete';
        log('info', 'version deleted; resolved against the bucket', { key: command.key, stillExists: exists, action });
      } else {
        action = command.kind;
      }
      const output = await withThrottlingRetry(
        () => {
          sendCommandCalls += 1;
          return deps.ssm.send(new SendCommandCommand(sendCommandInput(settings, action, command.key)));
        },
        deps.retry,
        deps.clock,
        (attempt, delayMs) => log('warn', 'SendCommand throttled; backing off', { key: command.key, action, attempt, delayMs }),
      );
      const targetCount = output.Command?.TargetCount;
      log('info', 'command sent', { key: command.key, action, commandId: output.Command?.CommandId, targetCount, messageIds: command.messageIds });
      // AWS resolves tag targets after answering (TargetCount is 0 at send time); no matching node is not an error.
      if (!targetCount) log('info', 'no target resolved yet (no GPU node, or still resolving); nodes that join later sync at boot and on the reconcile timer', { key: command.key, commandId: output.Command?.CommandId });
    } catch (error) {
      for (const id of command.messageIds) failed.add(id);
      log('error', 'command not sent; its messages will be redelivered', { key: command.key, kind: command.kind, messageIds: command.messageIds, ...describeError(error) });
    }
  };
  await mapWithConcurrency(commands, settings.dispatchConcurrency, dispatchOne);

  const summary: BatchSummary = {
    messages: event.Records.length,
    changes: changes.length,
    skipped,
    commands: commands.length,
    sendCommandCalls,
    failedMessages: failed.size,
  };
  log(failed.size > 0 ? 'warn' : 'info', 'batch done', { ...summary });
  return { response: { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) }, summary };
}

// ---------------------------------------------------------------- Lambda entry point

let runtime: { settings: Settings; ssm: SSMClient; s3: S3Client } | undefined;

/** Settings and clients, created once per execution environment. */
function getRuntime(): { settings: Settings; ssm: SSMClient; s3: S3Client } {
  if (!runtime) {
    const settings = readSettings(process.env);
    // Adaptive mode rate-limits the client itself after throttling responses.
    runtime = {
      settings,
      ssm: new SSMClient({ maxAttempts: 4, retryMode: 'adaptive' }),
      s3: new S3Client({ maxAttempts: 4, retryMode: 'adaptive' }),
    };
  }
  return runtime;
}

/** The Lambda handler (SQS event source with ReportBatchItemFailures). */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const { settings, ssm, s3 } = getRuntime();
  const log = createLogger(context.awsRequestId);
  const clock: RetryClock = {
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    remainingMs: () => context.getRemainingTimeInMillis(),
  };
  const { response } = await processBatch(event, { settings, ssm, s3, log, clock, retry: DEFAULT_RETRY });
  return response;
}
