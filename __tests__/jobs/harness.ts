/**
 * The jobs path against moto (SQS, DynamoDB, S3, EventBridge on 127.0.0.1)
 * and the fake ComfyUI: one scenario = fresh queue + DLQ, table, bucket and
 * event bus (whose events a rule forwards to a capture queue), plus workers
 * each with their own fake ComfyUI (a pod each).
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { resolve } from 'path';
import { JobsAws, JobsSettings } from '../../cli/comfy/jobs/aws';
import { JOB_EVENT_SOURCE, JobsWorker, JobsWorkerOptions } from '../../cli/comfy/jobs/worker';
import { JobStore, STATE_INDEX } from '../../cli/comfy/jobs/store';
import { loadWorkflow } from '../../cli/comfy/workflow';
import { FakeComfyUI, FakeComfyOptions } from '../client/fake-comfyui';
import { MOTO_ENV, Moto } from '../model-sync/moto';

export const SDXL = loadWorkflow(resolve(__dirname, '../../examples/workflows/sdxl-text-to-image.json'));

export interface Scenario {
  readonly aws: JobsAws;
  readonly settings: JobsSettings & { deadLetterQueueUrl: string; eventBusName: string };
  readonly store: JobStore;
  /** Events the bus delivered so far (drained from the capture queue). */
  events(): Promise<{ 'detail-type': string; source: string; detail: Record<string, unknown> }[]>;
  /** Messages waiting in the DLQ (received and deleted). */
  deadLetters(): Promise<{ body: string; failure?: string }[]>;
  /** Visible + in-flight messages of the jobs queue. */
  backlog(): Promise<number>;
}

let counter = 0;

export function motoAws(moto: Moto): JobsAws {
  return new JobsAws({ region: MOTO_ENV.AWS_REGION, endpoint: moto.endpoint, credentials: { accessKeyId: MOTO_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: MOTO_ENV.AWS_SECRET_ACCESS_KEY }, maxAttempts: 1 });
}

export async function createScenario(moto: Moto, options: { outputsPrefix?: string; maxReceiveCount?: number } = {}): Promise<Scenario> {
  counter += 1;
  const name = `jobs-${process.pid}-${counter}`;
  const aws = motoAws(moto);
  const dlq = await aws.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = `arn:aws:sqs:${MOTO_ENV.AWS_REGION}:123456789012:${name}-dlq`;
  const queue = await aws.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: { VisibilityTimeout: '30', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount ?? 10 }) },
    }),
  );
  await aws.dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'state', AttributeType: 'S' },
        { AttributeName: 'createdAt', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        { IndexName: STATE_INDEX, KeySchema: [{ AttributeName: 'state', KeyType: 'HASH' }, { AttributeName: 'createdAt', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } },
      ],
    }),
  );
  await aws.s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: MOTO_ENV.AWS_REGION } }));
  await aws.events.send(new CreateEventBusCommand({ Name: name }));
  const capture = await aws.sqs.send(new CreateQueueCommand({ QueueName: `${name}-events` }));
  await aws.events.send(new PutRuleCommand({ Name: `${name}-all`, EventBusName: name, EventPattern: JSON.stringify({ source: [JOB_EVENT_SOURCE] }) }));
  await aws.events.send(
    new PutTargetsCommand({ Rule: `${name}-all`, EventBusName: name, Targets: [{ Id: 'capture', Arn: `arn:aws:sqs:${MOTO_ENV.AWS_REGION}:123456789012:${name}-events` }] }),
  );

  const settings = {
    region: MOTO_ENV.AWS_REGION,
    queueUrl: queue.QueueUrl as string,
    deadLetterQueueUrl: dlq.QueueUrl as string,
    tableName: name,
    outputsBucket: name,
    outputsPrefix: options.outputsPrefix ?? '',
    eventBusName: name,
  };
  const captured: { 'detail-type': string; source: string; detail: Record<string, unknown> }[] = [];
  const drain = async (url: string, withAttributes = false) => {
    const out: { body: string; failure?: string }[] = [];
    for (;;) {
      const res = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: withAttributes ? ['All'] : undefined }));
      if (!res.Messages?.length) return out;
      for (const m of res.Messages) {
        out.push({ body: m.Body ?? '', failure: m.MessageAttributes?.failure?.StringValue });
        await aws.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      }
    }
  };
  const deadLetters: { body: string; failure?: string }[] = [];
  return {
    aws,
    settings,
    store: new JobStore(aws.dynamodb, name),
    events: async () => {
      for (const m of await drain(capture.QueueUrl as string)) captured.push(JSON.parse(m.body));
      return captured;
    },
    deadLetters: async () => {
      deadLetters.push(...(await drain(dlq.QueueUrl as string, true)));
      return deadLetters;
    },
    backlog: async () => {
      const res = await aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
      );
      const a = res.Attributes ?? {};
      return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
    },
  };
}

