/**
 * The jobs table (DynamoDB). Every state change is a conditional write, so
 * at-least-once delivery of the queue message never runs a job twice at the
 * same time nor reports it twice:
 *
 *   queued  --claim-->     running   (queued, or running with an expired lease)
 *   running --heartbeat--> running   (same worker; renews the lease)
 *   running --finish-->    succeeded | failed | cancelled   (same worker)
 *   running --release-->   queued    (same worker: retry or SIGTERM hand-back)
 *   queued  --cancel-->    cancelled; running --cancel--> cancelRequested
 */
import {
  AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JobErrorKind, JobRecord, JobState, RECORD_TTL_DAYS, STATE_INDEX, TERMINAL_STATES } from './model';

export { STATE_INDEX, RECORD_TTL_DAYS };

type Item = Record<string, AttributeValue>;

/** What `cancel` did: cancelled a queued job, asked the worker of a running one, or found it finished or absent. */
export type CancelOutcome = 'cancelled' | 'requested' | 'missing' | `already-${JobState}`;

function toItem(values: Record<string, unknown>): Item {
  const item: Item = {};
  for (const [k, v] of Object.entries(values)) {
    const av = toAttribute(v);
    if (av) item[k] = av;
  }
  return item;
}

function toAttribute(v: unknown): AttributeValue | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (Array.isArray(v)) return { L: v.map((x) => toAttribute(x) ?? { NULL: true }) };
  throw new Error(`unsupported attribute value ${JSON.stringify(v)}`);
}

function fromAttribute(av: AttributeValue): unknown {
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return Number(av.N);
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.L !== undefined) return av.L.map(fromAttribute);
  return undefined;
}

/** A table item as a JobRecord. */
export function fromItem(item: Item): JobRecord {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = fromAttribute(v);
  return out as unknown as JobRecord;
}

/** Why a transition did not happen: the record as it is now (undefined: no record). */
export class TransitionRefused extends Error {
  constructor(
    readonly transition: string,
    readonly current: JobRecord | undefined,
  ) {
    super(`${transition} refused: job is ${current ? current.state : 'missing'}`);
  }
}

