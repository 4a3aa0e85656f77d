/**
 * Batch jobs benchmarks, written to the jobs section of docs/benchmarks.md:
 *
 * 1. Worker overhead per job against moto (SQS, DynamoDB, EventBridge) and
 *    the fake ComfyUI: AWS calls per job by API, and the time the worker adds
 *    per job outside ComfyUI (claim, record, event, delete), median and p95.
 * 2. `submit -n 1000` throughput (BatchWriteItem + SendMessageBatch):
 *    against moto, and against a local stub answering like SQS/DynamoDB
 *    with 0 ms and 50 ms per call (the client's own ceiling, and a laptop
 *    far from the region).
 *
 * Everything runs locally: moto and the stub on 127.0.0.1, fake credentials.
 * Run with scripts/bench-jobs.sh.
 */
import { createHash } from 'crypto';
import { createServer } from 'http';
import type { AddressInfo } from 'net';
import { cpus, totalmem } from 'os';
import { join } from 'path';
import { JobsAws, JobsSettings } from '../cli/comfy/jobs/aws';
import { encodeJobMessage } from '../cli/comfy/jobs/model';
import { JobsWorker } from '../cli/comfy/jobs/worker';
import { FakeComfyUI } from '../__tests__/client/fake-comfyui';
import { prepareJobs, queueJobs } from '../cli/comfy/jobs/submit';
import { applyOverrides, parseOverride } from '../cli/comfy/workflow';
import { MOTO_ENV, startMoto } from '../__tests__/model-sync/moto';
import { SDXL, createScenario, startPod, stopPod, until } from '../__tests__/jobs/harness';
import { writeBenchSection } from './bench-section';

const ROOT = join(__dirname, '..');
const WORKER_JOBS = 50;
const SUBMIT_JOBS = 1000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/**
 * Answers the calls of submit and of the worker like SQS, DynamoDB and
 * EventBridge (JSON protocol), after `delayMs`: a service with a fixed round
 * trip and no cost of its own, so what remains is the client's and the
 * worker's time. Messages given to `enqueue` are served by ReceiveMessage.
 */
