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
import { MOTO_ENV, Moto, motoClients, sqsRecord, startMoto } from '../../__tests__/model-sync/moto';
import { newGapMessage } from './gaps';
import { inDependencyOrder, PreparedStack, teardownOverride, TerraformJson } from './stacks';
import { devProviderDir, errorBlocks, failedAddresses, stateResources, terraform, terraformEnv } from './terraform';

/** A destroy that takes longer than this is a hang, not a slow emulator: fail with Terraform's output. */
const DESTROY_TIMEOUT_MS = 5 * 60_000;

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
        records.push(sqsRecord(m, queueArn));
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
    // One command carries a batch: its `changes` parameter holds a line `copy <event-epoch> <key>` per copy.
    const copiesKey = (value: string | undefined): boolean => (value ?? '').split('\n').some((line) => /^copy \d+ (.*)$/s.exec(line)?.[1] === key);
    const sent = (Commands ?? []).find((c) => c.DocumentName === document.name && copiesKey(c.Parameters?.changes?.[0]));
    if (!sent) throw new Error(`no SendCommand with document ${document.name} and key ${key}; commands: ${JSON.stringify(Commands)}`);
    const target = sent.Targets?.[0];
    if (target?.Key !== `tag:${environment.TARGET_TAG_KEY}` || target.Values?.[0] !== environment.TARGET_TAG_VALUE) throw new Error(`SendCommand targets ${JSON.stringify(sent.Targets)}`);
    // The test's object is not Terraform's: remove every version so the bucket (force_destroy off) can be destroyed.
    const { Versions, DeleteMarkers } = await step(moto, 'ListObjectVersions', () => clients.s3.send(new ListObjectVersionsCommand({ Bucket: bucket })));
    for (const v of [...(Versions ?? []), ...(DeleteMarkers ?? [])]) await step(moto, `DeleteObject ${v.Key} ${v.VersionId}`, () => clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId })));
    return `uploaded s3://${bucket}/${key} -> ${records.length} message(s) on queue ${queueArn.split(':').pop()} -> handler (deployed env) -> SendCommand ${document.name} key=${JSON.stringify(key)} targets ${target.Key}=${target.Values?.[0]}`;
  });
}

/** Buckets and queues moto holds: the after-destroy check for what Terraform may not know it left (objects, redrive). */
async function motoBucketsAndQueues(moto: Moto): Promise<string[]> {
  const clients = motoClients(moto);
  const { Buckets } = await clients.s3.send(new ListBucketsCommand({}));
  const { QueueUrls } = await clients.sqs.send(new ListQueuesCommand({}));
  return [...(Buckets ?? []).map((b) => `s3 bucket ${b.Name}`), ...(QueueUrls ?? []).map((q) => `sqs queue ${q}`)];
}

/** `type.name[key]` of every managed resource instance in a state file's JSON (Terraform's address form). */
export function managedInstanceAddresses(stateJson: string): string[] {
  const state = JSON.parse(stateJson) as { resources?: { mode: string; type: string; name: string; instances: { index_key?: string | number }[] }[] };
  return (state.resources ?? [])
    .filter((r) => r.mode === 'managed')
    .flatMap((r) => r.instances.map((i) => `${r.type}.${r.name}${i.index_key === undefined ? '' : `[${JSON.stringify(i.index_key)}]`}`));
}

/**
 * What a `terraform plan -refresh-only -json` run on the state from before a destroy
 * still finds: every instance Terraform does not report deleted (`resource_drift`, action `delete`).
 */
export function leftoverAddresses(stateBeforeDestroy: string, refreshPlanJsonLines: string, attachedTypes: ReadonlySet<string> = new Set()): string[] {
  const drift = new Map(
    refreshPlanJsonLines
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { type?: string; change?: { action?: string; resource?: { addr?: string } } })
      .filter((m) => m.type === 'resource_drift')
      .map((m) => [m.change?.resource?.addr, m.change?.action]),
  );
  const cleared = (address: string) => drift.get(address) === 'delete' || (attachedTypes.has(address.split('.')[0]) && drift.get(address) === 'update');
  return managedInstanceAddresses(stateBeforeDestroy).filter((address) => !cleared(address));
}