export class JobStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    readonly tableName: string,
  ) {}

  /** Writes queued records, 25 per BatchWriteItem, retrying unprocessed items. */
  async putQueued(jobs: readonly { id: string; workflowDigest: string; workflowKey?: string; seed?: number }[], now = new Date()): Promise<void> {
    const createdAt = now.toISOString();
    const expiresAt = Math.floor(now.getTime() / 1000) + RECORD_TTL_DAYS * 86_400;
    for (let i = 0; i < jobs.length; i += 25) {
      let requests = jobs.slice(i, i + 25).map((j) => ({
        PutRequest: { Item: toItem({ id: j.id, state: 'queued', attempts: 0, createdAt, updatedAt: createdAt, workflowDigest: j.workflowDigest, workflowKey: j.workflowKey, seed: j.seed, expiresAt }) },
      }));
      for (let round = 0; requests.length > 0; round += 1) {
        if (round > 8) throw new Error(`DynamoDB kept ${requests.length} job records unprocessed`);
        if (round > 0) await sleep(50 * 2 ** round);
        const res = await this.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }));
        requests = (res.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }

  /** The record, strongly consistent (undefined when there is none). */
  async get(id: string): Promise<JobRecord | undefined> {
    const res = await this.dynamodb.send(new GetItemCommand({ TableName: this.tableName, Key: { id: { S: id } }, ConsistentRead: true }));
    return res.Item ? fromItem(res.Item) : undefined;
  }

  /** Records of many jobs (100 per BatchGetItem); missing ids are absent from the map. */
  async getMany(ids: readonly string[]): Promise<Map<string, JobRecord>> {
    const found = new Map<string, JobRecord>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Item[] = unique.slice(i, i + 100).map((id) => ({ id: { S: id } }));
      for (let round = 0; keys.length > 0; round += 1) {
        if (round > 8) throw new Error(`DynamoDB kept ${keys.length} keys unprocessed`);
        if (round > 0) await sleep(50 * 2 ** round);
        const res = await this.dynamodb.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of res.Responses?.[this.tableName] ?? []) {
          const record = fromItem(item);
          found.set(record.id, record);
        }
        keys = (res.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      }
    }
    return found;
  }

  /** Newest first; one state through the index, or every state by scanning. */
  async list(options: { state?: JobState; limit: number }): Promise<JobRecord[]> {
    const records: JobRecord[] = [];
    let start: Item | undefined;
    do {
      const res = options.state
        ? await this.dynamodb.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: STATE_INDEX,
              KeyConditionExpression: '#state = :state',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':state': { S: options.state } },
              ScanIndexForward: false,
              Limit: options.limit - records.length,
              ExclusiveStartKey: start,
            }),
          )
        : await this.dynamodb.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: start }));
      for (const item of res.Items ?? []) records.push(fromItem(item));
      start = res.LastEvaluatedKey;
    } while (start && (options.state === undefined || records.length < options.limit));
    records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return records.slice(0, options.limit);
  }

  /**
   * queued -> running (attempts + 1), also taking over a running job whose
   * lease expired (its worker died). Creates the record if a message arrives
   * without one. Refused for terminal jobs and for jobs another worker holds.
   */
  async claim(id: string, args: { worker: string; leaseUntil: number; digest: string; now?: number }): Promise<JobRecord> {
    const now = args.now ?? Date.now();
    const iso = new Date(now).toISOString();
    return this.transition('claim', {
      Key: { id: { S: id } },
      UpdateExpression:
        'SET #state = :running, attempts = if_not_exists(attempts, :zero) + :one, #worker = :worker, leaseUntil = :lease, startedAt = :iso, updatedAt = :iso, ' +
        'createdAt = if_not_exists(createdAt, :iso), workflowDigest = if_not_exists(workflowDigest, :digest) REMOVE promptId',
      ConditionExpression: 'attribute_not_exists(id) OR #state = :queued OR (#state = :running AND leaseUntil < :now)',
      ExpressionAttributeNames: { '#state': 'state', '#worker': 'worker' },
      ExpressionAttributeValues: {
        ':running': { S: 'running' },
        ':queued': { S: 'queued' },
        ':zero': { N: '0' },
        ':one': { N: '1' },
        ':worker': { S: args.worker },
        ':lease': { N: String(args.leaseUntil) },
        ':iso': { S: iso },
        ':now': { N: String(now) },
        ':digest': { S: args.digest },
      },
    });
  }

  /** Renews the lease of a running job this worker holds; the result tells whether a cancel was requested. */
  async heartbeat(id: string, args: { worker: string; leaseUntil: number; promptId?: string }): Promise<JobRecord> {
    return this.transition('heartbeat', {
      Key: { id: { S: id } },
      UpdateExpression: args.promptId ? 'SET leaseUntil = :lease, promptId = :prompt' : 'SET leaseUntil = :lease',
      ConditionExpression: '#state = :running AND #worker = :worker',
      ExpressionAttributeNames: { '#state': 'state', '#worker': 'worker' },
      ExpressionAttributeValues: {
        ':running': { S: 'running' },
        ':worker': { S: args.worker },
        ':lease': { N: String(args.leaseUntil) },
        ...(args.promptId ? { ':prompt': { S: args.promptId } } : {}),
      },
    });
  }

  /** running -> succeeded | failed | cancelled, only by the worker holding it (so a job is reported once). */
  async finish(
    id: string,
    args: { worker: string; state: 'succeeded' | 'failed' | 'cancelled'; outputKeys?: string[]; error?: string; errorKind?: JobErrorKind; promptId?: string; now?: number },
  ): Promise<JobRecord> {
    const iso = new Date(args.now ?? Date.now()).toISOString();
    const set = ['#state = :state', 'finishedAt = :iso', 'updatedAt = :iso'];
    const values: Item = { ':state': { S: args.state }, ':iso': { S: iso }, ':running': { S: 'running' }, ':worker': { S: args.worker } };
    if (args.outputKeys) {
      set.push('outputKeys = :keys');
      values[':keys'] = toAttribute(args.outputKeys) as AttributeValue;
    }
    if (args.error !== undefined) {
      set.push('#error = :error');
      values[':error'] = { S: truncate(args.error, 4000) };
    }
    if (args.errorKind) {
      set.push('errorKind = :kind');
      values[':kind'] = { S: args.errorKind };
    }
    if (args.promptId) {
      set.push('promptId = :prompt');
      values[':prompt'] = { S: args.promptId };
    }
    return this.transition('finish', {
      Key: { id: { S: id } },
      UpdateExpression: `SET ${set.join(', ')} REMOVE leaseUntil`,
      ConditionExpression: '#state = :running AND #worker = :worker',
      ExpressionAttributeNames: { '#state': 'state', '#worker': 'worker', ...(args.error !== undefined ? { '#error': 'error' } : {}) },
      ExpressionAttributeValues: values,
    });
  }

  /** running -> queued by the worker holding it: a transient failure to retry, or a hand-back on SIGTERM. The attempt stays counted. */
  async release(id: string, args: { worker: string; error: string; now?: number }): Promise<JobRecord> {
    const iso = new Date(args.now ?? Date.now()).toISOString();
    return this.transition('release', {
      Key: { id: { S: id } },
      UpdateExpression: 'SET #state = :queued, #error = :error, updatedAt = :iso REMOVE #worker, leaseUntil',
      ConditionExpression: '#state = :running AND #worker = :worker',
      ExpressionAttributeNames: { '#state': 'state', '#worker': 'worker', '#error': 'error' },
      ExpressionAttributeValues: { ':queued': { S: 'queued' }, ':running': { S: 'running' }, ':worker': { S: args.worker }, ':error': { S: truncate(args.error, 4000) }, ':iso': { S: iso } },
    });
  }

  /**
   * Cancels a job: a queued one becomes cancelled at once (a worker that
   * receives its message deletes it unrun); a running one gets
   * cancelRequested and its worker interrupts it at the next heartbeat.
   */
  async cancel(id: string, now = Date.now()): Promise<CancelOutcome> {
    const iso = new Date(now).toISOString();
    try {
      await this.transition('cancel', {
        Key: { id: { S: id } },
        UpdateExpression: 'SET #state = :cancelled, finishedAt = :iso, updatedAt = :iso',
        ConditionExpression: '#state = :queued',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':cancelled': { S: 'cancelled' }, ':queued': { S: 'queued' }, ':iso': { S: iso } },
      });
      return 'cancelled';
    } catch (err) {
      if (!(err instanceof TransitionRefused)) throw err;
      if (!err.current) return 'missing';
      if (err.current.state !== 'running') return `already-${err.current.state}`;
    }
    try {
      await this.transition('cancel', {
        Key: { id: { S: id } },
        UpdateExpression: 'SET cancelRequested = :true, updatedAt = :iso',
        ConditionExpression: '#state = :running',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':true': { BOOL: true }, ':running': { S: 'running' }, ':iso': { S: iso } },
      });
      return 'requested';
    } catch (err) {
      if (!(err instanceof TransitionRefused)) throw err;
      // It finished (or was handed back) in between: try again from the top once.
      if (err.current?.state === 'queued') return this.cancel(id, now);
      return err.current ? `already-${err.current.state}` : 'missing';
    }
  }

  private async transition(name: string, input: Omit<ConstructorParameters<typeof UpdateItemCommand>[0], 'TableName'>): Promise<JobRecord> {
    try {
      const res = await this.dynamodb.send(new UpdateItemCommand({ TableName: this.tableName, ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...input }));
      return fromItem(res.Attributes ?? {});
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') {
        const old = (err as ConditionalCheckFailedException).Item;
        // Servers that do not return the old item (older emulators) get a consistent read instead.
        const current = old && Object.keys(old).length > 0 ? fromItem(old) : await this.get(String(input.Key?.id?.S));
        throw new TransitionRefused(name, current);
      }
      throw err;
    }
  }
}

/** True when the record can never change again. */
export function isTerminal(record: JobRecord | undefined): boolean {
  return record !== undefined && TERMINAL_STATES.includes(record.state);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
