/**
 * A fake ComfyUI server for the client tests and for demos: the documented
 * HTTP endpoints and WebSocket messages, a real prompt queue executed node by
 * node in dependency order, ComfyUI-style validation (unknown model ->
 * node_errors), a node cache, tiny PNG outputs, optional basic auth and ALB
 * stickiness cookies. Scripted scenarios inject failures.
 *
 * Standalone: node scripts/run-ts.mjs __tests__/client/fake-comfyui.ts --port 8188
 *   [--host 127.0.0.1] [--scenario success|execution_error|drop_ws|hang|restart] [--user NAME:PASS] [--step-delay MS]
 */
import { randomUUID } from 'crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import type { AddressInfo, Socket } from 'net';
import { deflateSync } from 'zlib';
import { WebSocket, WebSocketServer } from 'ws';

/** Scripted behaviour of executions. */
export type Scenario =
  /** Run every prompt to completion. */
  | 'success'
  /** The first sampler raises an error half way through its steps. */
  | 'execution_error'
  /** Half way through the first sampler, drop every WebSocket and refuse new ones for `refuseMs`. */
  | 'drop_ws'
  /** The first sampler never finishes (until interrupted). */
  | 'hang'
  /**
   * Half way through the first sampler the server "restarts" (pod restart, OOM kill): it stops listening
   * for `refuseMs` (connections refused), and comes back with an empty queue and history.
   */
  | 'restart';

/** Options of the fake server. */
export interface FakeComfyOptions {
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly scenario?: Scenario;
  /** Require basic auth with these credentials. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Require `Authorization: Bearer <this>` instead (the ALB's JWT check in edge.auth.mode cognito). */
  readonly bearerToken?: string;
  /** Delay per sampler step (default 2 ms). */
  readonly stepDelayMs?: number;
  /** Delay per executed node (default 1 ms). */
  readonly nodeDelayMs?: number;
  /** How long new WebSockets are refused after a drop, or the port stays closed in a restart (default 300 ms). */
  readonly refuseMs?: number;
  /** Delay between execution_success and the history entry appearing (default 0). */
  readonly historyLagMs?: number;
  /** Model folder -> files. */
  readonly models?: Record<string, string[]>;
  /** Serve GET /models (default true); false answers 404 like old ComfyUI versions. */
  readonly modelsEndpoint?: boolean;
  /** Set AWSALB/AWSALBCORS cookies like an ALB with stickiness (default true). */
  readonly stickiness?: boolean;
  /** Accept WebSocket upgrades (default true); false answers 404 like a proxy without WebSocket support. */
  readonly websocket?: boolean;
  /** Request log. */
  readonly log?: (line: string) => void;
  /** Act like the edge with no replica (elastic serving): answer this many HTTP requests with 503 + Retry-After + the wake JSON first. */
  readonly wakeAfterRequests?: number;
  /** Retry-After seconds of those answers (default 1). */
  readonly wakeRetryAfterSeconds?: number;
}

/** A request the fake received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly cookie?: string;
  readonly authorization?: string;
}

interface Node {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

interface QueueItem {
  readonly number: number;
  readonly promptId: string;
  readonly prompt: Record<string, Node>;
  readonly extraData: Record<string, unknown>;
  readonly outputs: string[];
  interrupted?: boolean;
  /** Lost in a restart: the worker drops it without a trace. */
  lost?: boolean;
}

const DEFAULT_MODELS: Record<string, string[]> = {
  checkpoints: ['sd_xl_base_1.0.safetensors', 'sd_xl_refiner_1.0.safetensors'],
  loras: ['detail-tweaker-xl.safetensors'],
  vae: ['sdxl_vae.safetensors'],
  text_encoders: [],
  diffusion_models: [],
};

/** Node classes the fake knows: name -> [output node?, model input, model folder]. */
const NODE_CLASSES: Record<string, { output?: boolean; modelInput?: [string, string] }> = {
  CheckpointLoaderSimple: { modelInput: ['ckpt_name', 'checkpoints'] },
  LoraLoader: { modelInput: ['lora_name', 'loras'] },
  VAELoader: { modelInput: ['vae_name', 'vae'] },
  CLIPTextEncode: {},
  EmptyLatentImage: {},
  KSampler: {},
  KSamplerAdvanced: {},
  VAEDecode: {},
  SaveImage: { output: true },
  PreviewImage: { output: true },
};

