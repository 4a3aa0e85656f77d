/**
 * ComfyClient: the ComfyUI HTTP + WebSocket API, as used from scripts.
 *
 *   const client = new ComfyClient({ url, credentials });
 *   await client.connect();                       // progress socket (optional)
 *   const { promptId } = await client.submit(workflow);
 *   const result = await client.waitForCompletion(promptId, { timeoutMs, onEvent });
 *   const paths = await client.downloadOutputs(result.files, 'out');
 *   client.close();
 *
 * Completion is decided from the WebSocket events when they arrive and from
 * GET /history otherwise: /history is polled slowly while the socket is up
 * and quickly while it is down, so a dropped socket delays progress output,
 * never the result. Every request carries the stickiness cookies the load
 * balancer set (see cookie-jar.ts) and the basic-auth header CloudFront checks.
 */
import { randomUUID } from 'crypto';
import { createWriteStream, existsSync } from 'fs';
import { mkdir, rename, rm } from 'fs/promises';
import { dirname, join, resolve, sep } from 'path';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import type { ReadableStream as WebReadableStream } from 'stream/web';
import { CookieJar } from './cookie-jar';
import { AuthError, ComfyError, ExecutionError, NodeError, PromptRejectedError, ServerError, TimeoutError, UnreachableError, UsageError } from './errors';
import { EventSocket } from './event-socket';
import type { HistoryEntry, ModelListing, OutputFile, ProgressEvent, PromptResult, QueueInfo, SubmittedPrompt, SystemStats } from './types';
import type { ApiWorkflow } from './workflow';

/** Basic-auth credentials (CloudFront edge authentication). */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Options of a ComfyClient; every duration is in milliseconds. */
export interface ComfyClientOptions {
  /** Base URL of ComfyUI (CloudFront URL, or http://127.0.0.1:8188 through a port-forward). */
  readonly url: string;
  /** Basic-auth credentials sent on every request. */
  readonly credentials?: Credentials;
  /** Bearer access token sent on every request instead (edge.auth.mode cognito: a Cognito API client's token). */
  readonly bearerToken?: string;
  /** Client id of the progress socket and of submitted prompts (default: a random UUID). */
  readonly clientId?: string;
  /** Timeout of one API request (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Timeout of one output download (default 10 min). */
  readonly downloadTimeoutMs?: number;
  /** Retries of idempotent GETs after a network error or 502/503/504 (default 2). */
  readonly retries?: number;
  /** Delay before the first retry; doubles per retry (default 1 s). */
  readonly retryDelayMs?: number;
  /** First WebSocket reconnect delay, doubling (default 500 ms). */
  readonly reconnectDelayMs?: number;
  /** Longest WebSocket reconnect delay (default 10 s). */
  readonly maxReconnectDelayMs?: number;
  /** WebSocket ping interval (default 30 s). */
  readonly pingIntervalMs?: number;
  /** /history polling interval while the socket is down (default 2 s). */
  readonly pollIntervalMs?: number;
  /** /history polling interval while the socket is up, as a safety net (default 15 s). */
  readonly socketPollIntervalMs?: number;
  /** User-Agent header. */
  readonly userAgent?: string;
  /** Receives events not tied to one prompt: queue size, socket state. */
  readonly onEvent?: (event: ProgressEvent) => void;
}

/** Options of waitForCompletion. */
export interface WaitOptions {
  /** Give up after this long (0 or undefined: wait forever). */
  readonly timeoutMs?: number;
  /** Abort waiting (the prompt keeps running; see cancel()). */
  readonly signal?: AbortSignal;
  /** Receives this prompt's events, starting with those that arrived before the call. */
  readonly onEvent?: (event: ProgressEvent) => void;
}

const DEFAULTS = {
  requestTimeoutMs: 30_000,
  downloadTimeoutMs: 600_000,
  retries: 2,
  retryDelayMs: 1_000,
  reconnectDelayMs: 500,
  maxReconnectDelayMs: 10_000,
  pingIntervalMs: 30_000,
  pollIntervalMs: 2_000,
  socketPollIntervalMs: 15_000,
  userAgent: 'comfyui-eks-client/0.1',
};

/** After execution_success, how often and how many times to look for the history entry before using the socket's outputs. */
const HISTORY_LAG_POLL_MS = 250;
const HISTORY_LAG_CHECKS = 20;
/** Events kept per prompt for replay to a late waitForCompletion call. */
const MAX_BUFFERED_EVENTS = 5_000;

type Terminal = { kind: 'success' } | { kind: 'done' } | { kind: 'error'; data: Record<string, unknown> } | { kind: 'interrupted'; data: Record<string, unknown> };

interface PromptTrack {
  readonly events: ProgressEvent[];
  readonly cached: Set<string>;
  readonly socketOutputs: Record<string, Record<string, unknown>>;
  terminal?: Terminal;
  listener?: (event?: ProgressEvent) => void;
}

