/**
 * The ComfyUI progress WebSocket (`/ws?clientId=`), kept open across drops.
 *
 * ComfyUI sends a prompt's events only to the socket registered under the
 * prompt's client id, and re-registers a reconnecting socket under the same
 * id, so reconnecting with the same id resumes the stream (events sent while
 * disconnected are lost: the client then reads /history, see client.ts).
 * A ping every `pingIntervalMs` keeps idle proxies (CloudFront, the ALB) from
 * closing the connection and detects half-open connections.
 */
import WebSocket from 'ws';
import { AuthError, ComfyError, ServerError, UnreachableError } from './errors';

/** Connection state changes reported to the owner. */
export type SocketState = 'open' | 'closed';

/** Options of an EventSocket. */
export interface EventSocketOptions {
  /** ws:// or wss:// URL including `clientId`. */
  readonly url: URL;
  /** Headers for each (re)connection attempt (Authorization, current cookies). */
  readonly headers: () => Record<string, string>;
  /** Receives the Set-Cookie values of every handshake response. */
  readonly onSetCookie: (values: string[]) => void;
  /** Receives every JSON text message. */
  readonly onMessage: (message: { type: string; data: Record<string, unknown> }) => void;
  /** Receives open/closed transitions (after the first open). */
  readonly onState: (state: SocketState, detail: string) => void;
  /** Handshake timeout. */
  readonly handshakeTimeoutMs: number;
  /** First reconnect delay; doubles up to maxReconnectDelayMs. */
  readonly reconnectDelayMs: number;
  /** Upper bound of the reconnect delay. */
  readonly maxReconnectDelayMs: number;
  /** Interval of client pings; a connection missing two pongs is dropped. */
  readonly pingIntervalMs: number;
}

export class EventSocket {
  private ws?: WebSocket;
  private closed = false;
  private attempt = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private awaitingPong = 0;
  /** Number of successful connections so far (1 = never reconnected). */
  connections = 0;

  constructor(private readonly options: EventSocketOptions) {}

  /** True while a connection is open. */
  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /**
   * Connects. Resolves on the first open; rejects with the first failure
   * (AuthError, UnreachableError, ServerError) but, unless the failure is an
   * authentication error, keeps reconnecting in the background until close().
   */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.connect((err) => (err ? reject(err) : resolve()));
    });
  }

  /** Closes the socket and stops reconnecting. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      ws.removeAllListeners();
      ws.on('error', () => undefined); // a close during the handshake emits one last error
      ws.terminate();
    }
  }

  private connect(firstResult?: (err?: ComfyError) => void): void {
    if (this.closed) return;
    let settled = false;
    let opened = false;
    const settle = (err?: ComfyError): void => {
      if (settled) return;
      settled = true;
      firstResult?.(err);
      if (err instanceof AuthError) {
        this.close(); // retrying with the same credentials cannot succeed
        if (!firstResult) this.options.onState('closed', err.message);
        return;
      }
      if (err) this.scheduleReconnect();
    };

    const ws = new WebSocket(this.options.url, {
      headers: this.options.headers(),
      handshakeTimeout: this.options.handshakeTimeoutMs,
      perMessageDeflate: false,
    });
    this.ws = ws;

    ws.on('upgrade', (res) => this.options.onSetCookie(setCookieValues(res.headers['set-cookie'])));
    ws.on('unexpected-response', (_req, res) => {
      this.options.onSetCookie(setCookieValues(res.headers['set-cookie']));
      res.resume();
      settle(handshakeError(this.options.url, res.statusCode ?? 0));
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
    });
    ws.on('open', () => {
      opened = true;
      this.connections += 1;
      this.attempt = 0;
      this.awaitingPong = 0;
      this.startPings(ws);
      if (this.connections > 1 || !firstResult) this.options.onState('open', `reconnected (connection ${this.connections})`);
      settle();
    });
    ws.on('pong', () => {
      this.awaitingPong = 0;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return; // preview images: not needed by a headless client
      const message = parseMessage(data.toString());
      if (message) this.options.onMessage(message);
    });
    ws.on('error', (err) => {
      // 'close' follows an error on an established connection; during the handshake it may not.
      if (ws.readyState !== WebSocket.OPEN) settle(connectError(this.options.url, err));
    });
    ws.on('close', (code, reason) => {
      clearInterval(this.pingTimer);
      if (this.ws === ws) this.ws = undefined;
      if (!settled) {
        settle(new UnreachableError(`WebSocket ${this.options.url.origin}${this.options.url.pathname} closed during the handshake (code ${code})`));
        return;
      }
      // A failed reconnect attempt (refused, reset) also ends in 'close': that outage was reported when the open connection closed.
      if (this.closed || !opened) return;
      this.options.onState('closed', `code ${code}${reason.length ? ` ${reason.toString()}` : ''}`);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    clearTimeout(this.reconnectTimer);
    const base = Math.min(this.options.maxReconnectDelayMs, this.options.reconnectDelayMs * 2 ** this.attempt);
    this.attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2); // jitter: many clients must not reconnect in lockstep
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private startPings(ws: WebSocket): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong >= 2) {
        ws.terminate(); // half-open: 'close' triggers the reconnect
        return;
      }
      this.awaitingPong += 1;
      ws.ping();
    }, this.options.pingIntervalMs);
    this.pingTimer.unref();
  }
}

function parseMessage(text: string): { type: string; data: Record<string, unknown> } | undefined {
  try {
    const parsed = JSON.parse(text) as { type?: unknown; data?: unknown };
    if (typeof parsed.type !== 'string') return undefined;
    const data = typeof parsed.data === 'object' && parsed.data !== null ? (parsed.data as Record<string, unknown>) : {};
    return { type: parsed.type, data };
  } catch {
    return undefined; // extensions may send non-JSON text; ignoring it is safe
  }
}

function setCookieValues(header: string[] | string | undefined): string[] {
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}

function handshakeError(url: URL, status: number): ComfyError {
  if (status === 401) return new AuthError(`WebSocket ${url.origin}${url.pathname}: 401 Unauthorized`, 401);
  if (status === 403) return new AuthError(`WebSocket ${url.origin}${url.pathname}: 403 Forbidden`, 403);
  return new ServerError(`WebSocket ${url.origin}${url.pathname}: handshake answered HTTP ${status}`, status);
}

function connectError(url: URL, err: Error): ComfyError {
  const code = (err as NodeJS.ErrnoException).code;
  return new UnreachableError(`WebSocket ${url.origin}${url.pathname}: ${code ? `${code} ` : ''}${err.message}`, err);
}
