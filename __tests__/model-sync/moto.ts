/**
 * A moto server for one test file: started on 127.0.0.1 on a free port,
 * awaited until it answers, reset between scenarios, stopped afterwards.
 */
import { ChildProcess, spawn } from 'child_process';
import { existsSync } from 'fs';
import { createServer } from 'net';
import { dirname, join, resolve } from 'path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { Message, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { SQSRecord } from 'aws-lambda';
import { DEFAULT_MODEL_EXTENSIONS } from '../../lambdas/model-sync/keys';

/** moto_server of the project's tool venv, found from this file (sources) or a bundle of it (.build/). */
function findMotoServer(): string {
  const relative = '.tools/venv/bin/moto_server';
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    if (dirname(dir) === dir) return resolve(relative);
  }
}

export const MOTO_SERVER = process.env.MOTO_SERVER ?? findMotoServer();

/** Credentials and region moto accepts; never real ones. */
export const MOTO_ENV = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: 'testing',
  AWS_REGION: 'us-west-2',
  AWS_DEFAULT_REGION: 'us-west-2',
  AWS_EC2_METADATA_DISABLED: 'true',
} as const;

/** A TCP port free on 127.0.0.1 right now (for servers the tests start themselves). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface Moto {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** Clears every backend (between scenarios). */
  reset(): Promise<void>;
  /** Stops the server. */
  stop(): Promise<void>;
  /** The tail of moto's log (its request lines and tracebacks), for diagnosing a failed call. */
  recentLog(): string;
}

export async function startMoto(timeoutMs = 30_000): Promise<Moto> {
  if (!existsSync(MOTO_SERVER)) throw new Error(`moto_server not found at ${MOTO_SERVER}: run scripts/install-tools.sh python`);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...MOTO_ENV } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-16000)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    reset: async () => {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
    recentLog: () => stderr,
  };
}

/** What one scenario of the model-sync Lambda runs against: bucket, document, GPU node tag, log group. */
export interface ModelSyncScenario {
  readonly bucket: string;
  readonly prefixes: readonly string[];
  /** File extensions (default: DEFAULT_MODEL_EXTENSIONS). */
  readonly extensions?: readonly string[];
  readonly document: string;
  readonly cluster: string;
  readonly commandLogGroup: string;
}

/** The Lambda's environment (as the model-sync stack sets it) with its SDK clients pointed at moto. */
export function modelSyncLambdaEnv(moto: Moto, scenario: ModelSyncScenario): Record<string, string> {
  return {
    ...MOTO_ENV,
    AWS_ENDPOINT_URL: moto.endpoint,
    MODELS_BUCKET: scenario.bucket,
    MODEL_PREFIXES: scenario.prefixes.join(','),
    MODEL_EXTENSIONS: (scenario.extensions ?? DEFAULT_MODEL_EXTENSIONS).join(','),
    SYNC_DOCUMENT_NAME: scenario.document,
    TARGET_TAG_KEY: 'comfyui-model-sync',
    TARGET_TAG_VALUE: scenario.cluster,
    COMMAND_LOG_GROUP: scenario.commandLogGroup,
    COMMAND_MAX_CONCURRENCY: '100%',
    COMMAND_MAX_ERRORS: '25%',
    COMMAND_DELIVERY_TIMEOUT_SECONDS: '600',
    DISPATCH_CONCURRENCY: '5',
  };
}

/** SDK clients for setting up and inspecting a scenario in moto. */
export function motoClients(moto: Moto): { s3: S3Client; sqs: SQSClient; ec2: EC2Client; ssm: SSMClient } {
  const common = { endpoint: moto.endpoint, region: MOTO_ENV.AWS_REGION, credentials: { accessKeyId: MOTO_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: MOTO_ENV.AWS_SECRET_ACCESS_KEY } };
  return { s3: new S3Client({ ...common, forcePathStyle: true }), sqs: new SQSClient(common), ec2: new EC2Client(common), ssm: new SSMClient(common) };
}

/** An SQS message as Lambda's SQS poller hands it to the function (the tests play that poller). */
export function sqsRecord(message: Message, queueArn: string): SQSRecord {
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body!,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'moto', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody!,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3],
  };
}