interface RequestOptions {
  readonly query?: Record<string, string>;
  readonly json?: unknown;
  readonly timeoutMs?: number;
}

/** Which loader input lists which model folder, for servers without GET /models. */
const LOADER_INPUTS: readonly [string, string, string][] = [
  ['CheckpointLoaderSimple', 'ckpt_name', 'checkpoints'],
  ['LoraLoader', 'lora_name', 'loras'],
  ['VAELoader', 'vae_name', 'vae'],
  ['CLIPLoader', 'clip_name', 'text_encoders'],
  ['UNETLoader', 'unet_name', 'diffusion_models'],
  ['ControlNetLoader', 'control_net_name', 'controlnet'],
  ['CLIPVisionLoader', 'clip_name', 'clip_vision'],
  ['UpscaleModelLoader', 'model_name', 'upscale_models'],
  ['StyleModelLoader', 'style_model_name', 'style_models'],
  ['GLIGENLoader', 'gligen_name', 'gligen'],
  ['HypernetworkLoader', 'hypernetwork_name', 'hypernetworks'],
];

/** Legacy folder names ComfyUI folds into another folder (folder_paths: both directories, one name). */
const MERGED_FOLDERS: Readonly<Record<string, string>> = { clip: 'text_encoders', unet: 'diffusion_models' };

/** Folders GET /models lists that hold no models (listing them would dump source trees). */
const NON_MODEL_FOLDERS = new Set(['custom_nodes', 'configs']);

export class ComfyClient {
  /** Client id used for the socket and every submitted prompt. */
  readonly clientId: string;
  /** Stickiness and session cookies collected from responses. */
  readonly cookies = new CookieJar();
  private readonly base: URL;
  private readonly settings: typeof DEFAULTS;
  private readonly authorization?: string;
  private socket?: EventSocket;
  private readonly tracks = new Map<string, PromptTrack>();
  /** Waiters to wake when the socket state changes; `reconnected` asks them to check /queue for a lost prompt. */
  private readonly kicks = new Set<(reconnected: boolean) => void>();
  /** Prompt ComfyUI is running for this client (from execution_start), to attribute id-less events. */
  private runningPromptId?: string;

