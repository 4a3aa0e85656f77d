/**
 * Queues jobs: every workflow is prepared and checked first (API format,
 * --set, --seed, size), so a bad flag queues nothing; then the records are
 * written (BatchWriteItem, 25 a call) BEFORE the messages are sent
 * (SendMessageBatch, 10 a call), so a worker never receives a job the table
 * does not know. Workflows over the SQS limit go to the outputs bucket under
 * jobs/<id>/workflow.json and the message carries the key.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mapLimit } from '../client';
import { WorkflowError } from '../errors';
import { type ApiWorkflow, type Override, applyOverrides, applySeed } from '../workflow';
import type { JobsAws, JobsSettings } from './aws';
import { JobMessage, MAX_INLINE_WORKFLOW_BYTES, MAX_WORKFLOW_BYTES, encodeJobMessage, newJobId, workflowDigest, workflowObjectKey } from './model';
import { JobStore } from './store';

/** One job ready to queue. */
export interface PreparedJob {
  readonly id: string;
  readonly seed?: number;
  readonly digest: string;
  /** The serialized workflow. */
  readonly json: string;
  /** Set when the workflow goes through S3. */
  readonly workflowKey?: string;
}

/** Applies seeds and overrides to `count` copies and checks sizes; throws before anything is queued. */
export function prepareJobs(workflow: ApiWorkflow, options: { count: number; seed?: 'random' | number; overrides: readonly Override[]; outputsPrefix: string; randomSeed: () => number }): PreparedJob[] {
  const jobs: PreparedJob[] = [];
  for (let i = 0; i < options.count; i += 1) {
    const seed = options.seed === 'random' ? options.randomSeed() : options.seed === undefined ? undefined : options.seed + i;
    const prepared = applyOverrides(seed === undefined ? workflow : applySeed(workflow, seed), options.overrides);
    const json = JSON.stringify(prepared);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > MAX_WORKFLOW_BYTES) throw new WorkflowError(`the workflow is ${bytes} bytes; jobs accept at most ${MAX_WORKFLOW_BYTES} (32 MiB)`);
    const id = newJobId();
    jobs.push({ id, seed, digest: workflowDigest(json), json, workflowKey: bytes > MAX_INLINE_WORKFLOW_BYTES ? workflowObjectKey(options.outputsPrefix, id) : undefined });
  }
  return jobs;
}

/** Writes the records, uploads large workflows, sends the messages. Returns the ids in order. */
export async function queueJobs(aws: JobsAws, settings: JobsSettings, jobs: readonly PreparedJob[], options: { concurrency?: number } = {}): Promise<string[]> {
  const store = new JobStore(aws.dynamodb, settings.tableName);
  const concurrency = options.concurrency ?? 16;
  const large = jobs.filter((j) => j.workflowKey);
  await mapLimit(large, concurrency, async (j) => {
    await aws.s3.send(new PutObjectCommand({ Bucket: settings.outputsBucket, Key: j.workflowKey, Body: j.json, ContentType: 'application/json' }));
  });
  await mapLimit(chunks(jobs, 25), concurrency, (batch) => store.putQueued(batch.map((j) => ({ id: j.id, workflowDigest: j.digest, workflowKey: j.workflowKey, seed: j.seed }))));
  await mapLimit(chunks(jobs, 10), concurrency, async (batch) => {
    let entries = batch.map((j, i) => {
      const message: JobMessage = j.workflowKey
        ? { v: 1, jobId: j.id, digest: j.digest, workflowKey: j.workflowKey }
        : { v: 1, jobId: j.id, digest: j.digest, workflow: JSON.parse(j.json) as ApiWorkflow };
      return { Id: String(i), MessageBody: encodeJobMessage(message) };
    });
    for (let round = 0; entries.length > 0; round += 1) {
      const res = await aws.sqs.send(new SendMessageBatchCommand({ QueueUrl: settings.queueUrl, Entries: entries }));
      const failed = new Set((res.Failed ?? []).filter((f) => !f.SenderFault).map((f) => f.Id));
      const senderFault = (res.Failed ?? []).find((f) => f.SenderFault);
      if (senderFault) throw new Error(`SQS refused a job message: ${senderFault.Code}: ${senderFault.Message}`);
      entries = entries.filter((e) => failed.has(e.Id));
      if (entries.length > 0) {
        if (round >= 5) throw new Error(`SQS kept failing ${entries.length} job message(s)`);
        await new Promise((r) => setTimeout(r, 100 * 2 ** round));
      }
    }
  });
  return jobs.map((j) => j.id);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
