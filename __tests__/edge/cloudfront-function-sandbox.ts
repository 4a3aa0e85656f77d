/**
 * Runs CloudFront Functions code in a node `vm` context that offers only what
 * the cloudfront-js-2.0 runtime offers: the JS built-ins, Buffer,
 * TextEncoder/TextDecoder, atob/btoa, a one-argument console.log,
 * `require('crypto')` with createHash/createHmac (md5, sha1, sha256) and the
 * `cloudfront` module's `kvs(id)` (a fake store), loaded with the import shape
 * the runtime uses (`import cf from 'cloudfront'`).
 */
import { createHash, createHmac } from 'crypto';
import * as ts from 'typescript';
import * as vm from 'vm';

const ALGORITHMS = new Set(['md5', 'sha1', 'sha256']);
const ENCODINGS = new Set([undefined, 'hex', 'base64', 'base64url']);

/** The runtime's crypto module: hashing and HMAC only. */
function runtimeCrypto() {
  const wrap = (h: { update(d: string | Buffer): unknown; digest(e?: any): string | Buffer }) => {
    const self = {
      update(data: string | Buffer) {
        h.update(data);
        return self;
      },
      digest(encoding?: string) {
        if (!ENCODINGS.has(encoding)) throw new Error(`digest encoding ${encoding} is not supported by CloudFront Functions`);
        return encoding ? h.digest(encoding as any) : h.digest();
      },
    };
    return self;
  };
  const check = (algorithm: string) => {
    if (!ALGORITHMS.has(algorithm)) throw new Error(`algorithm ${algorithm} is not supported by CloudFront Functions`);
  };
  return {
    createHash(algorithm: string) {
      check(algorithm);
      return wrap(createHash(algorithm));
    },
    createHmac(algorithm: string, key: string | Buffer) {
      check(algorithm);
      return wrap(createHmac(algorithm, key));
    },
  };
}

/** A fake KeyValueStore: `get` rejects for a missing key, like the runtime's helper. */
export class FakeKeyValueStore {
  public readonly lookups: string[] = [];
  public failure?: Error;
  constructor(public readonly id: string, private readonly entries: Record<string, string> = {}) {}
  set(key: string, value: string) {
    this.entries[key] = value;
  }
  handle() {
    return {
      get: async (key: string, options?: { format?: string }) => {
        this.lookups.push(key);
        if (this.failure) throw this.failure;
        if (options && options.format && options.format !== 'string') throw new Error('only the string format is faked');
        if (!Object.prototype.hasOwnProperty.call(this.entries, key)) throw new Error(`The key ${key} was not found.`);
        return this.entries[key];
      },
      exists: async (key: string) => Object.prototype.hasOwnProperty.call(this.entries, key),
      meta: async () => ({ keyCount: Object.keys(this.entries).length }),
    };
  }
}

/** CloudFront viewer-request event shape (headers lower-case, `{ value }` objects). */
export interface ViewerRequestEvent {
  version: '1.0';
  context: { eventType: 'viewer-request'; distributionId: string; requestId: string };
  viewer: { ip: string };
  request: { method: string; uri: string; querystring: Record<string, { value: string }>; headers: Record<string, { value: string }>; cookies: Record<string, { value: string }> };
}

export function viewerRequest(uri: string, headers: Record<string, string> = {}, method = 'GET', cookies: Record<string, string> = {}): ViewerRequestEvent {
  const wrapped: Record<string, { value: string }> = { host: { value: 'd111111abcdef8.cloudfront.net' } };
  for (const [name, value] of Object.entries(headers)) wrapped[name.toLowerCase()] = { value };
  const [path, query] = uri.split('?');
  const querystring: Record<string, { value: string }> = {};
  for (const pair of query ? query.split('&') : []) {
    const [k, v] = pair.split('=');
    querystring[k] = { value: v ?? '' };
  }
  return {
    version: '1.0',
    context: { eventType: 'viewer-request', distributionId: 'EDFDVBD6EXAMPLE', requestId: 'req-1' },
    viewer: { ip: '198.51.100.7' },
    request: { method, uri: path, querystring, headers: wrapped, cookies: Object.fromEntries(Object.entries(cookies).map(([k, v]) => [k, { value: v }])) },
  };
}

/**
 * Loads function code into a fresh context. The single `import cf from
 * 'cloudfront'` is bound to a module object whose default export is the fake
 * runtime helper; any other import makes loading fail.
 */
export function loadCloudFrontFunction(code: string, store: FakeKeyValueStore, clock?: () => number) {
  const source = ts.createSourceFile('function.js', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  let script = code;
  for (const statement of [...source.statements].reverse()) {
    if (!ts.isImportDeclaration(statement)) continue;
    const from = (statement.moduleSpecifier as ts.StringLiteral).text;
    const local = statement.importClause?.name?.text;
    if (from !== 'cloudfront' || !local || statement.importClause?.namedBindings) {
      throw new Error(`unsupported import: ${statement.getText(source)}`);
    }
    script = `${script.slice(0, statement.getStart(source))}const ${local} = __cloudfrontModule.default;${script.slice(statement.getEnd())}`;
  }

  const logs: string[] = [];
  const cloudfrontModule = {
    default: {
      kvs(id?: string) {
        if (id !== undefined && id !== store.id) throw new Error(`no KeyValueStore ${id} is associated with this function`);
        return store.handle();
      },
    },
  };
  const context = vm.createContext({
    __cloudfrontModule: cloudfrontModule,
    Buffer,
    TextEncoder,
    TextDecoder,
    atob,
    btoa,
    console: {
      log(...args: unknown[]) {
        if (args.length !== 1) throw new Error('console.log takes one argument in CloudFront Functions');
        logs.push(String(args[0]));
      },
    },
    require(name: string) {
      if (name === 'crypto') return runtimeCrypto();
      throw new Error(`module ${name} is not available in this sandbox`);
    },
  });
  if (clock) {
    // The runtime's Date returns the function's start time; tests move it to check expiry.
    (context as { __clock?: () => number }).__clock = clock;
    vm.runInContext('Date.now = function () { return __clock(); };', context);
  }
  vm.runInContext(script, context, { filename: 'viewer-request.js', timeout: 1000 });
  const handler = (context as { handler?: (event: ViewerRequestEvent) => unknown }).handler;
  if (typeof handler !== 'function') throw new Error('the code defines no handler');
  return { handler: async (event: ViewerRequestEvent) => (await handler(event)) as any, logs, context };
}