  constructor(private readonly options: ComfyClientOptions) {
    this.base = parseBaseUrl(options.url);
    this.clientId = options.clientId ?? randomUUID();
    const overrides = Object.fromEntries(Object.entries(options).filter(([k, v]) => k in DEFAULTS && v !== undefined));
    this.settings = { ...DEFAULTS, ...overrides };
    if (options.credentials && options.bearerToken !== undefined) {
      throw new UsageError('give either Basic credentials (COMFY_USER) or a bearer token (COMFY_TOKEN), not both');
    }
    if (options.credentials) {
      const token = Buffer.from(`${options.credentials.username}:${options.credentials.password}`, 'utf8').toString('base64');
      this.authorization = `Basic ${token}`;
    } else if (options.bearerToken !== undefined) {
      // RFC 6750 token68 syntax: anything else would break the header or is not a token at all.
      if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(options.bearerToken)) {
        throw new UsageError('the bearer token (COMFY_TOKEN) is not a token: expected the access_token value of the token response, without "Bearer "');
      }
      this.authorization = `Bearer ${options.bearerToken}`;
    }
  }

  /** Base URL (always ending in `/`). */
  get url(): string {
    return this.base.toString();
  }

  /** Number of WebSocket connections made so far (more than 1 means it reconnected). */
  get socketConnections(): number {
    return this.socket?.connections ?? 0;
  }

  // ---------------------------------------------------------------- HTTP API

  /** GET /system_stats: versions, RAM, GPU devices. */
  systemStats(): Promise<SystemStats> {
    return this.getJson<SystemStats>('system_stats');
  }

  /** GET /queue: running and pending prompts. */
  queue(): Promise<QueueInfo> {
    return this.getJson<QueueInfo>('queue');
  }

  /** GET /prompt: number of prompts remaining in the queue. Cheap; also collects stickiness cookies. */
  async queueRemaining(): Promise<number> {
    const info = await this.getJson<{ exec_info?: { queue_remaining?: number } }>('prompt');
    return info.exec_info?.queue_remaining ?? 0;
  }

  /** GET /history/{id}: the entry of a finished prompt, or undefined while it is queued or running. */
  async history(promptId: string): Promise<HistoryEntry | undefined> {
    const all = await this.getJson<Record<string, HistoryEntry>>(`history/${encodeURIComponent(promptId)}`);
    return all[promptId];
  }

  /** GET /object_info: every node class with its inputs. */
  objectInfo(): Promise<Record<string, unknown>> {
    return this.getJson<Record<string, unknown>>('object_info');
  }

  /**
   * Model files per folder: GET /models and /models/{folder}; servers without
   * these endpoints fall back to the choices of loader nodes in /object_info.
   */
  async listModels(folder?: string): Promise<ModelListing> {
    let folders: string[];
    try {
      folders = await this.getJson<string[]>('models');
    } catch (err) {
      if (err instanceof ServerError && err.status === 404) return this.modelsFromObjectInfo(folder);
      throw err;
    }
    let aliasOf: string | undefined;
    if (folder !== undefined && !folders.includes(folder)) {
      const merged = MERGED_FOLDERS[folder];
      if (merged === undefined || !folders.includes(merged)) {
        throw new UsageError(`the server has no model folder "${folder}"`, `Folders: ${folders.join(', ')}`);
      }
      aliasOf = folder;
      folder = merged;
    }
    const wanted = folder !== undefined ? [folder] : folders.filter((f) => !NON_MODEL_FOLDERS.has(f));
    const listing: Record<string, string[]> = {};
    await mapLimit(wanted, 4, async (f) => {
      listing[f] = await this.getJson<string[]>(`models/${encodeURIComponent(f)}`);
    });
    return { source: 'models', folders: sortKeys(listing), ...(aliasOf ? { aliasOf } : {}) };
  }

  /**
   * POST /prompt with this client's id. Throws PromptRejectedError with the
   * per-node errors when ComfyUI rejects the workflow.
   */
  async submit(prompt: ApiWorkflow, extraData?: Record<string, unknown>): Promise<SubmittedPrompt> {
    const res = await this.send('POST', 'prompt', { json: { prompt, client_id: this.clientId, ...(extraData ? { extra_data: extraData } : {}) } });
    const what = `POST ${this.where(new URL('prompt', this.base))}`;
    if (res.status === 400) throw rejectedPrompt(await readJson<Record<string, unknown>>(res, what));
    if (!res.ok) throw await httpError(res, what);
    const body = await readJson<{ prompt_id?: unknown; number?: unknown; node_errors?: unknown }>(res, what);
    if (typeof body.prompt_id !== 'string') throw new ServerError('POST /prompt answered without a prompt_id');
    this.trackFor(body.prompt_id);
    return {
      promptId: body.prompt_id,
      number: typeof body.number === 'number' ? body.number : -1,
      nodeErrors: isRecord(body.node_errors) ? body.node_errors : {},
    };
  }

  /**
   * Removes a prompt: deleted from the queue if pending, interrupted if it is
   * the one running (checked first, so another user's prompt is never hit).
   */
  async cancel(promptId: string): Promise<'dequeued' | 'interrupted' | 'not-queued'> {
    const queue = await this.queue();
    const has = (items: unknown[][]) => items.some((item) => item[1] === promptId);
    if (has(queue.queue_pending)) {
      await this.expectOk(await this.send('POST', 'queue', { json: { delete: [promptId] } }), `POST ${this.where(new URL('queue', this.base))}`);
      return 'dequeued';
    }
    if (has(queue.queue_running)) {
      // prompt_id makes the interrupt targeted on ComfyUI versions that support it.
      await this.expectOk(await this.send('POST', 'interrupt', { json: { prompt_id: promptId } }), `POST ${this.where(new URL('interrupt', this.base))}`);
      return 'interrupted';
    }
    return 'not-queued';
  }

  /**
   * After an interrupt: polls /queue until the prompt is no longer running
   * (ComfyUI stops at its next check, e.g. the next sampler step). Returns
   * false if it still runs after `timeoutMs`.
   */
  async waitUntilNotRunning(promptId: string, timeoutMs: number, pollMs = 250): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const queue = await this.queue();
      if (!queue.queue_running.some((item) => item[1] === promptId)) return true;
      if (Date.now() >= end) return false;
      await sleep(Math.min(pollMs, Math.max(0, end - Date.now())));
    }
  }

  /**
   * Downloads files through GET /view into `dir`, keeping ComfyUI's subfolder
   * layout; never overwrites (adds -1, -2, ...). Returns the paths written.
   */
  async downloadOutputs(files: readonly OutputFile[], dir: string): Promise<string[]> {
    const paths: string[] = [];
    for (const file of files) paths.push(await this.download(file, dir));
    return paths;
  }

  /** Downloads one file through GET /view into `dir`; returns its path. */
  async download(file: OutputFile, dir: string): Promise<string> {
    const target = uniquePath(localPath(dir, file));
    await mkdir(dirname(target), { recursive: true });
    const res = await this.sendWithRetry('GET', 'view', {
      query: { filename: file.filename, subfolder: file.subfolder, type: file.type },
      timeoutMs: this.settings.downloadTimeoutMs,
    });
    if (!res.ok || !res.body) throw await httpError(res, `GET ${this.where(new URL('view', this.base))} ${file.subfolder ? `${file.subfolder}/` : ''}${file.filename}`);
    const partial = `${target}.part-${process.pid}`;
    try {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(partial, { mode: 0o644 }));
      await rename(partial, target);
    } catch (err) {
      await rm(partial, { force: true });
      throw err instanceof ComfyError ? err : new ServerError(`downloading ${file.filename} failed: ${(err as Error).message}`);
    }
    return target;
  }

  // ------------------------------------------------------------- WebSocket

  /**
   * Opens the progress WebSocket. Authentication failures throw; any other
   * failure is reported as a `connection: unavailable` event and the client
   * falls back to polling /history while it keeps trying to reconnect.
   */
  async connect(): Promise<void> {
    if (this.socket) return;
    const wsUrl = new URL('ws', this.base);
    wsUrl.protocol = this.base.protocol === 'https:' ? 'wss:' : 'ws:';
    wsUrl.searchParams.set('clientId', this.clientId);
    const socket = new EventSocket({
      url: wsUrl,
      headers: () => this.headers(wsUrl),
      onSetCookie: (values) => this.cookies.store(values),
      onMessage: (message) => this.handleMessage(message.type, message.data),
      onState: (state, detail) => {
        this.emit({ type: 'connection', state, detail });
        for (const kick of this.kicks) kick(state === 'open'); // re-check /history now and re-pace polling
      },
      handshakeTimeoutMs: this.settings.requestTimeoutMs,
      reconnectDelayMs: this.settings.reconnectDelayMs,
      maxReconnectDelayMs: this.settings.maxReconnectDelayMs,
      pingIntervalMs: this.settings.pingIntervalMs,
    });
    this.socket = socket;
    try {
      await socket.start();
      this.emit({ type: 'connection', state: 'open', detail: `connected to ${wsUrl.origin}${wsUrl.pathname}` });
    } catch (err) {
      if (err instanceof AuthError) {
        this.socket = undefined;
        throw err;
      }
      this.emit({ type: 'connection', state: 'unavailable', detail: `${(err as Error).message}; following progress by polling /history` });
    }
  }

  /** Closes the socket and stops every timer; the client can still make HTTP requests. */
  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }

  /**
   * Waits until a prompt finishes; resolves with its outputs, rejects with
   * ExecutionError (failed or interrupted), TimeoutError, AuthError,
   * ServerError when the server no longer knows the prompt (it restarted and
   * lost its in-memory queue), or the abort reason of `signal`. Waiting never
   * cancels the prompt: see cancel().
   */
  waitForCompletion(promptId: string, options: WaitOptions = {}): Promise<PromptResult> {
    const track = this.trackFor(promptId);
    const started = Date.now();
    return new Promise<PromptResult>((resolvePromise, rejectPromise) => {
      let done = false;
      let pollTimer: NodeJS.Timeout | undefined;
      let deadline: NodeJS.Timeout | undefined;
      let historyBusy = false;
      let lagChecks = 0;
      let pollFailureReported = false;
      // A restarted ComfyUI forgets its queue and history: /queue is read after every reconnect and on the slow cadence.
      let lastQueueCheck = Date.now();
      let queueCheckDue = false;

      const deliver = (event: ProgressEvent): void => {
        options.onEvent?.(event);
      };
      const finish = (err: Error | undefined, result?: PromptResult): void => {
        if (done) return;
        done = true;
        clearTimeout(pollTimer);
        clearTimeout(deadline);
        track.listener = undefined;
        this.tracks.delete(promptId);
        this.kicks.delete(kick);
        options.signal?.removeEventListener('abort', onAbort);
        if (err) {
          rejectPromise(err);
          return;
        }
        deliver({ type: 'finished', promptId, elapsedMs: Date.now() - started });
        resolvePromise(result as PromptResult);
      };
      const succeed = (outputs: Record<string, Record<string, unknown>>): void => {
        finish(undefined, { promptId, outputs, files: outputFiles(outputs), cachedNodes: [...track.cached], elapsedMs: Date.now() - started });
      };
      const checkHistory = async (): Promise<void> => {
        if (historyBusy || done) return;
        historyBusy = true;
        try {
          let entry = await this.history(promptId);
          if (done) return;
          if (!entry && !track.terminal && (queueCheckDue || Date.now() - lastQueueCheck >= this.settings.socketPollIntervalMs)) {
            queueCheckDue = false;
            lastQueueCheck = Date.now();
            const known = await this.isQueued(promptId);
            // It may have finished between the two reads: history again before calling it lost.
            if (!known) entry = await this.history(promptId);
            if (done) return;
            if (!known && !entry) {
              finish(
                new ServerError(
                  `prompt ${promptId} is no longer known to the server (restarted?)`,
                  undefined,
                  'Neither /queue nor /history has it: ComfyUI restarted (pod restart, out-of-memory kill, node replaced) and lost its queue. Check the pod, then submit it again.',
                ),
              );
              return;
            }
          }
          if (entry) {
            for (const [type, data] of entry.status?.messages ?? []) {
              if (type === 'execution_cached' && Array.isArray(data.nodes)) for (const n of data.nodes) track.cached.add(String(n));
            }
            const failure = historyFailure(promptId, entry);
            if (failure) finish(failure);
            else succeed(entry.outputs ?? {});
          } else if (track.terminal) {
            // execution_success is sent just before ComfyUI writes the history entry.
            lagChecks += 1;
            if (lagChecks >= HISTORY_LAG_CHECKS) succeed(track.socketOutputs);
          }
        } catch (err) {
          if (err instanceof AuthError) finish(err);
          else if (!pollFailureReported) {
            pollFailureReported = true; // transient: keep polling until the deadline
            this.emit({ type: 'connection', state: 'unavailable', detail: `polling /history failed: ${(err as Error).message}; retrying` });
          }
        } finally {
          historyBusy = false;
        }
      };
      const schedule = (): void => {
        if (done) return;
        clearTimeout(pollTimer);
        const interval = track.terminal ? HISTORY_LAG_POLL_MS : this.socket?.isOpen ? this.settings.socketPollIntervalMs : this.settings.pollIntervalMs;
        pollTimer = setTimeout(() => void checkHistory().then(schedule), interval);
      };
      function kick(reconnected = false): void {
        if (reconnected) queueCheckDue = true;
        void checkHistory().then(schedule);
      }
      const onAbort = (): void => finish(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));

      for (const event of track.events) deliver(event);
      track.listener = (event) => {
        if (event) deliver(event);
        const terminal = track.terminal;
        if (terminal?.kind === 'error' || terminal?.kind === 'interrupted') finish(socketFailure(promptId, terminal));
        else if (terminal && !event) kick();
      };
      if (options.timeoutMs) {
        deadline = setTimeout(
          () => finish(new TimeoutError(`prompt ${promptId} did not finish within ${formatDuration(options.timeoutMs ?? 0)}`, 'Raise --timeout; a prompt queued behind others or loading large models on a new GPU node needs longer.')),
          options.timeoutMs,
        );
      }
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.kicks.add(kick);
      track.listener(); // a terminal event may already be buffered
      kick();
    });
  }

  // -------------------------------------------------------------- internals

  /** True while the prompt is pending or running in the server queue. */
  private async isQueued(promptId: string): Promise<boolean> {
    const queue = await this.queue();
    return [...queue.queue_running, ...queue.queue_pending].some((item) => item[1] === promptId);
  }

  private handleMessage(type: string, data: Record<string, unknown>): void {
    const promptId = typeof data.prompt_id === 'string' ? data.prompt_id : this.runningPromptId;
    if (type === 'status') {
      const remaining = (data.status as { exec_info?: { queue_remaining?: unknown } } | undefined)?.exec_info?.queue_remaining;
      if (typeof remaining === 'number') this.emit({ type: 'queue', remaining });
      return;
    }
    if (promptId === undefined) return;
    const track = this.trackFor(promptId);
    switch (type) {
      case 'execution_start':
        this.runningPromptId = promptId;
        this.push(track, { type: 'started', promptId });
        break;
      case 'execution_cached': {
        const nodes = Array.isArray(data.nodes) ? data.nodes.map(String) : [];
        for (const n of nodes) track.cached.add(n);
        if (nodes.length > 0) this.push(track, { type: 'cached', promptId, nodes });
        break;
      }
      case 'executing':
        if (data.node === null || data.node === undefined) {
          if (this.runningPromptId === promptId) this.runningPromptId = undefined;
          track.terminal ??= { kind: 'done' };
          track.listener?.();
        } else {
          this.push(track, { type: 'executing', promptId, node: String(data.node) });
        }
        break;
      case 'progress':
        if (typeof data.value === 'number' && typeof data.max === 'number') {
          this.push(track, { type: 'progress', promptId, node: typeof data.node === 'string' ? data.node : undefined, value: data.value, max: data.max });
        }
        break;
      case 'executed': {
        const node = String(data.node ?? data.display_node ?? '');
        const output = isRecord(data.output) ? data.output : {};
        track.socketOutputs[node] = output;
        this.push(track, { type: 'executed', promptId, node, files: outputFiles({ [node]: output }) });
        break;
      }
      case 'execution_success':
        track.terminal = { kind: 'success' };
        track.listener?.();
        break;
      case 'execution_error':
        track.terminal = { kind: 'error', data };
        track.listener?.();
        break;
      case 'execution_interrupted':
        track.terminal = { kind: 'interrupted', data };
        track.listener?.();
        break;
      default:
        break; // progress_state, extension messages: not needed
    }
  }

  private push(track: PromptTrack, event: ProgressEvent): void {
    if (track.listener) {
      track.listener(event);
      return;
    }
    if (track.events.length < MAX_BUFFERED_EVENTS) track.events.push(event);
  }

  private trackFor(promptId: string): PromptTrack {
    let track = this.tracks.get(promptId);
    if (!track) {
      track = { events: [], cached: new Set(), socketOutputs: {} };
      this.tracks.set(promptId, track);
    }
    return track;
  }

  private emit(event: ProgressEvent): void {
    this.options.onEvent?.(event);
  }

  private async modelsFromObjectInfo(requested?: string): Promise<ModelListing> {
    const folder = requested !== undefined ? (MERGED_FOLDERS[requested] ?? requested) : undefined;
    const info = await this.objectInfo();
    const listing: Record<string, string[]> = {};
    for (const [nodeClass, input, target] of LOADER_INPUTS) {
      if (folder !== undefined && folder !== target) continue;
      const choices = comboChoices(info[nodeClass], input);
      if (choices) listing[target] = [...new Set([...(listing[target] ?? []), ...choices])].sort();
    }
    if (folder !== undefined && !(folder in listing)) {
      throw new UsageError(`no loader node in /object_info lists the folder "${folder}"`, `Folders: ${LOADER_INPUTS.map((l) => l[2]).join(', ')}`);
    }
    return { source: 'object_info', folders: sortKeys(listing), ...(folder !== requested ? { aliasOf: requested } : {}) };
  }

  private async getJson<T>(path: string): Promise<T> {
    const res = await this.sendWithRetry('GET', path, {});
    const what = `GET ${this.where(new URL(path, this.base))}`;
    if (!res.ok) throw await httpError(res, what);
    return readJson<T>(res, what);
  }

  private async expectOk(res: Response, what: string): Promise<void> {
    if (!res.ok) throw await httpError(res, what);
    await res.arrayBuffer();
  }

  private async sendWithRetry(method: 'GET', path: string, options: RequestOptions): Promise<Response> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const res = await this.send(method, path, options);
        if (![502, 503, 504].includes(res.status) || attempt >= this.settings.retries) return res;
        await res.arrayBuffer();
      } catch (err) {
        if (!(err instanceof UnreachableError) || attempt >= this.settings.retries) throw err;
      }
      await sleep(this.settings.retryDelayMs * 2 ** attempt);
    }
  }

  private async send(method: 'GET' | 'POST', path: string, options: RequestOptions): Promise<Response> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const headers = this.headers(url);
    headers.Accept = 'application/json, */*';
    if (options.json !== undefined) headers['Content-Type'] = 'application/json';
    const timeoutMs = options.timeoutMs ?? this.settings.requestTimeoutMs;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: options.json === undefined ? undefined : JSON.stringify(options.json),
        redirect: 'manual', // a redirect here is a login page, not an API answer
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw requestError(err, method, url, this.where(url), timeoutMs);
    }
    this.cookies.store(res.headers.getSetCookie());
    const where = this.where(url);
    if (res.status === 401) {
      await res.arrayBuffer();
      if (this.options.bearerToken !== undefined) {
        throw new AuthError(
          `${where} rejected the bearer token (401)`,
          401,
          'The token has expired, comes from another user pool, or lacks the comfyui/invoke scope: request a new one from the cognito_token_url output (docs/edge.md).',
        );
      }
      throw new AuthError(
        this.options.credentials ? `${where} rejected the credentials of user "${this.options.credentials.username}" (401)` : `${where} requires authentication (401)`,
        401,
        'Set COMFY_USER and COMFY_PASSWORD (or --user NAME with COMFY_PASSWORD); scripts/edge-user.sh creates users.',
      );
    }
    if (res.status === 403) {
      await res.arrayBuffer();
      throw new AuthError(`${where} refused ${method} (403)`, 403, 'A WAF rule or IP allow-list (edge.waf) may block your address, or the user lacks access.');
    }
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      const location = res.headers.get('location');
      const target = location ? safeUrl(location, url) : undefined;
      if (target && url.protocol === 'http:' && target.protocol === 'https:' && target.host === url.host) {
        // CloudFront's viewer protocol policy answers plain HTTP with a redirect to HTTPS.
        throw new UsageError(`${where} redirects to HTTPS`, `Use --url https://${url.host}${this.base.pathname}`);
      }
      throw new AuthError(
        `${method} ${where} was redirected to ${res.headers.get('location') ?? '(no location)'} (${res.status}): the endpoint expects an interactive login`,
        res.status,
        'With edge.auth.mode cognito set COMFY_TOKEN to an API client access token (docs/edge.md); with basic auth set COMFY_USER and COMFY_PASSWORD.',
      );
    }
    return res;
  }

  /** A request URL for messages: scheme, host and the whole path (the base's path prefix included), no query. */
  private where(url: URL): string {
    return `${url.origin}${url.pathname}`;
  }

  private headers(url: URL): Record<string, string> {
    const headers: Record<string, string> = { 'User-Agent': this.settings.userAgent };
    if (this.authorization) headers.Authorization = this.authorization;
    const cookie = this.cookies.header(url);
    if (cookie) headers.Cookie = cookie;
    return headers;
  }
}

