/**
 * AWS side of `make e2e`: every stack applied against moto on 127.0.0.1 as
 * far as moto implements it, the model-sync path driven through what was
 * deployed, then everything destroyed and checked gone.
 */
import { DeleteBucketPolicyCommand, DeleteObjectCommand, GetBucketNotificationConfigurationCommand, GetBucketPolicyCommand, ListBucketsCommand, ListObjectVersionsCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, ListQueuesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { MOTO_ENV, Moto, motoClients, startMoto } from '../../__tests__/model-sync/moto';
import { newGapMessage } from './gaps';
import { dependencyWaves, PreparedStack } from './stacks';
import { devProviderDir, errorBlocks, failedAddresses, stateResources, terraform, terraformEnv } from './terraform';

/** Per-stack result, for docs/verification.md. */
export interface StackApply {
  readonly name: string;
  readonly created: number;
  readonly planned: number;
  readonly gapSkipped: string[];
  readonly dependentSkipped: string[];
  readonly inCluster: number;
  readonly seconds: number;
}

/** Provider settings that point every service at moto, with few retries (a missing API fails fast). */
export function motoProviderOverride(endpoint: string, services: readonly string[]): Record<string, unknown> {
  const endpoints: Record<string, string> = {};
  for (const s of services) if (s !== 'meta') endpoints[s] = endpoint;
  return {
    provider: {
      aws: [
        {
          region: MOTO_ENV.AWS_REGION,
          access_key: MOTO_ENV.AWS_ACCESS_KEY_ID,
          secret_key: MOTO_ENV.AWS_SECRET_ACCESS_KEY,
          skip_credentials_validation: true,
          skip_metadata_api_check: 'true',
          skip_region_validation: true,
          // Without an account id the provider reads S3 bucket tags with GetBucketTagging instead of S3 Control,
          // whose <account>.<endpoint> host prefix cannot resolve for 127.0.0.1.
          skip_requesting_account_id: true,
          s3_use_path_style: true,
          // moto's threaded server answers an occasional 500 under parallel stacks (seen on SQS
          // GetQueueAttributes): a few retries ride those out; a missing API still fails in seconds.
          max_retries: 3,
          endpoints: [endpoints],
        },
      ],
    },
  };
}

function log(message: string): void {
  process.stdout.write(`[e2e aws] ${message}\n`);
}

/** Applies one prepared stack; throws with the new-gap instruction when a resource fails. */
async function applyStack(stack: PreparedStack, env: NodeJS.ProcessEnv): Promise<StackApply> {
  const started = Date.now();
  const result = await terraform(stack.dir, ['apply', '-auto-approve', '-input=false', '-no-color', '-parallelism=10'], env);
  if (result.code !== 0) {
    const blocks = errorBlocks(result.stderr);
    const messages = blocks.map((b) => {
      const [address] = failedAddresses(b);
      return address && !address.startsWith('data.terraform_remote_state.') ? newGapMessage(stack.name, address, b) : `terraform apply failed in ${stack.name}:\n${b}`;
    });
    throw new Error(messages.length > 0 ? messages.join('\n\n') : `terraform apply failed in ${stack.name}:\n${result.stderr.trim() || result.stdout.trim().split('\n').slice(-20).join('\n')}`);
  }
  const created = stateResources(join(stack.dir, 'terraform.tfstate'));
  const missing = stack.resources.filter((a) => !created.includes(a));
  if (missing.length > 0) throw new Error(`${stack.name}: terraform apply succeeded but the state lacks ${missing.join(', ')}`);
  return {
    name: stack.name,
    created: created.length,
    planned: stack.resources.length + stack.removed.filter((r) => !r.address.startsWith('data.') && !r.address.startsWith('output.')).length,
    gapSkipped: stack.removed.filter((r) => r.kind === 'gap').map((r) => r.address),
    dependentSkipped: stack.removed.filter((r) => r.kind === 'dependent' && !r.address.startsWith('data.') && !r.address.startsWith('output.')).map((r) => `${r.address} (references ${r.because})`),
    inCluster: stack.inCluster.length,
    seconds: (Date.now() - started) / 1000,
  };
}

interface StateResource {
  type: string;
  name: string;
  instances: { attributes: Record<string, any> }[];
}
function stateOf(stack: PreparedStack): StateResource[] {
  const file = join(stack.dir, 'terraform.tfstate');
  return existsSync(file) ? ((JSON.parse(readFileSync(file, 'utf8')) as { resources?: StateResource[] }).resources ?? []) : [];
}
function deployed(stacks: readonly PreparedStack[], type: string): Record<string, any>[] {
  return stacks.flatMap((s) => stateOf(s).filter((r) => r.type === type && (r as unknown as { mode: string }).mode === 'managed')).flatMap((r) => r.instances.map((i) => i.attributes));
}

/** A call to moto's Lambda API (moto routes by the credential scope; it does not check signatures). */
async function motoLambda(moto: Moto, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${moto.endpoint}/2015-03-31/${path}`, {
    method,
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=${MOTO_ENV.AWS_ACCESS_KEY_ID}/20260101/${MOTO_ENV.AWS_REGION}/lambda/aws4_request, SignedHeaders=host, Signature=0`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`Lambda ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}

/** The deployed function's environment, as Lambda's GetFunctionConfiguration returns it. */
async function deployedFunctionEnvironment(moto: Moto, name: string): Promise<Record<string, string>> {
  const config = (await motoLambda(moto, 'GET', `functions/${encodeURIComponent(name)}/configuration`)) as { Environment?: { Variables?: Record<string, string> } };
  return { ...(config.Environment?.Variables ?? {}) };
}

/**
 * The deployed SQS event source mapping must connect the queue to the function; then it is
 * disabled in moto, because the test plays Lambda's poller itself: moto's own poller would
 * take the message off the queue inside the S3 PutObject call and run the function in Docker,
 * which these machines do not have (PutObject then fails with a 500 the SDK reports as UnknownError).
 */
async function takeOverEventSourceMapping(moto: Moto, mapping: Record<string, any>, queueArn: string, functionName: string): Promise<void> {
  const live = await motoLambda(moto, 'GET', `event-source-mappings/${String(mapping.uuid)}`);
  if (live.EventSourceArn !== queueArn || !String(live.FunctionArn).endsWith(`:function:${functionName}`)) {
    throw new Error(`the event source mapping ${String(mapping.uuid)} connects ${String(live.EventSourceArn)} to ${String(live.FunctionArn)}, not ${queueArn} to ${functionName}`);
  }
  await motoLambda(moto, 'PUT', `event-source-mappings/${String(mapping.uuid)}`, { Enabled: false });
}

/** Runs one step of the model-sync drive; a failure names the step, the SDK error's HTTP status and moto's recent log. */
async function step<T>(moto: Moto, name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number }; $response?: { body?: unknown } };
    const status = e.$metadata?.httpStatusCode;
    const log = moto.recentLog().split('\n').slice(-40).join('\n');
    throw new Error(`model sync, ${name}: ${e.name}: ${e.message}${status ? ` (HTTP ${status})` : ''}\nmoto's recent log:\n${log}`);
  }
}

