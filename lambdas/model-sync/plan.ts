/**
 * Pure planning: SQS records carrying S3 notifications in, one command per
 * model key out. No I/O here, so every rule is unit-tested directly.
 *
 *   parseRecord  -> the S3 changes (or a test event, or an unreadable body)
 *   coalesce     -> per key, the latest change by `sequencer`
 *   planCommands -> copy / delete per key, with the SQS messages it answers for
 */
import { decodeS3EventKey, validateModelKey } from './keys';

/** What a node must do for one key. `resolve`: a specific object version was deleted; the key may still exist. */
export type ChangeKind = 'copy' | 'delete' | 'resolve';

/** One S3 change to a model key, from one SQS message. */
export interface KeyChange {
  /** Decoded, validated key. */
  readonly key: string;
  /** What the event asks for. */
  readonly kind: ChangeKind;
  /** S3's per-key ordering token (hex string); empty when S3 sent none. */
  readonly sequencer: string;
  /** S3 event name, for logs. */
  readonly eventName: string;
  /** SQS message id that carried the change. */
  readonly messageId: string;
  /** S3 event time in epoch seconds (0 when the record has none): nodes report their sync lag against it. */
  readonly eventTime: number;
}

/** A key that does not reach the nodes, and why (logged, never retried). */
export interface SkippedKey {
  /** The key as it appeared in the event (still URL-encoded). */
  readonly rawKey: string;
  /** `ignore` (expected, e.g. folder marker) or `reject` (suspicious, e.g. `..`). */
  readonly disposition: 'ignore' | 'reject';
  /** Why. */
  readonly reason: string;
  /** SQS message id. */
  readonly messageId: string;
  /** True when the record itself is malformed (logged as an error), not just its key. */
  readonly malformed?: boolean;
}

/** The outcome of reading one SQS record. */
export type ParsedRecord =
  | { readonly type: 'changes'; readonly changes: KeyChange[]; readonly skipped: SkippedKey[] }
  | { readonly type: 'test-event' }
  | { readonly type: 'unreadable'; readonly reason: string };

/** The minimal shape of an SQS record the planner needs. */
export interface SqsRecordLike {
  /** SQS message id (the batchItemFailures identifier). */
  readonly messageId: string;
  /** Message body: the S3 notification JSON. */
  readonly body: string;
}

/** Settings the planner needs. */
export interface PlanSettings {
  /** The models bucket: notifications for any other bucket are skipped. */
  readonly bucket: string;
  /** Model folders keys must start with. */
  readonly prefixes: readonly string[];
  /** File extensions a model key must end with (models.allowedExtensions). */
  readonly extensions: readonly string[];
}

function kindOf(eventName: string): ChangeKind | undefined {
  const name = eventName.replace(/^s3:/, '');
  if (name.startsWith('ObjectCreated:')) return 'copy';
  // Versioned bucket: a plain DELETE adds a delete marker, the key is gone.
  if (name === 'ObjectRemoved:DeleteMarkerCreated') return 'delete';
  // DELETE of a specific version: if it was the current one, an older version
  // becomes current again (a rollback), so the key may still exist.
  if (name.startsWith('ObjectRemoved:')) return 'resolve';
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads one SQS message: the S3 test event, S3 change records, or an unreadable body. */
export function parseRecord(record: SqsRecordLike, settings: PlanSettings): ParsedRecord {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return { type: 'unreadable', reason: 'body is not JSON' };
  }
  if (!isRecord(body)) return { type: 'unreadable', reason: 'body is not a JSON object' };
  // S3 sends this once when the notification configuration is saved.
  if (body.Event === 's3:TestEvent') return { type: 'test-event' };
  if (!Array.isArray(body.Records)) return { type: 'unreadable', reason: 'body has no Records array' };

  const changes: KeyChange[] = [];
  const skipped: SkippedKey[] = [];
  // Record by record: a malformed record is skipped on its own and never
  // costs the valid records of the same message their change.
  (body.Records as unknown[]).forEach((entry, index) => {
    const malformed = (reason: string): void => {
      skipped.push({ rawKey: '', disposition: 'reject', reason: `record ${index}: ${reason}`, messageId: record.messageId, malformed: true });
    };
    if (!isRecord(entry) || entry.eventSource !== 'aws:s3' || !isRecord(entry.s3)) {
      malformed('not an S3 event notification record');
      return;
    }
    const s3 = entry.s3;
    const object = isRecord(s3.object) ? s3.object : undefined;
    const bucket = isRecord(s3.bucket) ? s3.bucket.name : undefined;
    const eventName = typeof entry.eventName === 'string' ? entry.eventName : '';
    if (!object || typeof object.key !== 'string') {
      malformed('an S3 record without an object key');
      return;
    }
    const rawKey = object.key;
    if (bucket !== settings.bucket) {
      skipped.push({ rawKey, disposition: 'reject', reason: `event for bucket ${String(bucket)}, not the models bucket`, messageId: record.messageId });
      return;
    }
    const kind = kindOf(eventName);
    if (!kind) {
      skipped.push({ rawKey, disposition: 'ignore', reason: `event ${eventName} does not change the object`, messageId: record.messageId });
      return;
    }
    const key = decodeS3EventKey(rawKey);
    if (key === undefined) {
      skipped.push({ rawKey, disposition: 'reject', reason: 'malformed percent-encoding or invalid UTF-8', messageId: record.messageId });
      return;
    }
    const verdict = validateModelKey(key, settings.prefixes, settings.extensions);
    if (!verdict.ok) {
      skipped.push({ rawKey, disposition: verdict.disposition, reason: verdict.reason, messageId: record.messageId });
      return;
    }
    const sequencer = typeof object.sequencer === 'string' ? object.sequencer : '';
    const parsedTime = typeof entry.eventTime === 'string' ? Date.parse(entry.eventTime) : NaN;
    const eventTime = Number.isFinite(parsedTime) && parsedTime > 0 ? Math.floor(parsedTime / 1000) : 0;
    changes.push({ key, kind, sequencer, eventName, messageId: record.messageId, eventTime });
  });
  return { type: 'changes', changes, skipped };
}