// ------------------------------------------------------------------ helpers

function parseBaseUrl(raw: string): URL {
  // `localhost:8188` parses as a URL with the scheme "localhost:"; a bare host does not parse at all.
  const schemeless = /^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::\d+)?(?:\/.*)?$/i.test(raw) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(raw);
  const guess = schemeless ? `${/^(localhost|127\.|\[::1\])/i.test(raw) ? 'http' : 'https'}://${raw}` : undefined;
  const didYouMean = guess ? `Did you mean ${guess}?` : undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: "${raw}"`, didYouMean ?? 'Example: --url https://d111111abcdef8.cloudfront.net');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`the URL must be http:// or https://, got "${raw}"`, didYouMean);
  if (url.username || url.password) throw new UsageError('the URL must not contain credentials; use COMFY_USER and COMFY_PASSWORD');
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function safeUrl(text: string, base: URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

function requestError(err: unknown, method: string, url: URL, where: string, timeoutMs: number): ComfyError {
  const e = err as Error & { cause?: Error & { code?: string; errors?: (Error & { code?: string })[] } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new TimeoutError(`${method} ${where}: no answer within ${formatDuration(timeoutMs)}`, 'The server or the network is slow or stuck; retry, or raise --request-timeout.');
  }
  const cause = e.cause;
  if (cause?.message === 'bad port') {
    return new UnreachableError(`cannot reach ${where}: fetch refuses port ${url.port} (a port the Fetch standard blocks); use another port`, err);
  }
  const code = cause?.code ?? cause?.errors?.find((x) => x.code)?.code;
  return new UnreachableError(`cannot reach ${where}: ${code ?? cause?.message ?? e.message}`, err);
}

async function httpError(res: Response, what: string): Promise<ComfyError> {
  const text = (await res.text().catch(() => '')).trim().replace(/\s+/g, ' ').slice(0, 300);
  const detail = text ? `: ${text}` : '';
  if ([502, 503, 504].includes(res.status)) {
    const retryAfter = Number(res.headers.get('retry-after') ?? NaN);
    return new ServerError(`${what}: HTTP ${res.status}${detail}`, res.status, 'No healthy ComfyUI pod answered: it may still be starting (GPU node, image pull, model sync); retry in a few minutes.', Number.isFinite(retryAfter) ? retryAfter : undefined);
  }
  if (res.status === 404) {
    return new ServerError(`${what}: HTTP 404${detail}`, 404, 'Is the URL a ComfyUI server (including its path prefix, if any)?');
  }
  return new ServerError(`${what}: HTTP ${res.status}${detail}`, res.status);
}

async function readJson<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    const type = res.headers.get('content-type') ?? 'no content type';
    throw new ServerError(`${what}: expected JSON, got ${type}: ${text.slice(0, 120).replace(/\s+/g, ' ')}`, res.status, 'A proxy or login page answered instead of ComfyUI?');
  }
}