/**
 * moto enforces bucket-policy statements with Principal "*" but ignores their conditions
 * (its put_bucket_policy docs), so the bucket's conditional Deny (aws:SecureTransport false)
 * denies every request, HTTPS or not. The conditional statements are set aside while `run`
 * drives the path and the deployed policy is put back afterwards, as Terraform left it.
 */
async function withConditionalStatementsAside<T>(s3: S3Client, bucket: string, run: () => Promise<T>): Promise<T> {
  const { Policy } = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
  const policy = JSON.parse(Policy ?? '{}') as { Statement?: { Condition?: unknown }[] };
  const unconditional = (policy.Statement ?? []).filter((st) => st.Condition === undefined);
  if (unconditional.length > 0) await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ ...policy, Statement: unconditional }) }));
  else await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
  try {
    return await run();
  } finally {
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: Policy! }));
  }
}

/**
 * The model-sync path through what was deployed: a model uploaded to the
 * deployed models bucket, the S3 notification read off the deployed queue,
 * the stack's bundled Lambda handler run on it with the deployed function's
 * environment, and the SendCommand it issued checked against the deployed document.
 */
export async function driveModelSync(moto: Moto, stacks: readonly PreparedStack[]): Promise<string> {
  const clients = motoClients(moto);
  // The chain as deployed: the bucket's queue notification -> the mapping reading that queue -> its function -> the SSM document.
  const notification = deployed(stacks, 'aws_s3_bucket_notification').find((n) => Array.isArray(n.queue) && n.queue.length > 0);
  const queueArn = String(notification?.queue[0].queue_arn);
  const mapping = deployed(stacks, 'aws_lambda_event_source_mapping').find((m) => m.event_source_arn === queueArn);
  const fn = deployed(stacks, 'aws_lambda_function').find((f) => f.arn === mapping?.function_arn);
  const document = deployed(stacks, 'aws_ssm_document').find((d) => d.name === fn?.environment?.[0]?.variables?.SYNC_DOCUMENT_NAME);
  if (!notification || !mapping || !fn || !document) throw new Error('model-sync path: the bucket queue notification, the event source mapping on its queue, that function or its SSM document was not deployed');
  const bucket = String(notification.bucket);
  const prefix = String(notification.queue[0].filter_prefix ?? '');

  // What S3 itself holds is what was deployed (not just Terraform's view).
  const live = await step(moto, 'GetBucketNotificationConfiguration', () => clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket })));
  if (!live.QueueConfigurations?.some((q) => q.QueueArn === queueArn)) throw new Error(`bucket ${bucket} does not notify ${queueArn}`);
  const { QueueUrl } = await step(moto, 'GetQueueUrl', () => clients.sqs.send(new GetQueueUrlCommand({ QueueName: queueArn.split(':').pop()! })));

  await step(moto, 'take over the event source mapping', () => takeOverEventSourceMapping(moto, mapping, queueArn, String(fn.function_name)));

  return withConditionalStatementsAside(clients.s3, bucket, async () => {
    const key = `${prefix}checkpoints/e2e model (1).safetensors`.replace(/^\/+/, '');
    await step(moto, `PutObject s3://${bucket}/${key}`, () => clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'e2e weights' })));
    const records: SQSRecord[] = [];
    for (let attempt = 0; attempt < 20 && !records.some((r) => r.body.includes('ObjectCreated')); attempt += 1) {
      const { Messages } = await step(moto, `ReceiveMessage ${QueueUrl}`, () => clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 })));
      for (const m of Messages ?? []) {
        records.push({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body!,
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'moto', ApproximateFirstReceiveTimestamp: '0' },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody!,
          eventSource: 'aws:sqs',
          eventSourceARN: queueArn,
          awsRegion: MOTO_ENV.AWS_REGION,
        });
      }
    }
    if (!records.some((r) => r.body.includes('ObjectCreated'))) throw new Error(`no ObjectCreated notification for ${key} arrived on ${QueueUrl}`);

    // The handler as the stack deploys it (its asset archive), with the deployed environment.
    const environment = await deployedFunctionEnvironment(moto, String(fn.function_name));
    if (environment.SYNC_DOCUMENT_NAME !== document.name) throw new Error(`function environment names document ${environment.SYNC_DOCUMENT_NAME}, deployed document is ${document.name}`);
    const archive = join(stacks.find((s) => existsSync(join(s.dir, String(fn.filename))))?.dir ?? '', String(fn.filename));
    const unpacked = mkdtempSync(join(tmpdir(), 'e2e-lambda-'));
    execFileSync('python3', ['-m', 'zipfile', '-e', archive, unpacked]);
    const handlerFile = join(unpacked, `${String(fn.handler).split('.')[0]}.js`);
    const runner = `const { ${String(fn.handler).split('.')[1]}: handler } = require(${JSON.stringify(handlerFile)});
  const event = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  handler(event, { awsRequestId: 'e2e', getRemainingTimeInMillis: () => 60000 }).then((r) => process.stdout.write('\\nRESULT ' + JSON.stringify(r) + '\\n'), (e) => { console.error(e); process.exit(1); });`;
    const event: SQSEvent = { Records: records };
    const run = spawnSync(process.execPath, ['-e', runner], {
      input: JSON.stringify(event),
      env: { PATH: process.env.PATH ?? '', ...environment, ...MOTO_ENV, AWS_ENDPOINT_URL: moto.endpoint },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const stdout = run.stdout ?? '';
    const result = JSON.parse(/\nRESULT (.*)\n/.exec(stdout)?.[1] ?? 'null') as { batchItemFailures: unknown[] } | null;
    if (run.status !== 0 || !result || result.batchItemFailures.length > 0) {
      throw new Error(`the handler failed (exit ${run.status ?? run.signal}):\n${stdout}${run.stderr ?? ''}\nmoto's recent log:\n${moto.recentLog().split('\n').slice(-40).join('\n')}`);
    }

    const { Commands } = await step(moto, 'ListCommands', () => clients.ssm.send(new ListCommandsCommand({})));
    const sent = (Commands ?? []).find((c) => c.DocumentName === document.name && c.Parameters?.key?.[0] === key && c.Parameters?.action?.[0] === 'copy');
    if (!sent) throw new Error(`no SendCommand with document ${document.name} and key ${key}; commands: ${JSON.stringify(Commands)}`);
    const target = sent.Targets?.[0];
    if (target?.Key !== `tag:${environment.TARGET_TAG_KEY}` || target.Values?.[0] !== environment.TARGET_TAG_VALUE) throw new Error(`SendCommand targets ${JSON.stringify(sent.Targets)}`);
    // The test's object is not Terraform's: remove every version so the bucket (force_destroy off) can be destroyed.
    const { Versions, DeleteMarkers } = await step(moto, 'ListObjectVersions', () => clients.s3.send(new ListObjectVersionsCommand({ Bucket: bucket })));
    for (const v of [...(Versions ?? []), ...(DeleteMarkers ?? [])]) await step(moto, `DeleteObject ${v.Key} ${v.VersionId}`, () => clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId })));
    return `uploaded s3://${bucket}/${key} -> ${records.length} message(s) on ${QueueUrl} -> handler (deployed env) -> SendCommand ${document.name} key=${JSON.stringify(key)} targets ${target.Key}=${target.Values?.[0]}`;
  });
}