export class FakeComfyUI {
  /** Every HTTP request and WebSocket handshake, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Bodies of POST /prompt. */
  readonly submitted: Record<string, unknown>[] = [];
  /** Prompt ids passed to POST /interrupt (undefined: untargeted). */
  readonly interrupts: (string | undefined)[] = [];
  /** Prompt ids deleted through POST /queue. */
  readonly deleted: string[] = [];
  /** WebSocket connections accepted so far. */
  wsConnections = 0;
  /** Restarts so far (scenario `restart` or restart()). */
  restarts = 0;
  /** Scenario of executions from now on. */
  scenario: Scenario;

  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Map<string, WebSocket>();
  private readonly queue: QueueItem[] = [];
  private running?: QueueItem;
  private readonly history = new Map<string, unknown>();
  private readonly files = new Map<string, Buffer>();
  private readonly cache = new Set<string>();
  private number = 0;
  private imageCounter = 0;
  private refuseUntil = 0;
  private scenarioFired = false;
  private lastNodeId?: string;
  private workerBusy = false;
  private stopped = false;
  private port?: number;
  private relistenTimer?: NodeJS.Timeout;
  private readonly opts: Required<Omit<FakeComfyOptions, 'auth' | 'bearerToken' | 'log' | 'wakeAfterRequests' | 'wakeRetryAfterSeconds'>> & Pick<FakeComfyOptions, 'auth' | 'bearerToken' | 'log'>;
  /** Requests still answered with the wake 503. */
  private asleepFor: number;
  private readonly wakeRetryAfterSeconds: number;