/** PromptRejectedError from a 400 answer of POST /prompt. */
function rejectedPrompt(body: Record<string, unknown>): PromptRejectedError {
  const error = body.error;
  let type = 'invalid_prompt';
  let message = 'the prompt is invalid';
  if (typeof error === 'string') message = error;
  else if (isRecord(error)) {
    type = typeof error.type === 'string' ? error.type : type;
    message = typeof error.message === 'string' ? error.message : message;
    if (typeof error.details === 'string' && error.details) message += `: ${error.details}`;
  }
  const nodeErrors: NodeError[] = [];
  if (isRecord(body.node_errors)) {
    for (const [nodeId, raw] of Object.entries(body.node_errors)) {
      const entry = isRecord(raw) ? raw : {};
      const errors = Array.isArray(entry.errors) ? entry.errors.filter(isRecord) : [];
      nodeErrors.push({
        nodeId,
        classType: typeof entry.class_type === 'string' ? entry.class_type : 'unknown',
        errors: errors.map((e) => ({
          type: String(e.type ?? 'error'),
          message: String(e.message ?? ''),
          details: String(e.details ?? ''),
          inputName: isRecord(e.extra_info) && typeof e.extra_info.input_name === 'string' ? e.extra_info.input_name : undefined,
        })),
      });
    }
  }
  return new PromptRejectedError(`ComfyUI rejected the prompt (${type}): ${message}`, type, nodeErrors);
}

