/**
 * Model-sync Lambda: SQS (S3 notifications of the models bucket) -> SSM Run
 * Command carrying every changed model of the batch (one command, more only
 * where SSM's parameter size forces it), sent to every GPU node by tag.
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
import { chunkChanges, mapWithConcurrency, NodeChange, RetryClock, RetryPolicy, sendCommandInput, withThrottlingRetry } from './dispatch';
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
  /** Keys to change after coalescing (one copy or delete each). */
  readonly keys: number;
  /** SendCommand requests planned: the keys in chunks that fit SSM's parameter size (usually one). */
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
        if (s.malformed) log('error', 'malformed record skipped; the other records of its message are processed', { messageId: s.messageId, reason: s.reason });
        else log(s.disposition === 'reject' ? 'warn' : 'info', s.disposition === 'reject' ? 'key rejected' : 'key ignored', { messageId: s.messageId, rawKey: s.rawKey, reason: s.reason });
      }
    }
  }

  const coalesced = coalesce(changes);
  for (const c of coalesced) {
    if (c.superseded > 0) log('info', 'older events superseded', { key: c.change.key, kept: c.change.eventName, sequencer: c.change.sequencer, superseded: c.superseded });
  }
  const planned = planCommands(coalesced);
  let sendCommandCalls = 0;

  // 1. Decide copy or delete per key (a version delete asks the bucket).
  const resolved = await mapWithConcurrency(planned, settings.dispatchConcurrency, async (command: PlannedCommand): Promise<NodeChange | undefined> => {
    if (command.kind !== 'resolve') return { action: command.kind, key: command.key, eventTime: command.eventTime };
    try {
      const exists = await withThrottlingRetry(() => keyExists(deps.s3, settings.bucket, command.key), deps.retry, deps.clock);
      const action = exists ? 'copy' : 'delete';
      log('info', 'version deleted; resolved against the bucket', { key: command.key, stillExists: exists, action });
      return { action, key: command.key, eventTime: command.eventTime };
    } catch (error) {
      for (const id of command.messageIds) failed.add(id);
      log('error', 'cannot tell whether the key still exists; its messages will be redelivered', { key: command.key, messageIds: command.messageIds, ...describeError(error) });
      return undefined;
    }
  });
  const ready: { change: NodeChange; messageIds: readonly string[] }[] = [];
  resolved.forEach((change, i) => {
    if (change) ready.push({ change, messageIds: planned[i].messageIds });
  });

  // 2. Send the changes in as few commands as SSM's parameter size allows.
  const chunks = chunkChanges(ready.map((r) => r.change));
  const dispatchChunk = async (chunk: number[]): Promise<void> => {
    const changes = chunk.map((i) => ready[i].change);
    const messageIds = [...new Set(chunk.flatMap((i) => ready[i].messageIds))];
    try {
      const output = await withThrottlingRetry(
        () => {
          sendCommandCalls += 1;
          return deps.ssm.send(new SendCommandCommand(sendCommandInput(settings, changes)));
        },
        deps.retry,
        deps.clock,
        (attempt, delayMs) => log('warn', 'SendCommand throttled; backing off', { keys: changes.length, attempt, delayMs }),
      );
      const commandId = output.Command?.CommandId;
      const targetCount = output.Command?.TargetCount;
      for (const c of changes) log('info', 'change sent', { key: c.key, action: c.action, commandId });
      log('info', 'command sent', { commandId, targetCount, keys: changes.length, messageIds });
      // AWS resolves tag targets after answering (TargetCount is 0 at send time); no matching node is not an error.
      if (!targetCount) log('info', 'no target resolved yet (no GPU node, or still resolving); nodes that join later sync at boot and on the reconcile timer', { commandId });
    } catch (error) {
      for (const id of messageIds) failed.add(id);
      log('error', 'command not sent; its messages will be redelivered', { keys: changes.map((c) => c.key), messageIds, ...describeError(error) });
    }
  };
  await mapWithConcurrency(chunks, settings.dispatchConcurrency, dispatchChunk);

  const summary: BatchSummary = {
    messages: event.Records.length,
    changes: changes.length,
    skipped,
    keys: planned.length,
    commands: chunks.length,
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