/**
 * Types that configure a resource another stack owns rather than creating one: while that
 * resource lives, the provider keeps reading their now empty configuration (it reports it
 * changed, not deleted; the same on AWS). For these, `emptied` must confirm through the API
 * that nothing is configured any more.
 */
const ATTACHED_CONFIGURATIONS: Readonly<Record<string, (moto: Moto, attributes: Record<string, any>) => Promise<boolean>>> = {
  aws_s3_bucket_notification: async (moto, attributes) => {
    const c = await motoClients(moto).s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: String(attributes.bucket) }));
    return !c.QueueConfigurations?.length && !c.TopicConfigurations?.length && !c.LambdaFunctionConfigurations?.length && !c.EventBridgeConfiguration;
  },
};

/**
 * Destroys one stack and proves it gone: Terraform re-reads every resource the stack had
 * created (the state from before the destroy, refreshed with `plan -refresh-only`), and each
 * must come back deleted. Runs while the stacks it reads still exist, so its remote-state reads resolve.
 */
async function destroyAndCheck(stack: PreparedStack, env: NodeJS.ProcessEnv, moto: Moto): Promise<{ resources: number; destroySeconds: number; checkSeconds: number }> {
  const stateFile = join(stack.dir, 'terraform.tfstate');
  const before = readFileSync(stateFile, 'utf8');
  const started = Date.now();
  const r = await terraform(stack.dir, ['destroy', '-auto-approve', '-input=false', '-no-color', '-parallelism=10'], env, DESTROY_TIMEOUT_MS);
  if (r.code !== 0) throw new Error(`terraform destroy failed in ${stack.name} (exit ${r.code}):\n${r.stderr.trim() || r.stdout.trim().split('\n').slice(-20).join('\n')}`);
  const left = stateResources(stateFile);
  if (left.length > 0) throw new Error(`${stack.name}: state still holds ${left.join(', ')} after destroy`);
  const destroySeconds = (Date.now() - started) / 1000;
  const after = readFileSync(stateFile, 'utf8');
  writeFileSync(stateFile, before);
  try {
    const refresh = await terraform(stack.dir, ['plan', '-refresh-only', '-json', '-input=false', '-lock=false'], env, DESTROY_TIMEOUT_MS);
    if (refresh.code !== 0) throw new Error(`${stack.name}: the after-destroy refresh failed (exit ${refresh.code}):\n${refresh.stderr.trim() || refresh.stdout.trim().split('\n').slice(-10).join('\n')}`);
    const leftovers = leftoverAddresses(before, refresh.stdout, new Set(Object.keys(ATTACHED_CONFIGURATIONS)));
    if (leftovers.length > 0) throw new Error(`${stack.name}: after terraform destroy, the provider still reads ${leftovers.join(', ')}`);
    for (const resource of stateOf(stack).filter((res) => ATTACHED_CONFIGURATIONS[res.type])) {
      for (const instance of resource.instances) {
        if (!(await ATTACHED_CONFIGURATIONS[resource.type](moto, instance.attributes))) throw new Error(`${stack.name}: ${resource.type}.${resource.name} still configures ${JSON.stringify(instance.attributes.bucket ?? instance.attributes.id)} after terraform destroy`);
      }
    }
  } finally {
    writeFileSync(stateFile, after);
  }
  return { resources: managedInstanceAddresses(before).length, destroySeconds, checkSeconds: (Date.now() - started) / 1000 - destroySeconds };
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
  // TF_AWS_EMULATOR_TIMING: the switch scripts/aws-provider-emulator-timing.mjs adds to the build; moto has no eventual
  // consistency to wait out, so the provider's state waiters need one sighting of the target state instead of up to 15.
  const env = terraformEnv({ ...MOTO_ENV, AWS_ENDPOINT_URL: moto.endpoint, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1', TF_AWS_EMULATOR_TIMING: '1' });
  try {
    const baseline = new Set(await motoBucketsAndQueues(moto));
    for (const stack of prepared) writeFileSync(join(stack.dir, 'moto_override.tf.json'), `${JSON.stringify(motoProviderOverride(moto.endpoint, services), null, 2)}\n`);
    const dependsOn = (p: PreparedStack): string[] => p.dependsOn;
    // Each stack starts as soon as the stacks it reads are applied; every reachable stack runs to its end,
    // so one run reports every new gap it can reach, not the first.
    const applied = await inDependencyOrder(prepared, dependsOn, async (s) => {
      const r = await applyStack(s, env);
      log(`${r.name}: ${r.created} created, ${r.gapSkipped.length + r.dependentSkipped.length} skipped (${r.gapSkipped.length} moto gaps, ${r.dependentSkipped.length} dependents), ${r.inCluster} in-cluster for the API server (${r.seconds.toFixed(1)} s)`);
      return r;
    });
    if (applied.failures.length > 0) {
      const notRun = prepared.filter((p) => !applied.results.some((r) => r.name === p.name) && !applied.failures.some((f) => f.stack === p.name)).map((p) => p.name);
      throw new Error(`${applied.failures.map((f) => f.error.message).join('\n\n')}${notRun.length ? `\nnot applied (they read a failed stack): ${notRun.join(', ')}` : ''}\nmoto's recent errors:\n${moto.recentLog().split('\n').filter((l) => !/ HTTP\/1\.1" [23]\d\d /.test(l)).slice(-30).join('\n')}`);
    }
    // The listing must see what was applied, or its empty answer after the destroy would prove nothing.
    const deployedItems = (await motoBucketsAndQueues(moto)).filter((i) => !baseline.has(i));
    if (deployedItems.length === 0) throw new Error('moto lists no bucket or queue after the apply: the after-destroy check could not see leftovers');
    await afterApply(env);
    const modelSync = await driveModelSync(moto, prepared);
    log(`model sync: ${modelSync}`);

    // Destroy in reverse: a stack goes once every stack reading it is gone.
    const destroyed = await inDependencyOrder(
      prepared,
      dependsOn,
      async (s) => {
        const started = Date.now();
        // README's teardown: deletion protection applied off first, then destroy.
        const lift = teardownOverride(JSON.parse(readFileSync(join(s.dir, 'cdk.tf.json'), 'utf8')) as TerraformJson);
        if (lift) {
          writeFileSync(join(s.dir, 'teardown_override.tf.json'), `${JSON.stringify(lift, null, 2)}\n`);
          const off = await terraform(s.dir, ['apply', '-auto-approve', '-input=false', '-no-color', '-parallelism=10'], env, DESTROY_TIMEOUT_MS);
          if (off.code !== 0) throw new Error(`turning deletion protection off failed in ${s.name} (exit ${off.code}):\n${off.stderr.trim()}`);
          log(`${s.name}: deletion protection applied off (${Object.entries(lift.resource).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`)).join(', ')})`);
        }
        const checked = await destroyAndCheck(s, env, moto);
        log(`${s.name}: destroyed, and the provider reads none of its ${checked.resources} resources any more (${((Date.now() - started) / 1000).toFixed(1)} s: destroy ${checked.destroySeconds.toFixed(1)} s, check ${checked.checkSeconds.toFixed(1)} s)`);
      },
      { reverse: true },
    );
    if (destroyed.failures.length > 0) throw new Error(destroyed.failures.map((f) => f.error.message).join('\n\n'));
    const leftovers = (await motoBucketsAndQueues(moto)).filter((i) => !baseline.has(i));
    if (leftovers.length > 0) throw new Error(`moto still lists after terraform destroy: ${leftovers.join('; ')}`);
    log(`destroyed every stack; the provider reads none of their resources, and moto lists none of the ${deployedItems.length} buckets and queues`);
    return { stacks: applied.results, modelSync, destroyed: true };
  } finally {
    await moto.stop();
  }
}

/** Directories under the work dir (for cleanup). */
export const listWork = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