function socketFailure(promptId: string, terminal: Terminal): ExecutionError {
  const data = 'data' in terminal ? terminal.data : {};
  return executionError(promptId, data, terminal.kind === 'interrupted');
}

function historyFailure(promptId: string, entry: HistoryEntry): ExecutionError | undefined {
  if (entry.status?.status_str !== 'error') return undefined;
  for (const [type, data] of entry.status.messages ?? []) {
    if (type === 'execution_error') return executionError(promptId, data, false);
    if (type === 'execution_interrupted') return executionError(promptId, data, true);
  }
  return new ExecutionError(`prompt ${promptId} failed (history status "error" without details)`, { promptId });
}

function executionError(promptId: string, data: Record<string, unknown>, interrupted: boolean): ExecutionError {
  const nodeId = data.node_id === undefined ? undefined : String(data.node_id);
  const nodeType = typeof data.node_type === 'string' ? data.node_type : undefined;
  const where = nodeId ? ` at node ${nodeId}${nodeType ? ` (${nodeType})` : ''}` : '';
  if (interrupted) {
    return new ExecutionError(`prompt ${promptId} was interrupted${where}`, {
      promptId,
      nodeId,
      nodeType,
      interrupted: true,
      hint: 'Someone pressed Cancel in the UI or called POST /interrupt, or the pod is shutting down.',
    });
  }
  const exceptionType = typeof data.exception_type === 'string' ? data.exception_type : undefined;
  const exceptionMessage = typeof data.exception_message === 'string' ? data.exception_message.trim() : 'unknown error';
  const traceback = Array.isArray(data.traceback) ? data.traceback.map(String) : [];
  const oom = /OutOfMemory|out of memory/i.test(`${exceptionType} ${exceptionMessage}`);
  return new ExecutionError(`prompt ${promptId} failed${where}: ${exceptionType ? `${exceptionType}: ` : ''}${exceptionMessage}`, {
    promptId,
    nodeId,
    nodeType,
    exceptionType,
    traceback,
    hint: oom ? 'The GPU ran out of memory: lower the resolution or batch size, or use a GPU with more memory.' : undefined,
  });
}