/** Items a destroy leaves behind in AWS too: a KMS key is only scheduled for deletion (7 to 30 days). */
function destroyedAsAwsDoes(model: string, item: Record<string, unknown>): boolean {
  return model === 'kms.Key' && item.key_state === 'PendingDeletion';
}

/** What moto holds that Terraform could have created, for the after-destroy check. */
async function motoInventory(moto: Moto): Promise<string[]> {
  const clients = motoClients(moto);
  const found: string[] = [];
  const { Buckets } = await clients.s3.send(new ListBucketsCommand({}));
  found.push(...(Buckets ?? []).map((b) => `s3 bucket ${b.Name}`));
  const { QueueUrls } = await clients.sqs.send(new ListQueuesCommand({}));
  found.push(...(QueueUrls ?? []).map((q) => `sqs queue ${q}`));
  // moto's own model inventory covers the other services.
  const data = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as Record<string, Record<string, unknown[]>>;
  const ignore = new Set(['iam.Policy', 'ec2.Vpc', 'ec2.Subnet', 'ec2.SecurityGroup', 'ec2.RouteTable', 'ec2.NetworkAcl', 'ec2.DHCPOptionsSet', 'ec2.InternetGateway', 'ec2.Ami', 'ec2.Route', 'ec2.VPCEndPoint', 'ssm.Document']);
  for (const [service, models] of Object.entries(data)) {
    for (const [model, items] of Object.entries(models)) {
      if (!Array.isArray(items) || ignore.has(`${service}.${model}`)) continue;
      const remaining = items.filter((item) => !destroyedAsAwsDoes(`${service}.${model}`, item as Record<string, unknown>));
      if (remaining.length > 0) found.push(`${service}.${model} x${remaining.length}`);
    }
  }
  return found;
}