/** A pod: a fake ComfyUI and a worker talking to it, with test-sized timings. */
export interface Pod {
  readonly fake: FakeComfyUI;
  readonly worker: JobsWorker;
  readonly aws: JobsAws;
  readonly logs: Record<string, unknown>[];
  readonly done: Promise<void>;
}

export async function startPod(moto: Moto, scenario: Scenario, name: string, options: { fake?: FakeComfyOptions; worker?: Partial<JobsWorkerOptions> } = {}): Promise<Pod> {
  const fake = new FakeComfyUI(options.fake);
  const url = await fake.start();
  const aws = motoAws(moto);
  const logs: Record<string, unknown>[] = [];
  const worker = new JobsWorker({
    aws,
    ...scenario.settings,
    clusterName: 'test-cluster',
    comfyUrl: url,
    workerId: name,
    visibilityMs: 4_000,
    heartbeatMs: 1_000,
    handBackAfterMs: 200,
    receiveWaitSeconds: 1,
    busyPollMs: 50,
    retryDelayMs: 0,
    comfyPollMs: 100,
    log: (entry) => logs.push(entry),
    ...options.worker,
  });
  const done = worker.start();
  return { fake, worker, aws, logs, done };
}

export async function stopPod(pod: Pod): Promise<void> {
  await pod.worker.stop();
  await pod.done;
  await pod.fake.stop();
  pod.aws.destroy();
}

/** Waits until `check` returns a truthy value. */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Plays the Mountpoint for S3 volume: copies every output of the pod's
 * finished jobs from the fake ComfyUI (GET /view) to the scenario's bucket
 * at the key the worker recorded, as the real mount does when ComfyUI
 * closes the file.
 */
export async function mirrorOutputs(p: Pod, scenario: Scenario, ids: readonly string[]): Promise<number> {
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const records = await scenario.store.getMany(ids);
  let copied = 0;
  for (const record of records.values()) {
    for (const key of record.outputKeys ?? []) {
      const relative = key.slice(scenario.settings.outputsPrefix.length);
      const slash = relative.lastIndexOf('/');
      const query = new URLSearchParams({ filename: relative.slice(slash + 1), subfolder: relative.slice(0, slash), type: 'output' });
      const res = await fetch(`${p.fake.url}/view?${query}`);
      if (!res.ok) continue;
      await scenario.aws.s3.send(new PutObjectCommand({ Bucket: scenario.settings.outputsBucket, Key: key, Body: Buffer.from(await res.arrayBuffer()) }));
      copied += 1;
    }
  }
  return copied;
}

/** The environment `npm run comfy -- submit/jobs` gets in the CLI tests (moto endpoint, jobs resources). */
export function cliEnv(moto: Moto, scenario: Scenario): Record<string, string> {
  return {
    ...MOTO_ENV,
    AWS_ENDPOINT_URL: moto.endpoint,
    COMFY_JOBS_QUEUE_URL: scenario.settings.queueUrl,
    COMFY_JOBS_TABLE: scenario.settings.tableName,
    COMFY_JOBS_BUCKET: scenario.settings.outputsBucket,
    COMFY_JOBS_OUTPUTS_PREFIX: scenario.settings.outputsPrefix,
  };
}