async function startStub(delayMs: number) {
  const queue: string[] = [];
  let receipts = 0;
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: any = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        // CloudWatch speaks CBOR (PutMetricData at the worker's stop): answered empty, and the worker only logs a failed flush.
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = target.slice(target.indexOf('.') + 1);
      let answer: unknown = {};
      if (action === 'SendMessageBatch') {
        answer = { Successful: body.Entries.map((e: { Id: string; MessageBody: string }) => ({ Id: e.Id, MessageId: md5(e.Id), MD5OfMessageBody: md5(e.MessageBody) })), Failed: [] };
      } else if (action === 'BatchWriteItem') answer = { UnprocessedItems: {} };
      else if (action === 'ReceiveMessage') {
        const next = queue.shift();
        answer = next === undefined ? {} : { Messages: [{ MessageId: md5(String(receipts)), ReceiptHandle: `r-${(receipts += 1)}`, Body: next, MD5OfBody: md5(next), Attributes: { ApproximateReceiveCount: '1' } }] };
      } else if (action === 'UpdateItem') {
        const id = body.Key.id.S;
        const state = body.ExpressionAttributeValues?.[':state']?.S ?? 'running';
        answer = { Attributes: { id: { S: id }, state: { S: state }, attempts: { N: '1' }, createdAt: { S: new Date().toISOString() }, workflowDigest: { S: 'sha256:' } } };
      } else if (action === 'PutEvents') answer = { FailedEntryCount: 0, Entries: [{ EventId: md5(String(Date.now())) }] };
      const text = JSON.stringify(answer);
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      }, action === 'ReceiveMessage' && queue.length === 0 ? Math.max(delayMs, 50) : delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    enqueue: (bodies: string[]) => queue.push(...bodies),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The worker against the stub: what it adds per job when every AWS call takes `delayMs`. */
async function workerOnStub(delayMs: number, jobs: number): Promise<{ overhead: number[]; own: number[] }> {
  const stub = await startStub(delayMs);
  const fake = new FakeComfyUI({ stepDelayMs: 0, nodeDelayMs: 0 });
  const url = await fake.start();
  const aws = new JobsAws({ region: 'us-west-2', endpoint: stub.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const quick = applyOverrides(SDXL, [parseOverride('3.inputs.steps=1')]);
  let seed = 1;
  stub.enqueue(
    prepareJobs(quick, { count: jobs, seed: 'random', overrides: [], outputsPrefix: '', randomSeed: () => seed++ }).map((j) =>
      encodeJobMessage({ v: 1, jobId: j.id, digest: j.digest, workflow: JSON.parse(j.json) }),
    ),
  );
  const worker = new JobsWorker({
    aws,
    queueUrl: `${stub.endpoint}/123456789012/bench`,
    deadLetterQueueUrl: `${stub.endpoint}/123456789012/bench-dlq`,
    tableName: 'bench',
    outputsBucket: 'bench',
    outputsPrefix: '',
    eventBusName: 'bench',
    clusterName: 'bench',
    comfyUrl: url,
    workerId: 'bench',
    receiveWaitSeconds: 1,
    busyPollMs: 20,
    comfyPollMs: 100,
    log: () => undefined,
  });
  const done = worker.start();
  await until(() => worker.reports.length >= jobs, 300_000, 'stub jobs');
  await worker.stop();
  await done;
  await fake.stop();
  aws.destroy();
  await stub.close();
  const ok = worker.reports.filter((r) => r.outcome === 'succeeded');
  if (ok.length !== jobs) throw new Error(`stub run: ${jobs - ok.length} job(s) did not succeed: ${JSON.stringify(worker.reports.find((r) => r.outcome !== 'succeeded'))}`);
  return { overhead: ok.map((r) => r.totalMs - r.comfyMs), own: ok.map((r) => r.totalMs - r.comfyMs - r.awsMs) };
}

async function submitRate(aws: JobsAws, settings: JobsSettings): Promise<{ seconds: number; rate: number; calls: Record<string, number> }> {
  const jobs = prepareJobs(SDXL, { count: SUBMIT_JOBS, seed: 1, overrides: [], outputsPrefix: '', randomSeed: () => 1 });
  const before = new Map(aws.calls);
  const started = performance.now();
  await queueJobs(aws, settings, jobs);
  const seconds = (performance.now() - started) / 1000;
  const calls = Object.fromEntries([...aws.calls].map(([k, v]) => [k, v - (before.get(k) ?? 0)]).filter(([, v]) => (v as number) > 0));
  return { seconds, rate: SUBMIT_JOBS / seconds, calls };
}

async function main(): Promise<void> {
  Object.assign(process.env, MOTO_ENV);
  const moto = await startMoto();
  const lines: string[] = [];
  try {
    // 1. Worker overhead.
    const scenario = await createScenario(moto);
    const quick = applyOverrides(SDXL, [parseOverride('3.inputs.steps=1')]);
    const pod = await startPod(moto, scenario, 'bench', { fake: { stepDelayMs: 0, nodeDelayMs: 0 }, worker: { visibilityMs: 120_000, heartbeatMs: 30_000 } });
    // Ten at a time: moto's SQS emulator slows down with every message it holds, which would be its cost, not the worker's.
    const ids: string[] = [];
    let seed = 1;
    for (let batch = 0; batch < WORKER_JOBS / 10; batch += 1) {
      ids.push(...(await queueJobs(scenario.aws, scenario.settings, prepareJobs(quick, { count: 10, seed: 'random', overrides: [], outputsPrefix: '', randomSeed: () => seed++ }))));
      await until(() => pod.worker.reports.filter((r) => r.outcome === 'succeeded').length === ids.length, 600_000, 'worker jobs');
    }
    await stopPod(pod);
    const overhead = pod.worker.reports.map((r) => r.totalMs - r.comfyMs);
    const awsShare = pod.worker.reports.map((r) => r.awsMs);
    const own = pod.worker.reports.map((r) => r.totalMs - r.comfyMs - r.awsMs);
    const comfy = pod.worker.reports.map((r) => r.comfyMs);
    const calls = Object.fromEntries(pod.aws.calls);
    const receives = calls.ReceiveMessageCommand ?? 0;
    const perJob = (name: string) => ((calls[name] ?? 0) / WORKER_JOBS).toFixed(2);
    const happy = ['ReceiveMessageCommand', 'UpdateItemCommand', 'PutEventsCommand', 'DeleteMessageCommand'];
    const perJobTotal = happy.reduce((n, k) => n + (k === 'ReceiveMessageCommand' ? WORKER_JOBS : calls[k] ?? 0), 0) / WORKER_JOBS;
    const records = await scenario.store.getMany(ids);
    if ([...records.values()].some((r) => r.state !== 'succeeded')) throw new Error('a benchmark job did not succeed');

    const onStub = [];
    for (const delay of [0, 10]) onStub.push({ delay, ...(await workerOnStub(delay, WORKER_JOBS)) });

    // 2. Submit throughput.
    const motoSubmit = await submitRate(scenario.aws, scenario.settings);
    const stubRates: { delay: number; rate: number; seconds: number }[] = [];
    for (const delay of [0, 50]) {
      const stub = await startStub(delay);
      const aws = new JobsAws({ region: 'us-west-2', endpoint: stub.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
      const r = await submitRate(aws, { ...scenario.settings, queueUrl: `${stub.endpoint}/123456789012/bench` });
      stubRates.push({ delay, rate: r.rate, seconds: r.seconds });
      aws.destroy();
      await stub.close();
    }

    const date = new Date().toISOString().slice(0, 10);
    lines.push(
      '## Batch jobs (worker overhead, submit throughput)',
      '',
      `Measured ${date} on ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, moto on 127.0.0.1 (the machine was shared with other builds).`,
      'Reproduce: `scripts/bench-jobs.sh` (part of `make bench`; needs moto: `scripts/install-tools.sh python`).',
      '',
      `### Worker overhead per job (${WORKER_JOBS} jobs, one worker, fake ComfyUI, moto)`,
      '',
      '| AWS API | calls per job |',
      '|---|---|',
      `| ReceiveMessage (with a message) | 1.00 (${receives} calls in all, including the empty long polls at the end) |`,
      `| UpdateItem (claim, finish) | ${perJob('UpdateItemCommand')} |`,
      `| PutEvents | ${perJob('PutEventsCommand')} |`,
      `| DeleteMessage | ${perJob('DeleteMessageCommand')} |`,
      `| ChangeMessageVisibility (heartbeats) | ${perJob('ChangeMessageVisibilityCommand')} |`,
      `| PutMetricData | ${perJob('PutMetricDataCommand')} (one call per 60 s interval, not per job) |`,
      `| **happy path total** | **${perJobTotal.toFixed(2)}** (target <= 6) |`,
      '',
      '| per job, ms | median | p95 |',
      '|---|---|---|',
      `| added by the worker: receive to delete, minus ComfyUI (submit to completion) | ${percentile(overhead, 50).toFixed(0)} | ${percentile(overhead, 95).toFixed(0)} |`,
      `| of that, waiting for AWS calls (moto on this machine; parallel calls counted once) | ${percentile(awsShare, 50).toFixed(0)} | ${percentile(awsShare, 95).toFixed(0)} |`,
      `| of that, the worker's own work (parse, digest, route outputs, bookkeeping) | ${percentile(own, 50).toFixed(1)} | ${percentile(own, 95).toFixed(1)} |`,
      `| ComfyUI (fake, 1 step), for scale | ${percentile(comfy, 50).toFixed(0)} | ${percentile(comfy, 95).toFixed(0)} |`,
      '',
      '',
      `The same worker against a local stub that answers every AWS call after a fixed delay (${WORKER_JOBS} jobs each):`,
      '',
      '| AWS round trip | added per job, median | p95 | worker\'s own work, median |',
      '|---|---|---|---|',
      ...onStub.map((r) => `| ${r.delay} ms | ${percentile(r.overhead, 50).toFixed(1)} ms | ${percentile(r.overhead, 95).toFixed(1)} ms | ${percentile(r.own, 50).toFixed(1)} ms |`),
      '',
      'Target: median <= 50 ms added per job. The AWS share is three round trips on the critical path (claim; finish; event and delete in parallel): moto answers each in tens to hundreds of ms on this shared machine, SQS and DynamoDB in-region typically in single-digit to low tens of ms.',
      'A job longer than the heartbeat (default 30 s) adds one UpdateItem and one ChangeMessageVisibility per heartbeat.',
      '',
      `### \`submit -n ${SUBMIT_JOBS}\` (BatchWriteItem of 25, then SendMessageBatch of 10, 16 calls in flight)`,
      '',
      '| endpoint | seconds | jobs/s |',
      '|---|---|---|',
      `| moto (SQS + DynamoDB emulator on this machine) | ${motoSubmit.seconds.toFixed(2)} | ${motoSubmit.rate.toFixed(0)} |`,
      ...stubRates.map((r) => `| local stub answering after ${r.delay} ms per call | ${r.seconds.toFixed(2)} | ${r.rate.toFixed(0)} |`),
      '',
      `Calls for ${SUBMIT_JOBS} jobs: ${Object.entries(motoSubmit.calls).map(([k, v]) => `${v} ${k.replace(/Command$/, '')}`).join(', ')}. moto's SQS emulator slows down with every message it holds (each SendMessageBatch takes longer as the queue grows), so its figure is the emulator's, not the client's; the stub rows are the client's own ceiling and a laptop 50 ms from the region. Target: >= 200 jobs/s.`,
      '',
    );
  } finally {
    await moto.stop();
  }
  const text = lines.join('\n');
  writeBenchSection(join(ROOT, 'docs/benchmarks.md'), START, END, text);
  process.stdout.write(text);
}

const START = '<!-- jobs-bench:start (written by scripts/bench-jobs.ts; do not edit by hand) -->';
const END = '<!-- jobs-bench:end -->';

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
