/**
 * The AWS side of batch jobs: where the queue, table, bucket and event bus
 * are, the SDK clients (credentials from the usual chain), a per-command call
 * counter (the worker's "AWS calls per job" figure) and the mapping of SDK
 * failures onto the client's exit-code classes.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { existsSync, readFileSync } from 'fs';
import { resolve } from 'path';
import { performance } from 'perf_hooks';
import { AuthError, ComfyError, ServerError, UnreachableError, UsageError } from '../errors';
import { DEFAULT_OUTPUTS_FILE } from '../endpoint';

/** Where the jobs resources are (the jobs stack's `jobs_client` output). */
export interface JobsSettings {
  /** Region of every jobs resource. */
  readonly region: string;
  /** URL of the jobs queue. */
  readonly queueUrl: string;
  /** URL of its dead-letter queue (the worker moves exhausted jobs there). */
  readonly deadLetterQueueUrl?: string;
  /** DynamoDB table of job records. */
  readonly tableName: string;
  /** Outputs bucket (job outputs, large workflows). */
  readonly outputsBucket: string;
  /** Key prefix of the outputs mount inside the bucket ('' or ending in '/'). */
  readonly outputsPrefix: string;
  /** EventBridge bus receiving job completion events. */
  readonly eventBusName?: string;
}

/** The output of the jobs stack the client reads from a deployment outputs file. */
export const JOBS_OUTPUT_NAME = 'jobs_client';

/** Environment variables overriding (or replacing) the outputs file. */
export const JOBS_ENV = {
  queueUrl: 'COMFY_JOBS_QUEUE_URL',
  tableName: 'COMFY_JOBS_TABLE',
  outputsBucket: 'COMFY_JOBS_BUCKET',
  outputsPrefix: 'COMFY_JOBS_OUTPUTS_PREFIX',
} as const;

/**
 * Resolves the settings: COMFY_JOBS_* variables win, else the `jobs_client`
 * output of the outputs file (--outputs, COMFY_OUTPUTS_FILE, ./cdktf-outputs.json).
 */
export function resolveJobsSettings(input: { outputsFile?: string; env: Record<string, string | undefined>; cwd: string }): JobsSettings {
  const { env } = input;
  const explicit = input.outputsFile ?? env.COMFY_OUTPUTS_FILE;
  const file = resolve(input.cwd, explicit ?? DEFAULT_OUTPUTS_FILE);
  let fromFile: Partial<JobsSettings> = {};
  if (explicit !== undefined || existsSync(file)) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read the outputs file ${file}: ${(err as Error).message}`);
    }
    fromFile = findJobsOutput(doc) ?? {};
  }
  const queueUrl = env[JOBS_ENV.queueUrl] || fromFile.queueUrl;
  const tableName = env[JOBS_ENV.tableName] || fromFile.tableName;
  const outputsBucket = env[JOBS_ENV.outputsBucket] || fromFile.outputsBucket;
  const missing = [
    ['queue URL', JOBS_ENV.queueUrl, queueUrl],
    ['table', JOBS_ENV.tableName, tableName],
    ['outputs bucket', JOBS_ENV.outputsBucket, outputsBucket],
  ].filter(([, , v]) => !v);
  if (missing.length > 0) {
    throw new UsageError(
      `no jobs ${missing.map(([what, name]) => `${what} (${name})`).join(', ')}`,
      `Run \`cdktf output --outputs-file ${DEFAULT_OUTPUTS_FILE}\` in the project directory (the jobs stack's ${JOBS_OUTPUT_NAME} output), pass --outputs FILE, or set the variables.`,
    );
  }
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || fromFile.region || regionOfQueueUrl(queueUrl as string);
  if (!region) throw new UsageError('no AWS region: set AWS_REGION');
  const outputsPrefix = env[JOBS_ENV.outputsPrefix] ?? fromFile.outputsPrefix ?? '';
  if (outputsPrefix !== '' && !/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/.test(outputsPrefix)) {
    throw new UsageError(`${JOBS_ENV.outputsPrefix} must be empty or a key prefix ending in "/", got "${outputsPrefix}"`);
  }
  return {
    region,
    queueUrl: queueUrl as string,
    deadLetterQueueUrl: fromFile.deadLetterQueueUrl,
    tableName: tableName as string,
    outputsBucket: outputsBucket as string,
    outputsPrefix,
    eventBusName: fromFile.eventBusName,
  };
}