/**
 * Orders two S3 sequencers of the same key: negative when `a` is older.
 * They are hex strings of varying length; AWS documents comparing them
 * after right-padding the shorter one with zeros (its older text said left;
 * S3's sequencers share a fixed-width high-order prefix, so right is right).
 */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.toUpperCase().padEnd(width, '0');
  const pb = b.toUpperCase().padEnd(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** The latest change of one key, and every SQS message that carried that same change. */
export interface CoalescedChange {
  /** The winning (latest) change. */
  readonly change: KeyChange;
  /** Messages that carried the winning change (S3 may deliver an event twice). */
  readonly messageIds: readonly string[];
  /** Older changes of the key in this batch, superseded by the winner. */
  readonly superseded: number;
}

/**
 * Keeps, per key, the change with the greatest sequencer: the last event
 * wins, so create-then-delete is a delete and delete-then-create a copy.
 * Messages whose changes were all superseded need no command: their outcome
 * is decided by the winner's message, which is retried if dispatch fails.
 */
export function coalesce(changes: readonly KeyChange[]): CoalescedChange[] {
  const byKey = new Map<string, { change: KeyChange; messageIds: string[]; superseded: number }>();
  for (const change of changes) {
    const current = byKey.get(change.key);
    if (!current) {
      byKey.set(change.key, { change, messageIds: [change.messageId], superseded: 0 });
      continue;
    }
    // S3 sets a sequencer on every create and remove event; should one be
    // missing, the change read later is taken as the newer one.
    const order = change.sequencer && current.change.sequencer ? compareSequencers(change.sequencer, current.change.sequencer) : 1;
    if (order > 0) {
      byKey.set(change.key, { change, messageIds: [change.messageId], superseded: current.superseded + 1 });
    } else if (order === 0 && change.kind === current.change.kind) {
      // The same event delivered again.
      if (!current.messageIds.includes(change.messageId)) current.messageIds.push(change.messageId);
    } else {
      current.superseded += 1;
    }
  }
  return [...byKey.values()];
}

/** One command to send to every GPU node. */
export interface PlannedCommand {
  /** Node action; `resolve` becomes copy or delete once the bucket has been asked whether the key exists. */
  readonly kind: ChangeKind;
  /** The model key (document parameter, never part of a command line). */
  readonly key: string;
  /** SQS messages that fail if this command cannot be sent. */
  readonly messageIds: readonly string[];
  /** S3 event time of the winning change, epoch seconds (0: unknown). */
  readonly eventTime: number;
}

/** Turns coalesced changes into commands, in a stable order (by key). */
export function planCommands(coalesced: readonly CoalescedChange[]): PlannedCommand[] {
  return coalesced
    .map((c) => ({ kind: c.change.kind, key: c.change.key, messageIds: [...c.messageIds], eventTime: c.change.eventTime }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