/** Every file listed in UI outputs (`images`, `gifs`, `audio`, ...). */
export function outputFiles(outputs: Record<string, Record<string, unknown>>): OutputFile[] {
  const files: OutputFile[] = [];
  for (const nodeOutputs of Object.values(outputs)) {
    for (const list of Object.values(nodeOutputs ?? {})) {
      if (!Array.isArray(list)) continue;
      for (const item of list) {
        if (isRecord(item) && typeof item.filename === 'string') {
          files.push({ filename: item.filename, subfolder: typeof item.subfolder === 'string' ? item.subfolder : '', type: typeof item.type === 'string' ? item.type : 'output' });
        }
      }
    }
  }
  return files;
}

/** Local path of a downloaded file: `<dir>/<subfolder>/<filename>`, refusing to leave `dir`. */
export function localPath(dir: string, file: OutputFile): string {
  const root = resolve(dir);
  const segments = file.subfolder.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  const name = file.filename.split(/[\\/]/).pop() ?? '';
  if (segments.includes('..') || name === '' || name === '.' || name === '..') {
    throw new ServerError(`refusing to write output "${file.subfolder}/${file.filename}": it would leave ${root}`);
  }
  const target = join(root, ...segments, name);
  if (!target.startsWith(root + sep)) throw new ServerError(`refusing to write output "${file.filename}" outside ${root}`);
  return target;
}