function regionOfQueueUrl(url: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1];
}

function findJobsOutput(doc: unknown, depth = 0): Partial<JobsSettings> | undefined {
  if (depth > 4 || typeof doc !== 'object' || doc === null) return undefined;
  for (const [key, value] of Object.entries(doc)) {
    if (key === JOBS_OUTPUT_NAME) {
      const v = typeof value === 'object' && value !== null && 'value' in value ? (value as { value: unknown }).value : value;
      if (typeof v === 'object' && v !== null) return v as Partial<JobsSettings>;
    }
    const nested = findJobsOutput(value, depth + 1);
    if (nested) return nested;
  }
  return undefined;
}

/** SDK clients of the jobs path, counting every call by command name. */
export class JobsAws {
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly events: EventBridgeClient;
  readonly cloudwatch: CloudWatchClient;
  /** Command name -> calls made (including SDK retries' first attempt only). */
  readonly calls = new Map<string, number>();
  /** Wall-clock milliseconds with at least one AWS call in flight (parallel calls count once): the service's share of a job's time. */
  get awsMs(): number {
    return this.busyMs + (this.inFlight > 0 ? performance.now() - this.busySince : 0);
  }
  private busyMs = 0;
  private busySince = 0;
  private inFlight = 0;

  constructor(options: { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }; maxAttempts?: number }) {
    const common = { region: options.region, endpoint: options.endpoint, credentials: options.credentials, maxAttempts: options.maxAttempts ?? 3 };
    this.sqs = new SQSClient(common);
    this.dynamodb = new DynamoDBClient(common);
    this.s3 = new S3Client({ ...common, forcePathStyle: options.endpoint !== undefined });
    this.events = new EventBridgeClient(common);
    this.cloudwatch = new CloudWatchClient(common);
    for (const client of [this.sqs, this.dynamodb, this.s3, this.events, this.cloudwatch]) {
      // The middleware stacks are typed per client; the counter only reads the command name.
      (client.middlewareStack as { add: (m: unknown, o: unknown) => void }).add(
        (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
          const name = context.commandName ?? 'unknown';
          this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
          if (this.inFlight++ === 0) this.busySince = performance.now();
          try {
            return await next(args);
          } finally {
            if (--this.inFlight === 0) this.busyMs += performance.now() - this.busySince;
          }
        },
        { step: 'initialize', name: 'jobsCallCounter' },
      );
    }
  }

  /** Total calls so far. */
  get totalCalls(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  destroy(): void {
    for (const client of [this.sqs, this.dynamodb, this.s3, this.events, this.cloudwatch]) client.destroy();
  }
}

const AUTH_ERRORS = new Set(['AccessDenied', 'AccessDeniedException', 'UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'CredentialsProviderError', 'KMS.AccessDeniedException']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'TimeoutError']);

/** Maps an SDK failure onto the client's classes (exit codes 3 unreachable, 4 auth, 9 server). */
export function awsError(err: unknown, what: string): ComfyError {
  if (err instanceof ComfyError) return err;
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? '';
  const message = `${what}: ${name ? `${name}: ` : ''}${e.message ?? String(err)}`;
  if (AUTH_ERRORS.has(name) || /Could not load credentials/i.test(e.message ?? '')) {
    return new AuthError(message, e.$metadata?.httpStatusCode ?? 403, 'Check your AWS credentials (AWS_PROFILE, aws sso login) and that your role has the jobs client policy (docs/jobs.md).');
  }
  // The SDK wraps socket errors ("AWS SDK error wrapper for Error: connect ECONNREFUSED ...").
  if (NETWORK_CODES.has(e.code ?? '') || NETWORK_CODES.has(name) || /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH)\b|socket hang up/.test(e.message ?? '')) {
    return new UnreachableError(message, err);
  }
  return new ServerError(message, e.$metadata?.httpStatusCode);
}
