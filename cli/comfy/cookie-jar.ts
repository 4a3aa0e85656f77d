/**
 * A small cookie jar for one endpoint. It exists for load-balancer stickiness:
 * the ALB sets AWSALB / AWSALBCORS (duration-based stickiness) or AWSALBAPP-*
 * (application-based) and routes later requests carrying them to the same pod.
 * ComfyUI keeps its queue, WebSocket clients and history per process, so the
 * prompt, its progress socket and its results must all reach one pod.
 *
 * The client talks to a single origin, so Domain and Path are not matched;
 * expiry (Max-Age, Expires) and Secure are honoured.
 */

interface StoredCookie {
  readonly value: string;
  /** Epoch milliseconds; undefined for a session cookie. */
  readonly expiresAt?: number;
  readonly secure: boolean;
}

export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Stores the cookies of one or more Set-Cookie header values. */
  store(setCookieHeaders: readonly string[] | string | undefined): void {
    if (setCookieHeaders === undefined) return;
    for (const header of typeof setCookieHeaders === 'string' ? [setCookieHeaders] : setCookieHeaders) {
      this.storeOne(header);
    }
  }

  /** The Cookie header value for a request to `url`, or undefined when there is nothing to send. */
  header(url: URL): string | undefined {
    const secureChannel = url.protocol === 'https:' || url.protocol === 'wss:' || isLoopback(url.hostname);
    const pairs: string[] = [];
    for (const [name, cookie] of this.cookies) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= this.now()) {
        this.cookies.delete(name);
        continue;
      }
      if (cookie.secure && !secureChannel) continue;
      pairs.push(`${name}=${cookie.value}`);
    }
    return pairs.length > 0 ? pairs.join('; ') : undefined;
  }

  /** Names of the cookies held (expired ones excluded). */
  names(): string[] {
    const now = this.now();
    return [...this.cookies].filter(([, c]) => c.expiresAt === undefined || c.expiresAt > now).map(([name]) => name);
  }

  private storeOne(header: string): void {
    const [pair, ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return; // RFC 6265: a cookie without a name is ignored
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let expiresAt: number | undefined;
    let maxAgeSeen = false;
    let secure = false;
    for (const attribute of attributes) {
      const [rawKey, ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const attrValue = rest.join('=').trim();
      if (key === 'max-age' && /^-?\d+$/.test(attrValue)) {
        maxAgeSeen = true; // Max-Age wins over Expires (RFC 6265 5.3 step 3)
        expiresAt = this.now() + Number(attrValue) * 1000;
      } else if (key === 'expires' && !maxAgeSeen) {
        const parsed = Date.parse(attrValue);
        if (!Number.isNaN(parsed)) expiresAt = parsed;
      } else if (key === 'secure') {
        secure = true;
      }
    }
    if (expiresAt !== undefined && expiresAt <= this.now()) {
      this.cookies.delete(name);
      return;
    }
    this.cookies.set(name, { value, expiresAt, secure });
  }
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