function uniquePath(path: string): string {
  if (!existsSync(path)) return path;
  const dot = path.lastIndexOf('.');
  const stem = dot > path.lastIndexOf(sep) ? path.slice(0, dot) : path;
  const ext = dot > path.lastIndexOf(sep) ? path.slice(dot) : '';
  for (let i = 1; ; i += 1) {
    const candidate = `${stem}-${i}${ext}`;
    if (!existsSync(candidate)) return candidate;
  }
}

/** Choices of a combo input in /object_info (old `[[...choices], {...}]` or new `["COMBO", {options}]` form). */
function comboChoices(nodeInfo: unknown, input: string): string[] | undefined {
  if (!isRecord(nodeInfo) || !isRecord(nodeInfo.input)) return undefined;
  for (const group of ['required', 'optional']) {
    const inputs = nodeInfo.input[group];
    const spec = isRecord(inputs) ? inputs[input] : undefined;
    if (!Array.isArray(spec)) continue;
    if (Array.isArray(spec[0])) return spec[0].map(String);
    if (spec[0] === 'COMBO' && isRecord(spec[1]) && Array.isArray(spec[1].options)) return spec[1].options.map(String);
  }
  return undefined;
}

function sortKeys(record: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]]));
}

/** Runs fn over items, at most `limit` at once (the jobs commands reuse it). */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `90 s`, `2 min 5 s`, `250 ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
}
