/**
 * The batch jobs model shared by the `submit`/`jobs` commands and the worker:
 * job states and records, the queue message, the workflow digest, and where
 * a job's outputs land (`jobs/<job-id>/` in the outputs bucket, through
 * ComfyUI's S3-mounted output directory).
 */
import { createHash, randomUUID } from 'crypto';
import type { OutputFile } from '../types';
import type { ApiWorkflow } from '../workflow';

/** Lifecycle: queued -> running -> succeeded | failed | cancelled (running -> queued on retry or hand-back). */
export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
/** States a job never leaves. */
export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/**
 * Why a job failed, which also picks the exit code of `jobs wait` (the same
 * classes as `run`): rejected (ComfyUI refused the workflow: invalid, missing
 * model), execution (it failed while running), exhausted (maxAttempts
 * transient failures, then the DLQ), invalid (the message itself was unusable).
 */
export const ERROR_KINDS = ['rejected', 'execution', 'exhausted', 'invalid'] as const;
export type JobErrorKind = (typeof ERROR_KINDS)[number];

/** One row of the jobs table. */
export interface JobRecord {
  readonly id: string;
  readonly state: JobState;
  /** Runs started (a hand-back on SIGTERM counts). */
  readonly attempts: number;
  /** ISO timestamps. */
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** `sha256:<hex>` of the workflow as submitted (after --set/--seed). */
  readonly workflowDigest: string;
  /** Outputs-bucket key of the workflow when it was too large for the message. */
  readonly workflowKey?: string;
  /** Seed set by --seed, when any. */
  readonly seed?: number;
  /** Outputs-bucket keys of the files the job produced. */
  readonly outputKeys?: string[];
  /** ComfyUI's message (or the transient failure) of the last failed attempt. */
  readonly error?: string;
  readonly errorKind?: JobErrorKind;
  /** Worker (pod) holding the job while it runs. */
  readonly worker?: string;
  /** Epoch ms until which the running worker holds the job (renewed with the message's visibility). */
  readonly leaseUntil?: number;
  /** `jobs cancel` on a running job: the worker interrupts it at its next heartbeat. */
  readonly cancelRequested?: boolean;
  /** ComfyUI prompt id of the last attempt. */
  readonly promptId?: string;
}

/** The SQS message of a job. Everything else about the job is in the table. */
export interface JobMessage {
  readonly v: 1;
  readonly jobId: string;
  readonly digest: string;
  /** The workflow, inline when it fits in the message ... */
  readonly workflow?: ApiWorkflow;
  /** ... or its outputs-bucket key. */
  readonly workflowKey?: string;
}

/** Global secondary index of the jobs table on (state, createdAt), for `jobs list --state`. */
export const STATE_INDEX = 'by-state';
/** Job records expire (DynamoDB TTL attribute `expiresAt`) this long after creation. */
export const RECORD_TTL_DAYS = 30;

/** SQS caps a message at 256 KiB; keep room for the envelope. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** Workflows above this (serialized) travel through S3 with a pointer in the message. */
export const MAX_INLINE_WORKFLOW_BYTES = MAX_MESSAGE_BYTES - 1024;
/** Largest workflow accepted at all (also through S3). */
export const MAX_WORKFLOW_BYTES = 32 * 1024 * 1024;

/** Key prefix (relative to the outputs mount) of a job's outputs and large workflow. */
export function jobPrefix(jobId: string): string {
  return `jobs/${jobId}/`;
}

/** Outputs-bucket key of a large workflow. */
export function workflowObjectKey(outputsPrefix: string, jobId: string): string {
  return `${outputsPrefix}${jobPrefix(jobId)}workflow.json`;
}

/** A new job id: a UUID (collision-free, so queued records need no conditional write). */
export function newJobId(): string {
  return randomUUID();
}

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for ids newJobId() makes (the worker refuses anything else before touching paths). */
export function isJobId(text: string): boolean {
  return JOB_ID.test(text);
}

/** `sha256:<hex>` of the workflow's JSON text. */
export function workflowDigest(json: string): string {
  return `sha256:${createHash('sha256').update(json, 'utf8').digest('hex')}`;
}

/** Inputs of output nodes that name the saved file (SaveImage, SaveAnimatedWEBP, VHS_VideoCombine, ...). */
export const OUTPUT_PREFIX_INPUTS: readonly string[] = ['filename_prefix'];

/**
 * Returns a copy with every literal `filename_prefix` moved under
 * `jobs/<job-id>/`, keeping the file stem: `sdxl/t2i` becomes
 * `jobs/<id>/t2i`. ComfyUI then writes into that folder of its output
 * directory, which is the outputs bucket mounted through Mountpoint for S3.
 */
export function routeOutputs(workflow: ApiWorkflow, jobId: string): { workflow: ApiWorkflow; routed: number } {
  const copy = JSON.parse(JSON.stringify(workflow)) as ApiWorkflow;
  let routed = 0;
  for (const node of Object.values(copy)) {
    for (const input of OUTPUT_PREFIX_INPUTS) {
      const value = node.inputs[input];
      if (typeof value !== 'string') continue;
      const stem = value.split('/').filter((s) => s !== '' && s !== '.' && s !== '..').pop() || 'ComfyUI';
      node.inputs[input] = `${jobPrefix(jobId)}${stem}`;
      routed += 1;
    }
  }
  return { workflow: copy, routed };
}

/** Outputs-bucket keys of the saved (type `output`) files of a finished prompt. */
export function outputKeys(files: readonly OutputFile[], outputsPrefix: string): string[] {
  const keys = new Set<string>();
  for (const f of files) {
    if (f.type !== 'output') continue;
    const sub = f.subfolder.replace(/^\/+|\/+$/g, '');
    keys.add(`${outputsPrefix}${sub ? `${sub}/` : ''}${f.filename}`);
  }
  return [...keys];
}

/** Serializes a job message; the worker parses it with parseJobMessage. */
export function encodeJobMessage(message: JobMessage): string {
  return JSON.stringify(message);
}

/** Parses a queue message body; throws with the reason when it is not a job message. */
export function parseJobMessage(body: string): JobMessage {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new Error('message body is not JSON');
  }
  const m = doc as Partial<JobMessage> | null;
  if (typeof m !== 'object' || m === null || m.v !== 1) throw new Error('message is not a version 1 job message');
  if (typeof m.jobId !== 'string' || !isJobId(m.jobId)) throw new Error('message has no valid jobId');
  if (typeof m.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(m.digest)) throw new Error('message has no valid digest');
  const inline = typeof m.workflow === 'object' && m.workflow !== null && !Array.isArray(m.workflow);
  const pointer = typeof m.workflowKey === 'string' && m.workflowKey.endsWith(`${jobPrefix(m.jobId)}workflow.json`) && !m.workflowKey.includes('..');
  if (inline === pointer) throw new Error('message must carry either an inline workflow or the workflowKey of this job');
  return m as JobMessage;
}