export interface AwsResult {
  readonly stacks: StackApply[];
  readonly modelSync: string;
  readonly destroyed: boolean;
}

/** Applies, drives and destroys; moto is started and stopped here. */
export async function runAwsSide(prepared: readonly PreparedStack[], afterApply: (env: NodeJS.ProcessEnv) => Promise<void>): Promise<AwsResult> {
  const providerDir = devProviderDir();
  const services = readFileSync(join(providerDir, 'services.txt'), 'utf8').split('\n').filter(Boolean);
  process.env.MOTO_IAM_LOAD_MANAGED_POLICIES = 'true';
  const moto = await startMoto();
  log(`moto on ${moto.endpoint}; provider ${providerDir} (dev_overrides in .deploy-proof/terraform.tfrc)`);
  const env = terraformEnv({ ...MOTO_ENV, AWS_ENDPOINT_URL: moto.endpoint, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' });
  try {
    const baseline = new Set(await motoInventory(moto));
    for (const stack of prepared) writeFileSync(join(stack.dir, 'moto_override.tf.json'), `${JSON.stringify(motoProviderOverride(moto.endpoint, services), null, 2)}\n`);
    const waves = dependencyWaves(prepared, (p) => p.dependsOn);
    const applied: StackApply[] = [];
    for (const wave of waves) {
      // Every stack of the wave runs to its end, so one run reports every new gap of the wave, not the first.
      const settled = await Promise.allSettled(wave.map((s) => applyStack(s, env)));
      const failed = settled.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
      if (failed.length > 0) throw new Error(`${failed.join('\n\n')}\nmoto's recent errors:\n${moto.recentLog().split('\n').filter((l) => !/ HTTP\/1\.1" [23]\d\d /.test(l)).slice(-30).join('\n')}`);
      const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      for (const r of results) log(`${r.name}: ${r.created} created, ${r.gapSkipped.length + r.dependentSkipped.length} skipped (${r.gapSkipped.length} moto gaps, ${r.dependentSkipped.length} dependents), ${r.inCluster} in-cluster for the API server (${r.seconds.toFixed(1)} s)`);
      applied.push(...results);
    }
    await afterApply(env);
    const modelSync = await driveModelSync(moto, prepared);
    log(`model sync: ${modelSync}`);

    for (const wave of [...waves].reverse()) {
      await Promise.all(
        wave.map(async (s) => {
          const r = await terraform(s.dir, ['destroy', '-auto-approve', '-input=false', '-no-color', '-parallelism=10'], env);
          if (r.code !== 0) throw new Error(`terraform destroy failed in ${s.name}:\n${r.stderr}`);
          const left = stateResources(join(s.dir, 'terraform.tfstate'));
          if (left.length > 0) throw new Error(`${s.name}: state still holds ${left.join(', ')} after destroy`);
        }),
      );
    }
    const leftovers = (await motoInventory(moto)).filter((i) => !baseline.has(i));
    if (leftovers.length > 0) throw new Error(`moto still holds after terraform destroy: ${leftovers.join('; ')}`);
    log('destroyed every stack; moto holds nothing the stacks created');
    return { stacks: applied, modelSync, destroyed: true };
  } finally {
    await moto.stop();
  }
}

/** Directories under the work dir (for cleanup). */
export const listWork = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
