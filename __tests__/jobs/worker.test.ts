/**
 * The jobs worker against moto and the fake ComfyUI: every failure mode of
 * issue 13 (happy path, duplicate delivery, long jobs, SIGTERM, poison jobs,
 * DLQ, cancel, output keys).
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { applyOverrides, parseOverride } from '../../cli/comfy/workflow';
import { encodeJobMessage } from '../../cli/comfy/jobs/model';
import { prepareJobs, queueJobs } from '../../cli/comfy/jobs/submit';
import { Moto, startMoto } from '../model-sync/moto';
import { Pod, SDXL, Scenario, createScenario, startPod, stopPod, until } from './harness';

let moto: Moto;
let pods: Pod[] = [];
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});
afterEach(async () => {
  await Promise.all(pods.map(stopPod));
  pods = [];
});

let seed = 1000;
async function submit(scenario: Scenario, count: number, workflow = SDXL): Promise<string[]> {
  const jobs = prepareJobs(workflow, { count, seed: 'random', overrides: [], outputsPrefix: scenario.settings.outputsPrefix, randomSeed: () => seed++ });
  return queueJobs(scenario.aws, scenario.settings, jobs);
}

async function pod(scenario: Scenario, name: string, options: Parameters<typeof startPod>[3] = {}): Promise<Pod> {
  const p = await startPod(moto, scenario, name, options);
  pods.push(p);
  return p;
}

async function settled(scenario: Scenario, ids: string[], timeoutMs = 30_000) {
  return until(
    async () => {
      const records = await scenario.store.getMany(ids);
      return [...records.values()].every((r) => ['succeeded', 'failed', 'cancelled'].includes(r.state)) && records.size === ids.length ? records : undefined;
    },
    timeoutMs,
    `jobs ${ids.join(', ')} to finish`,
  );
}

const SLOW = (steps: number) => applyOverrides(SDXL, [parseOverride(`3.inputs.steps=${steps}`)]);

describe('jobs worker', () => {
  it('happy path: runs each job once on the local ComfyUI, records output keys under jobs/<id>/, publishes an event, deletes the message', async () => {
    const scenario = await createScenario(moto, { outputsPrefix: 'generated/' });
    const ids = await submit(scenario, 3);
    // Heartbeats only start after 15 s: these jobs take milliseconds.
    const p = await pod(scenario, 'pod-a', { worker: { visibilityMs: 60_000, heartbeatMs: 15_000 } });
    const records = await settled(scenario, ids);
    for (const id of ids) {
      const r = records.get(id);
      expect(r).toMatchObject({ state: 'succeeded', attempts: 1, worker: 'pod-a' });
      expect(r?.outputKeys).toEqual([expect.stringMatching(new RegExp(`^generated/jobs/${id}/t2i_\\d{5}_\\.png$`))]);
      expect(r?.workflowDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(r?.finishedAt).toBeDefined();
    }
    // The SaveImage prefix was routed into the job's folder, keeping the file stem.
    const prefixes = p.fake.submitted.map((b) => (b.prompt as Record<string, { inputs: { filename_prefix?: string } }>)['9'].inputs.filename_prefix);
    expect(prefixes.sort()).toEqual(ids.map((id) => `jobs/${id}/t2i`).sort());
    const events = await until(async () => ((await scenario.events()).length >= 3 ? scenario.events() : undefined), 10_000, 'events');
    expect(events.map((e) => [e['detail-type'], e.detail.jobId]).sort()).toEqual(ids.map((id) => ['Job Succeeded', id]).sort());
    expect(events[0].detail).toMatchObject({ state: 'succeeded', outputsBucket: scenario.settings.outputsBucket, clusterName: 'test-cluster' });
    await until(async () => (await scenario.backlog()) === 0, 10_000, 'empty queue');
    // AWS calls per job besides ReceiveMessage: claim + finish (UpdateItem), PutEvents, DeleteMessage.
    const calls = Object.fromEntries(p.aws.calls);
    expect(calls).toMatchObject({ UpdateItemCommand: 6, PutEventsCommand: 3, DeleteMessageCommand: 3 });
    expect(calls.ChangeMessageVisibilityCommand ?? 0).toBe(0);
    expect(p.worker.reports.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('duplicate delivery: the same message twice on two pods runs the job once and reports it once', async () => {
    const scenario = await createScenario(moto);
    const [id] = await submit(scenario, 1, SLOW(200));
    // A second copy of the same job message, as at-least-once delivery may produce.
    const record = await scenario.store.get(id);
    const copy = encodeJobMessage({ v: 1, jobId: id, digest: record?.workflowDigest as string, workflow: JSON.parse(JSON.stringify(SLOW(200))) });
    const a = await pod(scenario, 'pod-a', { fake: { stepDelayMs: 5 } });
    await until(() => a.fake.submitted.length === 1, 10_000, 'pod-a to start the job');
    await scenario.aws.sqs.send(new SendMessageCommand({ QueueUrl: scenario.settings.queueUrl, MessageBody: copy }));
    const b = await pod(scenario, 'pod-b', { fake: { stepDelayMs: 5 } });
    const records = await settled(scenario, [id]);
    expect(records.get(id)).toMatchObject({ state: 'succeeded', attempts: 1, worker: 'pod-a' });
    await until(async () => (await scenario.backlog()) === 0, 20_000, 'the duplicate to be dropped');
    expect(a.fake.submitted.length + b.fake.submitted.length).toBe(1);
    expect(b.worker.reports.map((r) => r.outcome)).toContain('skipped');
    expect((await scenario.events()).filter((e) => e.detail.jobId === id)).toHaveLength(1);
  });

  it('long job: the worker extends the visibility and the lease, so no other pod receives it meanwhile', async () => {
    const scenario = await createScenario(moto);
    const [id] = await submit(scenario, 1, SLOW(300));
    // Visibility 2 s, job about 6 s: without extensions the message would reappear twice.
    const a = await pod(scenario, 'pod-a', { fake: { stepDelayMs: 20 }, worker: { visibilityMs: 2_000, heartbeatMs: 500 } });
    await until(() => a.fake.submitted.length === 1, 10_000, 'start');
    const b = await pod(scenario, 'pod-b', { worker: { visibilityMs: 2_000, heartbeatMs: 500 } });
    const records = await settled(scenario, [id]);
    expect(records.get(id)).toMatchObject({ state: 'succeeded', attempts: 1, worker: 'pod-a' });
    expect(a.aws.calls.get('ChangeMessageVisibilityCommand') ?? 0).toBeGreaterThanOrEqual(4);
    expect(b.fake.submitted).toHaveLength(0);
    expect(b.aws.calls.get('UpdateItemCommand') ?? 0).toBe(0);
  });

  it('SIGTERM mid-job: the job is interrupted, handed back (visibility 0, attempt counted) and retried once by another pod', async () => {
    const scenario = await createScenario(moto);
    const [id] = await submit(scenario, 1, SLOW(2000));
    // Visibility 30 s: pod-b getting the job much sooner proves the hand-back set it to 0.
    const a = await pod(scenario, 'pod-a', { fake: { stepDelayMs: 20 }, worker: { handBackAfterMs: 300, visibilityMs: 30_000, heartbeatMs: 10_000 } });
    await until(() => a.fake.submitted.length === 1, 10_000, 'start');
    await a.worker.stop();
    expect(a.worker.reports.map((r) => r.outcome)).toEqual(['handed-back']);
    expect(a.fake.interrupts).toHaveLength(1);
    const handedBack = await scenario.store.get(id);
    expect(handedBack).toMatchObject({ state: 'queued', attempts: 1, error: expect.stringContaining('SIGTERM') });
    const started = Date.now();
    const b = await pod(scenario, 'pod-b', { fake: { stepDelayMs: 0 } });
    const records = await settled(scenario, [id]);
    expect(records.get(id)).toMatchObject({ state: 'succeeded', attempts: 2, worker: 'pod-b' });
    // Visibility 0: pod-b got it at once, not after the 30 s visibility timeout.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(b.fake.submitted).toHaveLength(1);
  });

  it('poison job: a workflow ComfyUI rejects (missing model) fails at once with ComfyUI\'s message, no retry, no DLQ', async () => {
    const scenario = await createScenario(moto);
    const [id] = await submit(scenario, 1, applyOverrides(SDXL, [parseOverride('4.inputs.ckpt_name=missing.safetensors')]));
    const p = await pod(scenario, 'pod-a');
    const records = await settled(scenario, [id]);
    expect(records.get(id)).toMatchObject({ state: 'failed', attempts: 1, errorKind: 'rejected', error: expect.stringContaining("ckpt_name: 'missing.safetensors' not in") });
    expect(p.fake.submitted).toHaveLength(1);
    await until(async () => (await scenario.backlog()) === 0, 10_000, 'message deleted');
    expect(await scenario.deadLetters()).toHaveLength(0);
    expect((await scenario.events()).map((e) => e['detail-type'])).toEqual(['Job Failed']);
  });

  it('poison job: an execution error fails at once with the exception, no retry', async () => {
    const scenario = await createScenario(moto);
    const [id] = await submit(scenario, 1);
    const p = await pod(scenario, 'pod-a', { fake: { scenario: 'execution_error' } });
    const records = await settled(scenario, [id]);
    expect(records.get(id)).toMatchObject({ state: 'failed', attempts: 1, errorKind: 'execution', error: expect.stringContaining('torch.OutOfMemoryError') });
    expect(p.fake.submitted).toHaveLength(1);
  });

  it('transient failures: retried with the attempt counted, then failed and moved to the DLQ after maxAttempts', async () => {
    const scenario = await createScenario(moto);
    const [id] = await submit(scenario, 1, SLOW(2000));
    // Every attempt times out (a transient failure): 2 attempts, then the DLQ.
    const p = await pod(scenario, 'pod-a', { fake: { stepDelayMs: 20 }, worker: { maxAttempts: 2, jobTimeoutMs: 300 } });
    const records = await settled(scenario, [id]);
    expect(records.get(id)).toMatchObject({ state: 'failed', attempts: 2, errorKind: 'exhausted', error: expect.stringContaining('gave up after 2 attempt(s)') });
    await until(() => p.worker.reports.length === 2, 5_000, 'two attempts');
    expect(p.worker.reports.map((r) => r.outcome)).toEqual(['retried', 'dead-lettered']);
    expect(p.fake.submitted).toHaveLength(2);
    // The timed-out prompts were removed from ComfyUI, not left running.
    expect(p.fake.interrupts.length + p.fake.deleted.length).toBeGreaterThanOrEqual(2);
    const dlq = await until(async () => ((await scenario.deadLetters()).length > 0 ? scenario.deadLetters() : undefined), 10_000, 'DLQ');
    expect(dlq).toHaveLength(1);
    expect(JSON.parse(dlq[0].body)).toMatchObject({ jobId: id });
    expect(dlq[0].failure).toContain('gave up after 2');
    expect(await scenario.backlog()).toBe(0);
  });

  it('an unusable message goes to the DLQ without touching the table', async () => {
    const scenario = await createScenario(moto);
    await scenario.aws.sqs.send(new SendMessageCommand({ QueueUrl: scenario.settings.queueUrl, MessageBody: '{"hello":"world"}' }));
    const p = await pod(scenario, 'pod-a');
    const dlq = await until(async () => ((await scenario.deadLetters()).length > 0 ? scenario.deadLetters() : undefined), 10_000, 'DLQ');
    expect(dlq[0].failure).toContain('not a version 1 job message');
    expect(p.aws.calls.get('UpdateItemCommand') ?? 0).toBe(0);
  });

  it('cancel of a queued job: the worker drops its message unrun; the other job runs', async () => {
    const scenario = await createScenario(moto);
    const [keep, drop] = await submit(scenario, 2);
    expect(await scenario.store.cancel(drop)).toBe('cancelled');
    const p = await pod(scenario, 'pod-a');
    const records = await settled(scenario, [keep, drop]);
    expect(records.get(drop)).toMatchObject({ state: 'cancelled', attempts: 0 });
    expect(records.get(keep)).toMatchObject({ state: 'succeeded' });
    await until(async () => (await scenario.backlog()) === 0, 10_000, 'empty queue');
    expect(p.fake.submitted).toHaveLength(1);
    expect(await scenario.store.cancel(keep)).toBe('already-succeeded');
  });

  it('cancel of a running job: the worker interrupts it at the next heartbeat and records cancelled', async () => {
    const scenario = await createScenario(moto);
    const [id] = await submit(scenario, 1, SLOW(5000));
    const p = await pod(scenario, 'pod-a', { fake: { stepDelayMs: 10 }, worker: { heartbeatMs: 300 } });
    await until(() => p.fake.submitted.length === 1, 10_000, 'start');
    expect(await scenario.store.cancel(id)).toBe('requested');
    const records = await settled(scenario, [id]);
    expect(records.get(id)).toMatchObject({ state: 'cancelled', attempts: 1 });
    expect(p.fake.interrupts).toHaveLength(1);
    expect((await until(async () => ((await scenario.events()).length ? scenario.events() : undefined), 10_000, 'event')).map((e) => e['detail-type'])).toEqual(['Job Cancelled']);
  });

  it('a worker whose lease passed to another interrupts its prompt and reports nothing', async () => {
    const scenario = await createScenario(moto);
    const [id] = await submit(scenario, 1, SLOW(5000));
    const p = await pod(scenario, 'pod-a', { fake: { stepDelayMs: 10 }, worker: { heartbeatMs: 300 } });
    await until(() => p.fake.submitted.length === 1, 10_000, 'start');
    // Another worker took the job over (as after an expired lease).
    await scenario.aws.dynamodb.send(
      new UpdateItemCommand({ TableName: scenario.settings.tableName, Key: { id: { S: id } }, UpdateExpression: 'SET #w = :w', ExpressionAttributeNames: { '#w': 'worker' }, ExpressionAttributeValues: { ':w': { S: 'pod-z' } } }),
    );
    await until(() => p.worker.reports.length === 1, 10_000, 'the worker to give up');
    expect(p.worker.reports[0].outcome).toBe('lost');
    expect(p.fake.interrupts).toHaveLength(1);
    expect(await scenario.store.get(id)).toMatchObject({ state: 'running', worker: 'pod-z' });
    expect(await scenario.events()).toHaveLength(0);
  });

  it('waits while the local ComfyUI is busy with other work before taking a job', async () => {
    const scenario = await createScenario(moto);
    const p = await pod(scenario, 'pod-a', { fake: { stepDelayMs: 10 } });
    // An interactive user's prompt occupies ComfyUI.
    const res = await fetch(`${p.fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: SLOW(100), client_id: 'someone' }) });
    expect(res.ok).toBe(true);
    const [id] = await submit(scenario, 1);
    await new Promise((r) => setTimeout(r, 300));
    expect((await scenario.store.get(id))?.state).toBe('queued');
    const records = await settled(scenario, [id]);
    expect(records.get(id)?.state).toBe('succeeded');
  });
});
