/**
 * `npm run comfy -- submit` and `jobs status|wait|fetch|cancel|list`, in
 * process, against moto and a worker pod on the fake ComfyUI.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { PassThrough } from 'stream';
import { runCli } from '../../cli/comfy/cli';
import { EXIT_CODES } from '../../cli/comfy/errors';
import { MAX_INLINE_WORKFLOW_BYTES } from '../../cli/comfy/jobs/model';
import { localTarget } from '../../cli/comfy/jobs/commands';
import { MOTO_ENV, Moto, startMoto } from '../model-sync/moto';
import { Pod, SDXL, Scenario, cliEnv, createScenario, mirrorOutputs, startPod, stopPod, until } from './harness';

const WORKFLOW = resolve(__dirname, '../../examples/workflows/sdxl-text-to-image.json');

let moto: Moto;
let pods: Pod[] = [];
const savedEnv = { ...process.env };
beforeAll(async () => {
  moto = await startMoto();
  // The SDK's default credential chain reads the process environment: moto's fake credentials only.
  Object.assign(process.env, MOTO_ENV);
});
afterAll(async () => {
  process.env = savedEnv;
  await moto?.stop();
});
afterEach(async () => {
  await Promise.all(pods.map(stopPod));
  pods = [];
});

async function cli(scenario: Scenario, argv: string[], cwd = mkdtempSync(join(tmpdir(), 'comfy-jobs-'))) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(argv, { stdout, stderr, env: cliEnv(moto, scenario), cwd });
  return { code, out, err, cwd };
}

async function queued(scenario: Scenario): Promise<Record<string, unknown>[]> {
  const bodies: Record<string, unknown>[] = [];
  for (;;) {
    const res = await scenario.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: scenario.settings.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    if (!res.Messages?.length) return bodies;
    bodies.push(...res.Messages.map((m) => JSON.parse(m.Body ?? '{}')));
  }
}

describe('comfy submit', () => {
  it('queues N jobs with --seed N, N+1, ... and prints their ids; records are queued before the messages', async () => {
    const scenario = await createScenario(moto);
    const r = await cli(scenario, ['submit', WORKFLOW, '-n', '3', '--seed', '5', '--set', '6.inputs.text=a red fox']);
    expect(r.code).toBe(0);
    const ids = r.out.trim().split('\n');
    expect(ids).toHaveLength(3);
    expect(r.err).toMatch(/queued 3 job\(s\) in/);
    const records = await scenario.store.getMany(ids);
    expect([...records.values()].map((x) => [x.state, x.attempts, x.seed])).toEqual(expect.arrayContaining([['queued', 0, 5], ['queued', 0, 6], ['queued', 0, 7]]));
    const messages = await queued(scenario);
    expect(messages.map((m) => m.jobId).sort()).toEqual([...ids].sort());
    for (const m of messages) expect((m.workflow as any)['6'].inputs.text).toBe('a red fox');
  });

  it('--json prints the ids, seeds and digests', async () => {
    const scenario = await createScenario(moto);
    const r = await cli(scenario, ['submit', WORKFLOW, '--seed', 'random', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.jobs).toEqual([{ id: expect.any(String), seed: expect.any(Number), workflowDigest: expect.stringMatching(/^sha256:/) }]);
  });

  it.each([
    ['a --set naming a missing node', ['--set', '99.inputs.text=x'], EXIT_CODES.workflow, /no node "99"/],
    ['a --set with a non-number for a number input', ['--set', '3.inputs.steps=many'], EXIT_CODES.workflow, /expected a number/],
    ['a malformed --set', ['--set', 'steps=30'], EXIT_CODES.usage, /NODE_ID\.inputs\.FIELD=VALUE/],
    ['-n 0', ['-n', '0'], EXIT_CODES.usage, /--count/],
  ])('refuses %s before anything is queued', async (_what, extra, code, message) => {
    const scenario = await createScenario(moto);
    const r = await cli(scenario, ['submit', WORKFLOW, '-n', '2', ...extra]);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect(await scenario.backlog()).toBe(0);
    expect(await scenario.store.list({ limit: 10 })).toHaveLength(0);
  });

  it('refuses a UI-format workflow (exit 5)', async () => {
    const scenario = await createScenario(moto);
    const dir = mkdtempSync(join(tmpdir(), 'comfy-ui-'));
    writeFileSync(join(dir, 'ui.json'), JSON.stringify({ last_node_id: 9, nodes: [], links: [] }));
    const r = await cli(scenario, ['submit', join(dir, 'ui.json')]);
    expect(r.code).toBe(EXIT_CODES.workflow);
    expect(r.err).toMatch(/UI-format/);
    expect(await scenario.backlog()).toBe(0);
  });

  it('sends a workflow over the SQS limit through S3 with a pointer, and the worker runs it', async () => {
    const scenario = await createScenario(moto);
    const dir = mkdtempSync(join(tmpdir(), 'comfy-big-'));
    const big = JSON.parse(JSON.stringify(SDXL));
    big['6'].inputs.text = 'x'.repeat(MAX_INLINE_WORKFLOW_BYTES + 10);
    writeFileSync(join(dir, 'big.json'), JSON.stringify(big));
    const r = await cli(scenario, ['submit', join(dir, 'big.json')]);
    expect(r.code).toBe(0);
    const id = r.out.trim();
    expect(r.err).toMatch(/over the SQS message limit/);
    const record = await scenario.store.get(id);
    expect(record?.workflowKey).toBe(`jobs/${id}/workflow.json`);
    const object = await scenario.aws.s3.send(new GetObjectCommand({ Bucket: scenario.settings.outputsBucket, Key: `jobs/${id}/workflow.json` }));
    expect((await object.Body?.transformToString())?.length).toBeGreaterThan(MAX_INLINE_WORKFLOW_BYTES);
    pods.push(await startPod(moto, scenario, 'pod-a'));
    await until(async () => (await scenario.store.get(id))?.state === 'succeeded', 20_000, 'the large job');
  });

  it('fails with exit 3 when AWS is unreachable', async () => {
    const scenario = await createScenario(moto);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await runCli(['submit', WORKFLOW], { stdout, stderr, env: { ...cliEnv(moto, scenario), AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, cwd: tmpdir() });
    expect(code).toBe(EXIT_CODES.unreachable);
    expect(err).toMatch(/queueing jobs/);
  });

  it('says where to find the jobs resources when nothing tells it', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await runCli(['submit', WORKFLOW], { stdout, stderr, env: { ...MOTO_ENV }, cwd: mkdtempSync(join(tmpdir(), 'empty-')) });
    expect(code).toBe(EXIT_CODES.usage);
    expect(err).toMatch(/COMFY_JOBS_QUEUE_URL/);
  });
});

describe('comfy jobs', () => {
  it('submit, wait (with progress), status, fetch: 5 jobs end to end, outputs read from S3', async () => {
    const scenario = await createScenario(moto, { outputsPrefix: 'out/' });
    const submitted = await cli(scenario, ['submit', WORKFLOW, '-n', '5', '--seed', 'random']);
    const ids = submitted.out.trim().split('\n');
    const p = await startPod(moto, scenario, 'pod-a');
    pods.push(p);
    const waited = await cli(scenario, ['jobs', 'wait', ...ids, '--interval', '200ms', '--timeout', '60s']);
    expect(waited.code).toBe(0);
    expect(waited.err).toMatch(/5\/5 done · 0 running · 0 queued · 0 failed/);
    expect(waited.out.trim().split('\n')).toHaveLength(5);
    expect(await mirrorOutputs(p, scenario, ids)).toBe(5);

    const status = await cli(scenario, ['jobs', 'status', ids[0], '--json']);
    expect(JSON.parse(status.out).jobs[0]).toMatchObject({ id: ids[0], state: 'succeeded', attempts: 1, outputKeys: [expect.stringMatching(new RegExp(`^out/jobs/${ids[0]}/t2i_`))] });

    const fetched = await cli(scenario, ['jobs', 'fetch', ...ids, '-o', 'results']);
    expect(fetched.code).toBe(0);
    const files = fetched.out.trim().split('\n');
    expect(files).toHaveLength(5);
    for (const [i, id] of ids.entries()) {
      expect(files[i]).toMatch(new RegExp(`^results/${id}/t2i_\\d{5}_\\.png$`));
      expect(readFileSync(join(fetched.cwd, files[i])).subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('wait exits 6 with ComfyUI\'s message when a job is rejected, and fetch reports it', async () => {
    const scenario = await createScenario(moto);
    const submitted = await cli(scenario, ['submit', WORKFLOW, '--set', '4.inputs.ckpt_name=nope.safetensors']);
    const id = submitted.out.trim();
    pods.push(await startPod(moto, scenario, 'pod-a'));
    const waited = await cli(scenario, ['jobs', 'wait', id, '--interval', '200ms']);
    expect(waited.code).toBe(EXIT_CODES.rejected);
    expect(waited.err).toMatch(/nope\.safetensors/);
    const fetched = await cli(scenario, ['jobs', 'fetch', id]);
    expect(fetched.code).toBe(EXIT_CODES.rejected);
  });

  it('wait --timeout exits 8 while no worker runs; fetch of unfinished jobs exits 8', async () => {
    const scenario = await createScenario(moto);
    const id = (await cli(scenario, ['submit', WORKFLOW])).out.trim();
    const waited = await cli(scenario, ['jobs', 'wait', id, '--timeout', '500ms', '--interval', '100ms']);
    expect(waited.code).toBe(EXIT_CODES.timeout);
    expect(waited.err).toMatch(/0\/1 done · 0 running · 1 queued · 0 failed/);
    expect((await cli(scenario, ['jobs', 'fetch', id])).code).toBe(EXIT_CODES.timeout);
  });

  it('cancel, list --state, and unknown or malformed ids', async () => {
    const scenario = await createScenario(moto);
    const ids = (await cli(scenario, ['submit', WORKFLOW, '-n', '2', '--seed', '1'])).out.trim().split('\n');
    const cancelled = await cli(scenario, ['jobs', 'cancel', ids[0]]);
    expect(cancelled.out).toBe(`${ids[0]} cancelled\n`);
    const again = await cli(scenario, ['jobs', 'cancel', ids[0]]);
    expect(again.out).toBe(`${ids[0]} already cancelled\n`);
    const list = await cli(scenario, ['jobs', 'list', '--state', 'cancelled', '--json']);
    expect(JSON.parse(list.out).jobs.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
    const all = await cli(scenario, ['jobs', 'list']);
    expect(all.out.trim().split('\n')).toHaveLength(2);
    expect((await cli(scenario, ['jobs', 'list', '--state', 'done'])).code).toBe(EXIT_CODES.usage);
    expect((await cli(scenario, ['jobs', 'status', 'not-a-job'])).code).toBe(EXIT_CODES.usage);
    const unknown = await cli(scenario, ['jobs', 'status', '00000000-0000-4000-8000-000000000000']);
    expect(unknown.code).toBe(EXIT_CODES.usage);
    expect(unknown.err).toMatch(/no such job/);
  });

  it('never writes outside the output directory, whatever key a record lists', () => {
    const id = '11111111-1111-4111-8111-111111111111';
    expect(localTarget('/tmp/out', '', id, `jobs/${id}/a/b.png`)).toBe(`/tmp/out/${id}/a/b.png`);
    expect(localTarget('/tmp/out', 'p/', id, 'elsewhere/c.png')).toBe(`/tmp/out/${id}/c.png`);
    expect(() => localTarget('/tmp/out', '', id, `jobs/${id}/../../etc/passwd`)).toThrow(/unsafe output key/);
    expect(() => localTarget('/tmp/out', '', id, `jobs/${id}/`)).toThrow(/unsafe output key/);
  });

  // 250, not 1000: moto's SQS slows down with every message it holds; docs/benchmarks.md measures 1000.
  it('submit -n 250 queues every job in batches (SendMessageBatch of 10, BatchWriteItem of 25)', async () => {
    const scenario = await createScenario(moto);
    const before = scenario.aws.calls.get('SendMessageBatchCommand') ?? 0;
    const r = await cli(scenario, ['submit', WORKFLOW, '-n', '250', '--seed', '1', '-q']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(new Set(r.out.trim().split('\n')).size).toBe(250);
    expect(await scenario.backlog()).toBe(250);
    expect(await scenario.store.list({ state: 'queued', limit: 1000 })).toHaveLength(250);
    expect(before).toBe(0);
  });
});