  constructor(options: FakeComfyOptions = {}) {
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      scenario: options.scenario ?? 'success',
      auth: options.auth,
      bearerToken: options.bearerToken,
      stepDelayMs: options.stepDelayMs ?? 2,
      nodeDelayMs: options.nodeDelayMs ?? 1,
      refuseMs: options.refuseMs ?? 300,
      historyLagMs: options.historyLagMs ?? 0,
      models: options.models ?? DEFAULT_MODELS,
      modelsEndpoint: options.modelsEndpoint ?? true,
      stickiness: options.stickiness ?? true,
      websocket: options.websocket ?? true,
      log: options.log,
    };
    this.asleepFor = options.wakeAfterRequests ?? 0;
    this.wakeRetryAfterSeconds = options.wakeRetryAfterSeconds ?? 1;
    this.scenario = this.opts.scenario;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) this.json(res, 500, { error: err.message });
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head));
  }

  /** Starts listening; resolves with the base URL. */
  start(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this.url);
      });
    });
  }

  /** Base URL (after start; stays the same across restarts). */
  get url(): string {
    return `http://${this.opts.host}:${this.port}`;
  }

  /**
   * Simulates a ComfyUI restart: every connection is cut, the port is closed
   * for `downMs`, and the server comes back with an empty queue, history and
   * cache (ComfyUI keeps them in memory only). The running prompt vanishes.
   */
  restart(downMs = this.opts.refuseMs): void {
    this.restarts += 1;
    if (this.running) this.running.lost = true;
    for (const item of this.queue) item.lost = true;
    this.queue.length = 0;
    this.running = undefined;
    this.history.clear();
    this.cache.clear();
    this.sockets.clear();
    for (const ws of this.wss.clients) ws.terminate();
    this.server.close();
    this.server.closeAllConnections();
    this.relistenTimer = setTimeout(() => {
      if (!this.stopped) this.server.listen(this.port, this.opts.host);
    }, downMs);
  }

  /** Stops the server, its sockets and the worker. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.relistenTimer);
    if (this.running) this.running.interrupted = true;
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests (HTTP and WebSocket) to a path. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  // ------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.record(req, url.pathname);
    if (!this.authorized(req)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="ComfyUI", charset="UTF-8"', 'Content-Type': 'text/plain' });
      res.end('Unauthorized');
      return;
    }
    if (this.asleepFor > 0) {
      this.asleepFor -= 1;
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': String(this.wakeRetryAfterSeconds), 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ status: 'waking', message: 'No GPU is running; one is starting.', retryAfterSeconds: this.wakeRetryAfterSeconds }));
      return;
    }
    this.sticky(req, res);
    const route = `${req.method} ${url.pathname}`;
    if (route === 'POST /prompt') return this.postPrompt(res, await readBody(req));
    if (route === 'GET /prompt') return this.json(res, 200, { exec_info: { queue_remaining: this.remaining() } });
    if (route === 'GET /queue') {
      return this.json(res, 200, { queue_running: this.running ? [queueTuple(this.running)] : [], queue_pending: this.queue.map(queueTuple) });
    }
    if (route === 'POST /queue') return this.postQueue(res, await readBody(req));
    if (route === 'POST /interrupt') {
      const body = (await readBody(req).catch(() => ({}))) as { prompt_id?: string };
      this.interrupts.push(body.prompt_id);
      if (this.running && (!body.prompt_id || body.prompt_id === this.running.promptId)) this.running.interrupted = true;
      return this.json(res, 200, {});
    }
    if (route === 'GET /history') return this.json(res, 200, Object.fromEntries(this.history));
    if (req.method === 'GET' && url.pathname.startsWith('/history/')) {
      const id = decodeURIComponent(url.pathname.slice('/history/'.length));
      return this.json(res, 200, this.history.has(id) ? { [id]: this.history.get(id) } : {});
    }
    if (route === 'GET /view') return this.view(res, url.searchParams);
    if (route === 'GET /system_stats') return this.json(res, 200, SYSTEM_STATS);
    if (route === 'GET /models' && this.opts.modelsEndpoint) return this.json(res, 200, [...Object.keys(this.opts.models), 'custom_nodes', 'configs']);
    if (req.method === 'GET' && url.pathname.startsWith('/models/') && this.opts.modelsEndpoint) {
      const folder = decodeURIComponent(url.pathname.slice('/models/'.length));
      const files = this.opts.models[folder] ?? (folder === 'custom_nodes' ? ['websocket_image_save.py'] : undefined);
      return files ? this.json(res, 200, files) : this.empty(res, 404);
    }
    if (route === 'GET /object_info') return this.json(res, 200, this.objectInfo());
    this.empty(res, 404);
  }

  private postPrompt(res: ServerResponse, body: unknown): void {
    const data = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    this.submitted.push(data);
    const prompt = data.prompt as Record<string, Node> | undefined;
    if (typeof prompt !== 'object' || prompt === null) {
      return this.json(res, 400, { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} });
    }
    for (const [id, node] of Object.entries(prompt)) {
      if (!node || typeof node.class_type !== 'string' || !(node.class_type in NODE_CLASSES)) {
        return this.json(res, 400, {
          error: { type: 'invalid_prompt', message: `Cannot execute because node ${node?.class_type ?? 'undefined'} does not exist.`, details: `Node ID '#${id}'`, extra_info: {} },
          node_errors: {},
        });
      }
    }
    const outputs = Object.keys(prompt).filter((id) => NODE_CLASSES[prompt[id].class_type].output);
    if (outputs.length === 0) {
      return this.json(res, 400, { error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, node_errors: [] });
    }
    const nodeErrors = this.validate(prompt, outputs);
    if (Object.keys(nodeErrors).length > 0) {
      return this.json(res, 400, { error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} }, node_errors: nodeErrors });
    }
    const item: QueueItem = {
      number: this.number++,
      promptId: randomUUID(),
      prompt,
      extraData: { ...(data.extra_data as Record<string, unknown> | undefined), client_id: data.client_id },
      outputs,
    };
    this.queue.push(item);
    this.json(res, 200, { prompt_id: item.promptId, number: item.number, node_errors: {} });
    this.broadcastStatus();
    void this.work();
  }

  /** ComfyUI-style input validation: model choices and sampler step bounds. */
  private validate(prompt: Record<string, Node>, outputs: string[]): Record<string, unknown> {
    const errors: Record<string, unknown> = {};
    for (const [id, node] of Object.entries(prompt)) {
      const problems: Record<string, unknown>[] = [];
      const modelInput = NODE_CLASSES[node.class_type].modelInput;
      if (modelInput) {
        const [input, folder] = modelInput;
        const value = node.inputs[input];
        const choices = this.opts.models[folder] ?? [];
        if (typeof value !== 'string' || !choices.includes(value)) {
          problems.push({
            type: 'value_not_in_list',
            message: 'Value not in list',
            details: `${input}: '${String(value)}' not in ${JSON.stringify(choices)}`,
            extra_info: { input_name: input, input_config: [choices], received_value: value },
          });
        }
      }
      if ('steps' in node.inputs && typeof node.inputs.steps === 'number' && node.inputs.steps < 1) {
        problems.push({
          type: 'value_smaller_than_min',
          message: 'Value smaller than min',
          details: `steps: ${node.inputs.steps} < 1`,
          extra_info: { input_name: 'steps', received_value: node.inputs.steps },
        });
      }
      if (problems.length > 0) errors[id] = { errors: problems, dependent_outputs: outputs, class_type: node.class_type };
    }
    return errors;
  }

  private postQueue(res: ServerResponse, body: unknown): void {
    const data = (body ?? {}) as { delete?: string[]; clear?: boolean };
    const remove = new Set(data.clear ? this.queue.map((q) => q.promptId) : (data.delete ?? []));
    for (let i = this.queue.length - 1; i >= 0; i -= 1) {
      if (remove.has(this.queue[i].promptId)) {
        this.deleted.push(this.queue[i].promptId);
        this.queue.splice(i, 1);
      }
    }
    this.empty(res, 200);
    this.broadcastStatus();
  }

  private view(res: ServerResponse, query: URLSearchParams): void {
    const filename = query.get('filename') ?? '';
    const subfolder = query.get('subfolder') ?? '';
    const type = query.get('type') ?? 'output';
    if (filename === '' || filename.startsWith('/') || filename.includes('..') || subfolder.includes('..')) return this.empty(res, 400);
    const file = this.files.get(`${type}/${subfolder}/${filename}`);
    if (!file) return this.empty(res, 404);
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': file.length, 'Content-Disposition': `filename="${filename}"` });
    res.end(file);
  }

  private objectInfo(): Record<string, unknown> {
    const info: Record<string, unknown> = {};
    for (const [cls, meta] of Object.entries(NODE_CLASSES)) {
      const required: Record<string, unknown> = {};
      if (meta.modelInput) {
        const choices = this.opts.models[meta.modelInput[1]] ?? [];
        // Newer ComfyUI: ["COMBO", {options}]; older: [[choices], {}]. Serve both shapes.
        required[meta.modelInput[0]] = cls === 'CheckpointLoaderSimple' ? ['COMBO', { options: choices }] : [choices, {}];
      }
      info[cls] = { input: { required }, output_node: Boolean(meta.output), name: cls, display_name: cls, category: 'fake' };
    }
    return info;
  }

  // -------------------------------------------------------- WebSocket

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.record(req, url.pathname);
    // A client that gives up mid-refusal resets the socket; that is not a server failure.
    socket.on('error', () => undefined);
    const refuse = (status: number, text: string, extra = ''): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (url.pathname !== '/ws' || !this.opts.websocket) return refuse(404, 'Not Found');
    if (!this.authorized(req)) return refuse(401, 'Unauthorized', 'WWW-Authenticate: Basic realm="ComfyUI"\r\n');
    if (Date.now() < this.refuseUntil) return refuse(503, 'Service Unavailable');
    const headers = this.stickyHeaders(req).map((c) => `Set-Cookie: ${c}`);
    const addHeaders = (h: string[]): void => {
      h.push(...headers);
    };
    this.wss.once('headers', addHeaders);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wss.off('headers', addHeaders);
      this.wsConnections += 1;
      const sid = url.searchParams.get('clientId') || randomUUID().replace(/-/g, '');
      this.sockets.get(sid)?.terminate();
      this.sockets.set(sid, ws);
      ws.on('close', () => {
        if (this.sockets.get(sid) === ws) this.sockets.delete(sid);
      });
      send(ws, 'status', { status: { exec_info: { queue_remaining: this.remaining() } }, sid });
      // Like ComfyUI: a reconnecting client that owns the running prompt learns the current node.
      if (this.running && this.running.extraData.client_id === sid && this.lastNodeId) send(ws, 'executing', { node: this.lastNodeId });
    });
  }

  // -------------------------------------------------------- execution

  private async work(): Promise<void> {
    if (this.workerBusy) return;
    this.workerBusy = true;
    try {
      while (!this.stopped && this.queue.length > 0) {
        const item = this.queue.shift() as QueueItem;
        this.running = item;
        await this.execute(item);
        if (this.running === item) this.running = undefined;
        this.lastNodeId = undefined;
        this.broadcastStatus();
      }
    } finally {
      this.workerBusy = false;
    }
  }

  private async execute(item: QueueItem): Promise<void> {
    const sid = item.extraData.client_id as string | undefined;
    const toClient = (type: string, data: Record<string, unknown>): void => {
      const ws = sid ? this.sockets.get(sid) : undefined;
      if (ws) send(ws, type, data);
    };
    const messages: [string, Record<string, unknown>][] = [];
    const event = (type: string, data: Record<string, unknown>): void => {
      messages.push([type, data]);
      toClient(type, data);
    };
    event('execution_start', { prompt_id: item.promptId, timestamp: Date.now() });
    const order = topologicalOrder(item.prompt);
    const signatures = new Map(order.map((id) => [id, signature(item.prompt, id)]));
    const cached = order.filter((id) => !NODE_CLASSES[item.prompt[id].class_type].output && this.cache.has(signatures.get(id) as string));
    event('execution_cached', { nodes: cached, prompt_id: item.promptId, timestamp: Date.now() });
    const outputs: Record<string, unknown> = {};
    const executed: string[] = [...cached];
    const fail = (type: 'execution_error' | 'execution_interrupted', data: Record<string, unknown>): void => {
      event(type, { prompt_id: item.promptId, executed, timestamp: Date.now(), ...data });
      this.history.set(item.promptId, historyEntry(item, outputs, 'error', messages));
      toClient('executing', { node: null, prompt_id: item.promptId });
    };
    for (const id of order) {
      if (cached.includes(id)) continue;
      const node = item.prompt[id];
      this.lastNodeId = id;
      toClient('executing', { node: id, display_node: id, prompt_id: item.promptId });
      await sleep(this.opts.nodeDelayMs);
      const steps = typeof node.inputs.steps === 'number' ? node.inputs.steps : 0;
      for (let step = 1; step <= steps; step += 1) {
        const firstSampler = !this.scenarioFired;
        if (item.lost) return;
        if (item.interrupted || (this.scenario === 'hang' && firstSampler)) {
          this.scenarioFired = true;
          while (!item.interrupted && !this.stopped && !item.lost) await sleep(5);
          if (item.lost) return;
          fail('execution_interrupted', { node_id: id, node_type: node.class_type });
          return;
        }
        await sleep(this.opts.stepDelayMs);
        if (item.lost) return;
        toClient('progress', { value: step, max: steps, prompt_id: item.promptId, node: id });
        if (step === Math.ceil(steps / 2) && firstSampler && this.scenario === 'execution_error') {
          this.scenarioFired = true;
          fail('execution_error', {
            node_id: id,
            node_type: node.class_type,
            exception_message: 'Allocation on device 0 would exceed allowed memory. (out of memory)\nCurrently allocated     : 21.02 GiB',
            exception_type: 'torch.OutOfMemoryError',
            traceback: ['  File "/app/execution.py", line 496, in execute\n', '    output_data = get_output_data(obj, input_data_all)\n', 'torch.OutOfMemoryError: Allocation on device 0\n'],
            current_inputs: {},
            current_outputs: [],
          });
          return;
        }
        if (step === Math.ceil(steps / 2) && firstSampler && this.scenario === 'restart') {
          this.scenarioFired = true;
          this.restart();
          return;
        }
        if (step === Math.ceil(steps / 2) && firstSampler && this.scenario === 'drop_ws') {
          this.scenarioFired = true;
          this.refuseUntil = Date.now() + this.opts.refuseMs;
          for (const ws of this.wss.clients) ws.terminate();
        }
      }
      if (node.class_type === 'SaveImage' || node.class_type === 'PreviewImage') {
        const images = this.saveImages(item.prompt, node);
        outputs[id] = { images };
        toClient('executed', { node: id, display_node: id, output: { images }, prompt_id: item.promptId });
      } else {
        this.cache.add(signatures.get(id) as string);
      }
      executed.push(id);
    }
    if (item.lost) return;
    event('execution_success', { prompt_id: item.promptId, timestamp: Date.now() });
    // Like ComfyUI: the prompt stays in queue_running until its history entry is written (task_done), after execution_success.
    if (this.opts.historyLagMs > 0) await sleep(this.opts.historyLagMs);
    if (item.lost) return;
    this.history.set(item.promptId, historyEntry(item, outputs, 'success', messages));
    toClient('executing', { node: null, prompt_id: item.promptId });
  }

  private saveImages(prompt: Record<string, Node>, node: Node): { filename: string; subfolder: string; type: string }[] {
    const temp = node.class_type === 'PreviewImage';
    const latent = Object.values(prompt).find((n) => n.class_type === 'EmptyLatentImage');
    const batch = typeof latent?.inputs.batch_size === 'number' ? latent.inputs.batch_size : 1;
    const sampler = Object.values(prompt).find((n) => typeof n.inputs.seed === 'number' || typeof n.inputs.noise_seed === 'number');
    const seed = Number(sampler?.inputs.seed ?? sampler?.inputs.noise_seed ?? 0);
    const prefix = temp ? 'ComfyUI_temp' : String(node.inputs.filename_prefix ?? 'ComfyUI');
    const slash = prefix.lastIndexOf('/');
    const subfolder = slash >= 0 ? prefix.slice(0, slash) : '';
    const stem = slash >= 0 ? prefix.slice(slash + 1) : prefix;
    const type = temp ? 'temp' : 'output';
    const images = [];
    for (let i = 0; i < batch; i += 1) {
      this.imageCounter += 1;
      const filename = `${stem}_${String(this.imageCounter).padStart(5, '0')}_.png`;
      this.files.set(`${type}/${subfolder}/${filename}`, png(16, 16, seed + i));
      images.push({ filename, subfolder, type });
    }
    return images;
  }

  // ---------------------------------------------------------- helpers

  private remaining(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  private broadcastStatus(): void {
    for (const ws of this.sockets.values()) send(ws, 'status', { status: { exec_info: { queue_remaining: this.remaining() } } });
  }

  private record(req: IncomingMessage, path: string): void {
    this.requests.push({ method: req.method ?? 'GET', path, cookie: req.headers.cookie, authorization: req.headers.authorization });
    this.opts.log?.(`${req.method} ${req.url}${req.headers.upgrade ? ' (websocket)' : ''}`);
  }

  private authorized(req: IncomingMessage): boolean {
    if (this.opts.bearerToken !== undefined) return req.headers.authorization === `Bearer ${this.opts.bearerToken}`;
    if (!this.opts.auth) return true;
    const expected = `Basic ${Buffer.from(`${this.opts.auth.username}:${this.opts.auth.password}`).toString('base64')}`;
    return req.headers.authorization === expected;
  }

  /** ALB duration-based stickiness: AWSALB, plus AWSALBCORS (SameSite=None; Secure) on every response. */
  private stickyHeaders(req: IncomingMessage): string[] {
    if (!this.opts.stickiness) return [];
    const current = /(?:^|;\s*)AWSALB=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? randomUUID().replace(/-/g, '');
    const expires = new Date(Date.now() + 7 * 86_400_000).toUTCString();
    return [`AWSALB=${current}; Expires=${expires}; Path=/`, `AWSALBCORS=${current}; Expires=${expires}; Path=/; SameSite=None; Secure`];
  }

  private sticky(req: IncomingMessage, res: ServerResponse): void {
    const cookies = this.stickyHeaders(req);
    if (cookies.length > 0) res.setHeader('Set-Cookie', cookies);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private empty(res: ServerResponse, status: number): void {
    res.writeHead(status, { 'Content-Length': 0 });
    res.end();
  }
}

const SYSTEM_STATS = {
  system: {
    os: 'posix',
    ram_total: 66_352_320_512,
    ram_free: 58_931_724_288,
    comfyui_version: '0.3.66',
    python_version: '3.12.3 (main, Jun 18 2025, 17:59:45) [GCC 13.3.0]',
    pytorch_version: '2.8.0+cu128',
    embedded_python: false,
    argv: ['main.py', '--listen', '0.0.0.0', '--port', '8188'],
  },
  devices: [{ name: 'cuda:0 NVIDIA L4 : cudaMallocAsync', type: 'cuda', index: 0, vram_total: 23_580_639_232, vram_free: 22_895_181_824, torch_vram_total: 0, torch_vram_free: 0 }],
};

function queueTuple(item: QueueItem): unknown[] {
  return [item.number, item.promptId, item.prompt, item.extraData, item.outputs];
}

function historyEntry(item: QueueItem, outputs: Record<string, unknown>, status: 'success' | 'error', messages: [string, Record<string, unknown>][]): unknown {
  return {
    prompt: queueTuple(item),
    outputs,
    status: { status_str: status, completed: status === 'success', messages },
    meta: Object.fromEntries(Object.keys(outputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }])),
  };
}

