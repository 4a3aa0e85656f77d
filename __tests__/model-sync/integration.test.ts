/**
 * End to end against a real moto server: a bucket notifies a queue, objects
 * are put and deleted, the messages moto produced are fed to the deployed
 * handler (its SDK clients pointed at moto by AWS_ENDPOINT_URL), and the SendCommand calls moto
 * recorded are checked, for 0, 1 and 120 tagged GPU nodes. The handler is
 * the deployed bundle, so tree-shaking and the bundled SDK are tested too.
 */
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Command, CreateDocumentCommand, ListCommandsCommand } from '@aws-sdk/client-ssm';
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { bundleLambda } from '../../constructs/models/lambda-bundle';
import { MODEL_SYNC_ENTRY, MODEL_SYNC_RUNTIME } from '../../constructs/models/model-sync-function';
import { modelSyncDocumentContent } from '../../constructs/models/model-sync-document';
import { decodeS3EventKey, DEFAULT_MODEL_EXTENSIONS } from '../../lambdas/model-sync/keys';
import { modelSyncLambdaEnv, Moto, motoClients, sqsRecord, startMoto } from './moto';

const BUCKET = 'comfyui-dev-models-123456789012-us-west-2';
const DOCUMENT = 'comfyui-dev-model-sync';
const CLUSTER = 'comfyui-dev';
const PREFIXES = ['checkpoints', 'loras', 'vae', 'clip'];

// The artifact that is deployed: the esbuild bundle (SDK included), not the TypeScript sources,
// run by a plain Node.js process as Lambda would (jest's VM cannot run the SDK's lazy `import("node:http")`).
const bundle = bundleLambda({ entry: MODEL_SYNC_ENTRY, target: MODEL_SYNC_RUNTIME.esbuildTarget });
const RUNNER = `
const { handler } = require(${JSON.stringify(join(bundle.directory, 'index.js'))});
const event = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const context = { awsRequestId: 'integration', getRemainingTimeInMillis: () => 60000 };
handler(event, context).then((r) => require('fs').writeFileSync(process.env.RESPONSE_FILE, JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });
`;
const workDir = mkdtempSync(join(tmpdir(), 'model-sync-it-'));

/** Invokes the bundled handler in a fresh Node.js process; its JSON log lines are collected. */
function invokeBundle(event: SQSEvent, env: Record<string, string>): SQSBatchResponse {
  const responseFile = join(workDir, 'response.json');
  const run = spawnSync(process.execPath, ['-e', RUNNER], { input: JSON.stringify(event), env: { PATH: process.env.PATH ?? '', ...env, RESPONSE_FILE: responseFile }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`bundled handler failed (${run.status}): ${run.stderr}`);
  for (const line of run.stdout.split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
  return JSON.parse(readFileSync(responseFile, 'utf8')) as SQSBatchResponse;
}

let moto: Moto;
let clients: ReturnType<typeof motoClients>;
const logLines: Record<string, unknown>[] = [];
let lambdaEnv: Record<string, string> = {};

beforeAll(async () => {
  moto = await startMoto();
  lambdaEnv = modelSyncLambdaEnv(moto, { bucket: BUCKET, prefixes: PREFIXES, document: DOCUMENT, cluster: CLUSTER, commandLogGroup: '/aws/ssm/comfyui-dev-model-sync' });
  clients = motoClients(moto);
});

afterAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await moto?.stop();
});

/** Fresh moto state: queue, bucket notifying it, document, `nodes` GPU nodes plus one of another cluster. */
async function setUp(nodes: number): Promise<string> {
  await moto.reset();
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: 'comfyui-dev-model-sync', Attributes: { VisibilityTimeout: '365' } }));
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
  await clients.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: BUCKET,
      NotificationConfiguration: { QueueConfigurations: [{ Id: 'model-sync', QueueArn: Attributes!.QueueArn, Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] }] },
    }),
  );
  await clients.ssm.send(
    new CreateDocumentCommand({
      Name: DOCUMENT,
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      Content: JSON.stringify(modelSyncDocumentContent({ prefixes: PREFIXES, extensions: DEFAULT_MODEL_EXTENSIONS, syncCommand: '/usr/local/bin/comfyui-model-sync', executionTimeoutSeconds: 3600 })),
    }),
  );
  const tagged = (value: string, count: number) =>
    clients.ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: 'g6.xlarge',
        MinCount: count,
        MaxCount: count,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'comfyui-model-sync', Value: value }] }],
      }),
    );
  if (nodes > 0) await tagged(CLUSTER, nodes);
  await tagged('another-cluster', 1);
  return QueueUrl!;
}

