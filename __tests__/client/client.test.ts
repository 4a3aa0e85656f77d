import { createServer, type Server } from 'http';
import type { AddressInfo } from 'net';
import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { ComfyClient, type ComfyClientOptions } from '../../cli/comfy/client';
import { AuthError, ExecutionError, PromptRejectedError, ServerError, TimeoutError, UnreachableError, UsageError } from '../../cli/comfy/errors';
import type { ProgressEvent } from '../../cli/comfy/types';
import { applyOverrides, type ApiWorkflow, loadWorkflow, parseOverride } from '../../cli/comfy/workflow';
import { FakeComfyUI, type FakeComfyOptions, png } from './fake-comfyui';

const SDXL = loadWorkflow(resolve(__dirname, '../../examples/workflows/sdxl-text-to-image.json'));
/** The SDXL example rendering two images (batch of 2). */
const TWO_IMAGES = applyOverrides(SDXL, [parseOverride('5.inputs.batch_size=2'), parseOverride('3.inputs.steps=6')]);

/** Fast timings so every scenario finishes in well under a second. */
const FAST: Partial<ComfyClientOptions> = { retries: 0, pollIntervalMs: 50, socketPollIntervalMs: 2_000, reconnectDelayMs: 30, maxReconnectDelayMs: 100, requestTimeoutMs: 5_000 };

const servers: FakeComfyUI[] = [];
const clients: ComfyClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function setup(fakeOptions: FakeComfyOptions = {}, clientOptions: Partial<ComfyClientOptions> = {}) {
  const fake = new FakeComfyUI(fakeOptions);
  servers.push(fake);
  const url = await fake.start();
  const events: ProgressEvent[] = [];
  const client = new ComfyClient({ url, ...FAST, onEvent: (e) => events.push(e), ...clientOptions });
  clients.push(client);
  return { fake, client, events, url };
}

async function submitAndWait(client: ComfyClient, workflow: ApiWorkflow, timeoutMs = 10_000) {
  const events: ProgressEvent[] = [];
  await client.queueRemaining();
  await client.connect();
  const { promptId } = await client.submit(workflow);
  const result = await client.waitForCompletion(promptId, { timeoutMs, onEvent: (e) => events.push(e) });
  return { promptId, result, events };
}