/** Nodes in dependency order (inputs before the nodes that use them). */
function topologicalOrder(prompt: Record<string, Node>): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string): void => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const value of Object.values(prompt[id].inputs)) if (isLink(value) && value[0] in prompt) visit(value[0]);
    order.push(id);
  };
  for (const id of Object.keys(prompt)) visit(id);
  return order;
}

/** Cache key of a node: its class and inputs with links replaced by the linked node's key. */
function signature(prompt: Record<string, Node>, id: string): string {
  const node = prompt[id];
  const inputs = Object.entries(node.inputs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k, isLink(v) && v[0] in prompt ? `${signature(prompt, v[0])}#${v[1]}` : v]);
  return JSON.stringify([node.class_type, inputs]);
}

function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}

function send(ws: WebSocket, type: string, data: Record<string, unknown>): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type, data }));
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {});
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------- PNG

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid RGB PNG with a gradient whose colours depend on `seed`. */
export function png(width: number, height: number, seed: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // colour type RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y += 1) {
    const row = Buffer.alloc(1 + width * 3); // filter byte 0 + pixels
    for (let x = 0; x < width; x += 1) {
      row[1 + x * 3] = (seed * 37 + x * 16) & 0xff;
      row[2 + x * 3] = (seed * 91 + y * 16) & 0xff;
      row[3 + x * 3] = (seed * 13 + (x + y) * 8) & 0xff;
    }
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

// ---------------------------------------------------------- standalone

function standaloneOptions(argv: string[]): FakeComfyOptions {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const user = value('--user');
  const scenario = (value('--scenario') ?? 'success') as Scenario;
  if (!['success', 'execution_error', 'drop_ws', 'hang', 'restart'].includes(scenario)) throw new Error(`unknown --scenario ${scenario}`);
  return {
    host: value('--host') ?? '127.0.0.1',
    port: Number(value('--port') ?? 8188),
    scenario,
    stepDelayMs: Number(value('--step-delay') ?? 60),
    nodeDelayMs: 40,
    auth: user ? { username: user.slice(0, user.indexOf(':')), password: user.slice(user.indexOf(':') + 1) } : undefined,
    log: (line) => process.stderr.write(`fake-comfyui: ${line}\n`),
  };
}

if (require.main === module) {
  const fake = new FakeComfyUI(standaloneOptions(process.argv.slice(2)));
  fake.start().then(
    (url) => process.stderr.write(`fake ComfyUI listening on ${url} (scenario ${fake.scenario}); Ctrl-C to stop\n`),
    (err: Error) => {
      process.stderr.write(`fake ComfyUI: ${err.message}\n`);
      process.exit(1);
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void fake.stop().then(() => process.exit(0)));
}