/** Every message moto put on the queue, as the SQS records Lambda would pass. */
async function drain(queueUrl: string): Promise<SQSRecord[]> {
  const records: SQSRecord[] = [];
  for (;;) {
    const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages?.length) return records;
    for (const m of Messages) {
      records.push(sqsRecord(m, 'arn:aws:sqs:us-west-2:123456789012:comfyui-dev-model-sync'));
    }
  }
}

const put = (Key: string) => clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: `weights of ${Key}` }));
const del = (Key: string) => clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }));

/** One round: changes to the bucket, then one handler invocation over everything the queue received. */
async function round(nodes: number): Promise<{ records: SQSRecord[]; failures: string[]; commands: Command[] }> {
  const queueUrl = await setUp(nodes);
  await put('checkpoints/my model (1).safetensors');
  await put('loras/a+b.safetensors');
  await put('vae/模型.safetensors');
  await put('checkpoints/$(reboot)`id`;x.pt');
  await put('checkpoints/');
  await put('README.md');
  await put('clip/removed later.safetensors');
  await del('clip/removed later.safetensors');
  const records = await drain(queueUrl);
  const event: SQSEvent = { Records: records };
  const response = invokeBundle(event, lambdaEnv);
  const { Commands } = await clients.ssm.send(new ListCommandsCommand({}));
  return { records, failures: response.batchItemFailures.map((f) => f.itemIdentifier), commands: Commands ?? [] };
}

describe('model sync against moto', () => {
  const results: Record<number, Awaited<ReturnType<typeof round>>> = {};

  it.each([0, 1, 120])('dispatches the bucket changes to %i tagged GPU nodes', async (nodes) => {
    const result = await round(nodes);
    results[nodes] = result;

    // The S3 test event, 7 puts and 1 delete reached the queue through moto.
    expect(result.records).toHaveLength(9);
    expect(result.records.some((r) => r.body.includes('s3:TestEvent'))).toBe(true);
    expect(result.failures).toEqual([]);

    // One command carries the whole batch: one line per key, `<action> <event time> <key>`.
    expect(result.commands).toHaveLength(1);
    const sent = result.commands.flatMap((c) => c.Parameters!.changes[0].split('\n')).map((line) => {
      const [action, time, ...key] = line.split(' ');
      expect(Number(time)).toBeGreaterThan(1_700_000_000);
      return [action, key.join(' ')];
    }).sort();
    expect(sent).toEqual([
      ['copy', 'checkpoints/$(reboot)`id`;x.pt'],
      ['copy', 'checkpoints/my model (1).safetensors'],
      ['copy', 'loras/a+b.safetensors'],
      ['copy', 'vae/模型.safetensors'],
      // Created then deleted in the same batch: one delete, resolved against the bucket (gone).
      ['delete', 'clip/removed later.safetensors'],
    ]);
    for (const c of result.commands) {
      expect(c.DocumentName).toBe(DOCUMENT);
      expect(c.Targets).toEqual([{ Key: 'tag:comfyui-model-sync', Values: [CLUSTER] }]);
      expect(c.MaxConcurrency).toBe('100%');
      expect(c.MaxErrors).toBe('25%');
      // moto resolves the tag target: this cluster's nodes only, never the other cluster's.
      expect(c.TargetCount).toBe(nodes);
      expect(c.InstanceIds).toHaveLength(nodes);
    }
  });

  it('makes the same number of SSM calls per batch whatever the number of nodes', () => {
    const calls = [0, 1, 120].map((n) => results[n].commands.length);
    // One per batch (it was one per key, 5 here, before issue 15).
    expect(calls).toEqual([1, 1, 1]);
    // The reference sends one InstanceIds call per 50 nodes per key: 0, 5 and 15 calls here.
    const reference = [0, 1, 120].map((n) => 5 * Math.ceil(n / 50));
    expect(reference).toEqual([0, 5, 15]);
  });

  it('logged why keys were skipped', () => {
    // Raw as in the event (moto, like S3, URL-encodes keys), so decode for the comparison.
    const ignored = logLines.filter((l) => l.msg === 'key ignored').map((l) => decodeS3EventKey(String(l.rawKey)));
    expect(ignored).toEqual(['checkpoints/', 'README.md', 'checkpoints/', 'README.md', 'checkpoints/', 'README.md']);
    expect(logLines.filter((l) => l.msg === 'batch done')).toHaveLength(3);
  });
});