describe('ComfyClient against a fake ComfyUI', () => {
  it('runs a prompt to completion with two images, following progress over the WebSocket', async () => {
    // GIVEN a server and a workflow rendering a batch of two
    const { fake, client } = await setup();
    // WHEN it is submitted and followed
    const { promptId, result, events } = await submitAndWait(client, TWO_IMAGES);
    // THEN both images come back, in the order ComfyUI reports events
    expect(result.promptId).toBe(promptId);
    expect(result.files).toEqual([
      { filename: 't2i_00001_.png', subfolder: 'sdxl', type: 'output' },
      { filename: 't2i_00002_.png', subfolder: 'sdxl', type: 'output' },
    ]);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('finished');
    expect(events.filter((e) => e.type === 'progress').map((e) => (e.type === 'progress' ? `${e.value}/${e.max}` : ''))).toEqual(['1/6', '2/6', '3/6', '4/6', '5/6', '6/6']);
    expect(events).toContainEqual({ type: 'executing', promptId, node: '3' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'executed', node: '9', files: result.files }));
    expect(types.indexOf('executed')).toBeLessThan(types.indexOf('finished'));
    // AND the downloads are the server's bytes, under the ComfyUI subfolder
    const dir = mkdtempSync(join(tmpdir(), 'comfy-dl-'));
    const paths = await client.downloadOutputs(result.files, dir);
    expect(paths).toEqual([join(dir, 'sdxl', 't2i_00001_.png'), join(dir, 'sdxl', 't2i_00002_.png')]);
    expect(readFileSync(paths[1]).equals(png(16, 16, Number(TWO_IMAGES['3'].inputs.seed) + 1))).toBe(true);
    // AND downloading again never overwrites
    expect(await client.downloadOutputs(result.files.slice(0, 1), dir)).toEqual([join(dir, 'sdxl', 't2i_00001_-1.png')]);
    expect(fake.wsConnections).toBe(1);
  });

  it('submits the overridden workflow with its client id', async () => {
    const { fake, client } = await setup();
    const workflow = applyOverrides(SDXL, ['6.inputs.text=a red fox in snow', '3.inputs.seed=1234', '3.inputs.steps=3', '5.inputs.width=832'].map(parseOverride));
    await submitAndWait(client, workflow);
    const body = fake.submitted[0] as { prompt: ApiWorkflow; client_id: string };
    expect(body.client_id).toBe(client.clientId);
    expect(body.prompt['6'].inputs.text).toBe('a red fox in snow');
    expect(body.prompt['3'].inputs).toMatchObject({ seed: 1234, steps: 3, model: ['4', 0] });
    expect(body.prompt['5'].inputs.width).toBe(832);
    expect(body.prompt['7'].inputs.text).toBe(SDXL['7'].inputs.text);
  });

  it('echoes the load balancer stickiness cookies on every later request and on the WebSocket handshake', async () => {
    const { fake, client } = await setup();
    await submitAndWait(client, TWO_IMAGES);
    await client.downloadOutputs([{ filename: 't2i_00001_.png', subfolder: 'sdxl', type: 'output' }], mkdtempSync(join(tmpdir(), 'comfy-dl-')));
    const [first, ...later] = fake.requests;
    expect(first.cookie).toBeUndefined();
    expect(later.length).toBeGreaterThanOrEqual(4);
    const awsalb = /AWSALB=([^;]+)/.exec(later[0].cookie ?? '')?.[1];
    expect(awsalb).toBeTruthy();
    for (const r of later) expect(r.cookie).toContain(`AWSALB=${awsalb}`);
    expect(fake.requestsTo('/ws')[0].cookie).toContain('AWSALBCORS='); // Secure cookie: loopback counts as a secure channel
    expect(client.cookies.names()).toEqual(['AWSALB', 'AWSALBCORS']);
  });

  it('reports node_errors per node when ComfyUI rejects the prompt', async () => {
    const { client } = await setup();
    const workflow = applyOverrides(SDXL, [parseOverride('4.inputs.ckpt_name=missing.safetensors'), parseOverride('3.inputs.steps=0')]);
    const err = (await client.submit(workflow).catch((e: unknown) => e)) as PromptRejectedError;
    expect(err).toBeInstanceOf(PromptRejectedError);
    expect(err.exitCode).toBe(6);
    expect(err.errorType).toBe('prompt_outputs_failed_validation');
    expect(err.nodeErrors).toEqual([
      { nodeId: '3', classType: 'KSampler', errors: [expect.objectContaining({ type: 'value_smaller_than_min', inputName: 'steps' })] },
      {
        nodeId: '4',
        classType: 'CheckpointLoaderSimple',
        errors: [expect.objectContaining({ type: 'value_not_in_list', inputName: 'ckpt_name', details: expect.stringContaining("'missing.safetensors' not in") })],
      },
    ]);
    expect(err.hint).toContain('npm run comfy -- models');
  });

  it('reports a prompt-level rejection (unknown node class) without node errors', async () => {
    const { client } = await setup();
    const workflow: ApiWorkflow = { ...SDXL, '12': { class_type: 'UltimateSDUpscale', inputs: {} } };
    const err = (await client.submit(workflow).catch((e: unknown) => e)) as PromptRejectedError;
    expect(err).toBeInstanceOf(PromptRejectedError);
    expect(err.message).toContain('(invalid_prompt): Cannot execute because node UltimateSDUpscale does not exist.');
    expect(err.nodeErrors).toEqual([]);
  });

  it('fails with the node, the exception and a hint when execution errors mid-run', async () => {
    const { client } = await setup({ scenario: 'execution_error' });
    const events: ProgressEvent[] = [];
    await client.connect();
    const { promptId } = await client.submit(TWO_IMAGES);
    const err = (await client.waitForCompletion(promptId, { timeoutMs: 10_000, onEvent: (e) => events.push(e) }).catch((e: unknown) => e)) as ExecutionError;
    expect(err).toBeInstanceOf(ExecutionError);
    expect(err.exitCode).toBe(7);
    expect(err).toMatchObject({ promptId, nodeId: '3', nodeType: 'KSampler', exceptionType: 'torch.OutOfMemoryError', interrupted: false });
    expect(err.message).toContain('failed at node 3 (KSampler): torch.OutOfMemoryError: Allocation on device 0');
    expect(err.traceback.join('')).toContain('execution.py');
    expect(err.hint).toContain('out of memory');
    expect(events.filter((e) => e.type === 'progress')).toHaveLength(3); // half of 6 steps ran
    expect(events.some((e) => e.type === 'finished')).toBe(false);
  });

  it('also detects the failure from /history when the socket missed it', async () => {
    const { client } = await setup({ scenario: 'execution_error' });
    const { promptId } = await client.submit(TWO_IMAGES); // no WebSocket at all: polling only
    const err = (await client.waitForCompletion(promptId, { timeoutMs: 10_000 }).catch((e: unknown) => e)) as ExecutionError;
    expect(err).toBeInstanceOf(ExecutionError);
    expect(err.exceptionType).toBe('torch.OutOfMemoryError');
  });

  it('survives a dropped WebSocket: reconnects with the same client id and still collects the results', async () => {
    // GIVEN a server that drops every socket mid-run and refuses new ones for 300 ms (the prompt finishes meanwhile)
    const { fake, client, events } = await setup({ scenario: 'drop_ws', refuseMs: 300 });
    const { result, events: promptEvents } = await submitAndWait(client, TWO_IMAGES);
    // THEN the results arrive (from /history) and the socket came back
    expect(result.files).toHaveLength(2);
    expect(events).toContainEqual(expect.objectContaining({ type: 'connection', state: 'closed' }));
    await waitFor(() => fake.wsConnections >= 2);
    const handshakes = fake.requestsTo('/ws');
    expect(new Set(handshakes.map((r) => r.cookie)).size).toBe(1);
    expect(promptEvents.filter((e) => e.type === 'progress').length).toBeLessThan(6); // the tail of the progress was lost with the socket
    // AND later prompts are followed over the new socket
    await waitFor(() => client.socketConnections >= 2);
    const second = await submitAndWait(client, applyOverrides(TWO_IMAGES, [parseOverride('3.inputs.seed=5')]));
    expect(second.events.filter((e) => e.type === 'progress')).toHaveLength(6);
  });

  it('fails at once with a server error (exit 9) when a restart lost the prompt, instead of waiting for the timeout', async () => {
    // GIVEN a server that restarts half way through the sampler and comes back without the prompt
    const { fake, client } = await setup({ scenario: 'restart', refuseMs: 300 });
    const started = Date.now();
    // WHEN the client follows the prompt with a generous timeout
    const err = (await submitAndWait(client, TWO_IMAGES, 30_000).catch((e: unknown) => e)) as ServerError;
    // THEN it notices after the reconnect that neither /queue nor /history knows the prompt
    expect(fake.restarts).toBe(1);
    expect(err).toBeInstanceOf(ServerError);
    expect(err.exitCode).toBe(9);
    expect(err.message).toMatch(/^prompt [0-9a-f-]{36} is no longer known to the server \(restarted\?\)$/);
    expect(err.hint).toContain('submit it again');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('also notices a lost prompt on the slow poll when it follows by polling only', async () => {
    const { client } = await setup({ scenario: 'restart', refuseMs: 200 }, { socketPollIntervalMs: 500 });
    const { promptId } = await client.submit(TWO_IMAGES); // no WebSocket: /history polling, /queue on the slow cadence
    const err = await client.waitForCompletion(promptId, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).message).toBe(`prompt ${promptId} is no longer known to the server (restarted?)`);
  });

  it('falls back to polling /history when no WebSocket can be opened', async () => {
    const { client, events } = await setup({ websocket: false });
    const { result } = await submitAndWait(client, TWO_IMAGES);
    expect(result.files).toHaveLength(2);
    expect(events).toContainEqual(expect.objectContaining({ type: 'connection', state: 'unavailable', detail: expect.stringContaining('polling /history') }));
  });

  it('waits for the history entry that ComfyUI writes just after execution_success', async () => {
    const { client } = await setup({ historyLagMs: 400 });
    const { result } = await submitAndWait(client, TWO_IMAGES);
    expect(result.files).toHaveLength(2);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(350);
  });

  it('reports nodes served from the cache on an identical second prompt', async () => {
    const { client } = await setup();
    await submitAndWait(client, TWO_IMAGES);
    const { result, events } = await submitAndWait(client, TWO_IMAGES);
    expect(result.cachedNodes.sort()).toEqual(['3', '4', '5', '6', '7', '8']);
    expect(events).toContainEqual(expect.objectContaining({ type: 'cached' }));
  });

  it('times out, then cancels precisely: interrupts the running prompt and dequeues the pending one', async () => {
    const { fake, client } = await setup({ scenario: 'hang' });
    await client.connect();
    const running = await client.submit(TWO_IMAGES);
    const pending = await client.submit(applyOverrides(TWO_IMAGES, [parseOverride('3.inputs.seed=9')]));
    const started = Date.now();
    const err = await client.waitForCompletion(running.promptId, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).exitCode).toBe(8);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await client.cancel(pending.promptId)).toBe('dequeued');
    expect(await client.cancel(running.promptId)).toBe('interrupted');
    expect(fake.deleted).toEqual([pending.promptId]);
    expect(fake.interrupts).toEqual([running.promptId]);
    const outcome = await client.waitForCompletion(running.promptId, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(outcome).toMatchObject({ interrupted: true, nodeId: '3' });
    expect(await client.cancel(running.promptId)).toBe('not-queued');
  });

  it('stops waiting when its signal aborts', async () => {
    const { client } = await setup({ scenario: 'hang' });
    const { promptId } = await client.submit(TWO_IMAGES);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user stop')), 100);
    await expect(client.waitForCompletion(promptId, { signal: controller.signal })).rejects.toThrow('user stop');
  });

  describe('basic auth (CloudFront edge authentication)', () => {
    const auth = { username: 'ana', password: 'correct horse' };

    it('passes with the right credentials on HTTP and the WebSocket', async () => {
      const { fake, client } = await setup({ auth }, { credentials: auth });
      const { result } = await submitAndWait(client, TWO_IMAGES);
      expect(result.files).toHaveLength(2);
      expect(fake.requestsTo('/ws')[0].authorization).toBe(`Basic ${Buffer.from('ana:correct horse').toString('base64')}`);
    });

    it('fails with the auth error (exit 4) without or with wrong credentials', async () => {
      const { client } = await setup({ auth });
      const missing = (await client.queueRemaining().catch((e: unknown) => e)) as AuthError;
      expect(missing).toBeInstanceOf(AuthError);
      expect(missing.exitCode).toBe(4);
      expect(missing.message).toContain('requires authentication (401)');
      const wrong = new ComfyClient({ url: client.url, ...FAST, credentials: { username: 'ana', password: 'nope' } });
      clients.push(wrong);
      await expect(wrong.systemStats()).rejects.toThrow('rejected the credentials of user "ana" (401)');
      await expect(wrong.connect()).rejects.toBeInstanceOf(AuthError);
    });
  });

  describe('bearer token (edge.auth.mode cognito: the ALB verifies a Cognito access token)', () => {
    const token = 'eyJraWQiOiJrMSJ9.eyJzY29wZSI6ImNvbWZ5dWkvaW52b2tlIn0.c2lnbmF0dXJl';

    it('sends the token on HTTP and on the WebSocket handshake', async () => {
      const { fake, client } = await setup({ bearerToken: token }, { bearerToken: token });
      const { result } = await submitAndWait(client, TWO_IMAGES);
      expect(result.files).toHaveLength(2);
      expect(fake.requestsTo('/ws')[0].authorization).toBe(`Bearer ${token}`);
      expect(fake.requestsTo('/prompt').every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
    });

    it('reports a rejected token as an auth error (exit 4) that says how to get a new one', async () => {
      const { client } = await setup({ bearerToken: token }, { bearerToken: `${token}x` });
      const error = (await client.systemStats().catch((e: unknown) => e)) as AuthError;
      expect(error).toBeInstanceOf(AuthError);
      expect(error.exitCode).toBe(4);
      expect(error.message).toContain('rejected the bearer token (401)');
      expect(error.hint).toContain('cognito_token_url');
    });

    it('refuses a token together with Basic credentials, and a value that is not a token', () => {
      expect(() => new ComfyClient({ url: 'https://x', bearerToken: token, credentials: { username: 'a', password: 'b' } })).toThrow(UsageError);
      expect(() => new ComfyClient({ url: 'https://x', bearerToken: `Bearer ${token}` })).toThrow('is not a token');
      expect(() => new ComfyClient({ url: 'https://x', bearerToken: 'a\r\nX-Injected: 1' })).toThrow(UsageError);
    });
  });

  it('lists models per folder, skipping non-model folders, and falls back to /object_info', async () => {
    const { client } = await setup();
    const listing = await client.listModels();
    expect(listing.source).toBe('models');
    expect(Object.keys(listing.folders)).toEqual(['checkpoints', 'diffusion_models', 'loras', 'text_encoders', 'vae']);
    expect((await client.listModels('loras')).folders).toEqual({ loras: ['detail-tweaker-xl.safetensors'] });
    await expect(client.listModels('nope')).rejects.toBeInstanceOf(UsageError);

    const old = await setup({ modelsEndpoint: false });
    const fallback = await old.client.listModels();
    expect(fallback.source).toBe('object_info');
    expect(fallback.folders.checkpoints).toEqual(['sd_xl_base_1.0.safetensors', 'sd_xl_refiner_1.0.safetensors']); // ["COMBO", {options}] form
    expect(fallback.folders.vae).toEqual(['sdxl_vae.safetensors']); // [[choices], {}] form
  });

  it('summarises the server with /system_stats and /queue', async () => {
    const { client } = await setup();
    expect((await client.systemStats()).devices[0].name).toContain('NVIDIA L4');
    expect(await client.queue()).toEqual({ queue_running: [], queue_pending: [] });
  });

  it('classifies an unreachable endpoint', async () => {
    const port = await closedPort();
    const client = new ComfyClient({ url: `http://127.0.0.1:${port}`, ...FAST });
    const err = (await client.systemStats().catch((e: unknown) => e)) as UnreachableError;
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('ECONNREFUSED');
  });

  describe('answers that are not ComfyUI', () => {
    let server: Server;
    let url: string;
    let hits = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        hits += 1;
        if (req.url === '/queue') {
          res.writeHead(502, { 'Content-Type': 'text/html' });
          res.end('<html><body>502 Bad Gateway</body></html>');
        } else if (req.url === '/prompt') {
          res.writeHead(302, { Location: 'https://auth.example.com/login' });
          res.end();
        } else if (req.url === '/history/x') {
          res.writeHead(301, { Location: `https://${req.headers.host}/history/x` });
          res.end();
        } else {
          res.writeHead(200, { 'Content-Type': 'text/html' });
          res.end('<html>login</html>');
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('retries 502 on GETs, then reports a server error with a hint', async () => {
      hits = 0;
      const client = new ComfyClient({ url, retries: 2, retryDelayMs: 10 });
      const err = (await client.queue().catch((e: unknown) => e)) as ServerError;
      expect(err).toBeInstanceOf(ServerError);
      expect(err).toMatchObject({ status: 502, kind: 'server' });
      expect(err.message).toContain(`GET ${url}queue: HTTP 502: <html><body>502 Bad Gateway</body></html>`);
      expect(err.hint).toContain('No healthy ComfyUI pod');
      expect(hits).toBe(3);
    });

    it('treats a redirect as a login page and HTML as not JSON', async () => {
      const client = new ComfyClient({ url, retries: 0 });
      await expect(client.queueRemaining()).rejects.toThrow('redirected to https://auth.example.com/login (302)');
      await expect(client.systemStats()).rejects.toThrow('expected JSON, got text/html');
    });

    it('tells to use https:// when plain HTTP is redirected to HTTPS (CloudFront viewer policy)', async () => {
      const client = new ComfyClient({ url, retries: 0 });
      const err = (await client.history('x').catch((e: unknown) => e)) as UsageError;
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toContain('redirects to HTTPS');
      expect(err.hint).toBe(`Use --url https://${new URL(url).host}/`);
    });
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolvePort) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolvePort(port));
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
