/**
 * The edge auth CloudFront Function, run under the cloudfront-js-2.0
 * runtime's constraints: in a vm context with only the runtime's globals and
 * modules, statically checked against the documented feature list, within
 * the 10 KB size limit.
 */
import { createHash, createHmac } from 'crypto';
import { AuthFunctionSettings, CLOUDFRONT_FUNCTION_MAX_BYTES, authFunctionTemplate, renderAuthFunction } from '../../constructs/edge/auth-function-code';
import { checkCloudFrontFunction } from './cloudfront-function-rules';
import { FakeKeyValueStore, loadCloudFrontFunction, viewerRequest } from './cloudfront-function-sandbox';

const KVS_ID = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
const SESSION_SECONDS = 12 * 3600;
const HOST = 'd111111abcdef8.cloudfront.net';
const COOKIE = '__Host-comfyui-session';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
// Passwords as scripts/edge-user.sh generates them (24 URL-safe characters).
const ALICE_PASSWORD = 'Hx3_vQ9-kLm2Np7Rt5Wz8yBc';
const JO_PASSWORD = 'qW4-eR6_tY8uI0oP2aS4dF6g';
const COLON_PASSWORD = 'Zx9cV8bN7mL6kJ5hG4fD3sA2';
const ORIGIN_SECRET = 'o'.repeat(48);
const basic = (userPass: string | Buffer) => `Basic ${Buffer.from(userPass).toString('base64')}`;
const ALICE = basic(`alice:${ALICE_PASSWORD}`);
const NAVIGATE = { 'sec-fetch-mode': 'navigate', accept: 'text/html,application/xhtml+xml' };
const render = (settings: Partial<AuthFunctionSettings> = {}) => renderAuthFunction({ kvsId: KVS_ID, realm: 'ComfyUI', sessionSeconds: SESSION_SECONDS, ...settings });

function setup(entries: Record<string, string> = {}) {
  const store = new FakeKeyValueStore(KVS_ID, {
    'user:alice': sha256(`alice:${ALICE_PASSWORD}`),
    'user:jo@studio.example': sha256(`jo@studio.example:${JO_PASSWORD}`),
    'user:colon': sha256(`colon:${COLON_PASSWORD}`),
    'session:secret': 'k'.repeat(64),
    'origin:secret': ORIGIN_SECRET,
    ...entries,
  });
  const time = { now: Date.UTC(2026, 0, 1, 9, 0, 0) };
  const fn = loadCloudFrontFunction(render(), store, () => time.now);
  return { store, time, handler: fn.handler };
}

function expectChallenge(result: any) {
  expect(result.statusCode).toBe(401);
  expect(result.headers['www-authenticate'].value).toBe('Basic realm="ComfyUI", charset="UTF-8"');
  expect(result.headers['cache-control'].value).toBe('no-store');
}

const passes = (result: any) => result.statusCode === undefined && typeof result.uri === 'string';

describe('edge auth function: Basic credentials', () => {
  it('GIVEN valid credentials THEN the request passes without its Authorization header', async () => {
    const { handler, store } = setup();
    const event = viewerRequest('/prompt', { authorization: ALICE, 'content-type': 'application/json' }, 'POST');
    const result = await handler(event);
    expect(result.uri).toBe('/prompt');
    expect(result.method).toBe('POST');
    expect(result.headers.authorization).toBeUndefined();
    expect(result.headers['content-type'].value).toBe('application/json');
    expect(store.lookups).toEqual(['user:alice', 'origin:secret']);
  });

  it('accepts the scheme in any case and extra spaces before the token', async () => {
    const { handler } = setup();
    const token = Buffer.from(`alice:${ALICE_PASSWORD}`).toString('base64');
    expect(passes(await handler(viewerRequest('/', { authorization: `bAsIc   ${token}` })))).toBe(true);
  });

  it('GIVEN a wrong password THEN 401 with a Basic challenge', async () => {
    const { handler } = setup();
    expectChallenge(await handler(viewerRequest('/', { authorization: basic(`alice:${ALICE_PASSWORD.replace('H', 'h')}`) })));
  });

  it('GIVEN an unknown user THEN 401 after looking the user up', async () => {
    const { handler, store } = setup();
    expectChallenge(await handler(viewerRequest('/', { authorization: basic(`mallory:${ALICE_PASSWORD}`) })));
    expect(store.lookups).toEqual(['user:mallory']);
  });

  it('GIVEN no credentials THEN 401 without touching the store', async () => {
    const { handler, store } = setup();
    const result = await handler(viewerRequest('/'));
    expectChallenge(result);
    expect(result.body).toContain('Authentication required');
    expect(store.lookups).toEqual([]);
  });

  it.each([
    ['wrong scheme (Bearer)', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x'],
    ['wrong scheme (Digest)', 'Digest username="alice", realm="ComfyUI"'],
    ['scheme only', 'Basic'],
    ['scheme and spaces only', 'Basic    '],
    ['not base64', 'Basic !!!not-base64!!!'],
    ['base64 with bad padding length', 'Basic YWxpY2U6cHc'],
    ['no colon', basic('alicepassword')],
    ['empty username', basic(`:${ALICE_PASSWORD}`)],
    ['username with a space', basic(`al ice:${ALICE_PASSWORD}`)],
    ['username too long', basic(`${'a'.repeat(65)}:pw`)],
    ['header longer than 1 KB', basic(`alice:${'x'.repeat(2000)}`)],
    ['token with an inner space', 'Basic YWxp Y2U6cHc='],
  ])('GIVEN a malformed header (%s) THEN 401 without a store lookup', async (_name, header) => {
    const { handler, store } = setup();
    expectChallenge(await handler(viewerRequest('/', { authorization: header })));
    expect(store.lookups).toEqual([]);
  });

  it.each([
    ['a human-chosen passphrase', 'correct horse battery staple'],
    ['a short password', 'hunter2hunter2'],
    ['21 characters (under 128 bits)', 'A'.repeat(21)],
    ['non-ASCII characters', 'pässwört-✓-漢字-pässwört-✓'],
    ['a colon', `${JO_PASSWORD.slice(0, 12)}:${JO_PASSWORD.slice(12)}`],
  ])('refuses a password edge-user.sh would not generate (%s) even when its hash is stored, without a lookup', async (_name, password) => {
    const { handler, store } = setup({ 'user:jo@studio.example': sha256(`jo@studio.example:${password}`) });
    expectChallenge(await handler(viewerRequest('/', { authorization: basic(`jo@studio.example:${password}`) })));
    expect(store.lookups).toEqual([]);
  });

  it('refuses credentials that are not UTF-8 (a Latin-1 client) instead of guessing', async () => {
    const { handler, store } = setup();
    const latin1 = Buffer.from('jo@studio.example:pässwört', 'latin1');
    expectChallenge(await handler(viewerRequest('/', { authorization: `Basic ${latin1.toString('base64')}` })));
    expect(store.lookups).toEqual([]);
  });

  it('refuses non-ASCII usernames (config allows letters, digits, . _ @ - only)', async () => {
    const { handler, store } = setup();
    expectChallenge(await handler(viewerRequest('/', { authorization: basic(`jürgen:${ALICE_PASSWORD}`) })));
    expect(store.lookups).toEqual([]);
  });

  it('splits at the first colon (usernames have none)', async () => {
    const { handler } = setup();
    expect(passes(await handler(viewerRequest('/', { authorization: basic(`colon:${COLON_PASSWORD}`) })))).toBe(true);
    expectChallenge(await handler(viewerRequest('/', { authorization: basic(`colon:${COLON_PASSWORD.slice(0, -1)}`) })));
  });

  it('fails closed when the store is unreachable', async () => {
    const { handler, store } = setup();
    store.failure = new Error('KeyValueStore unavailable');
    expectChallenge(await handler(viewerRequest('/', { authorization: ALICE })));
  });

  it.each([
    ['empty', ''],
    ['truncated', sha256(`alice:${ALICE_PASSWORD}`).slice(0, 63)],
    ['upper-case hex', sha256(`alice:${ALICE_PASSWORD}`).toUpperCase()],
    ['plaintext password', ALICE_PASSWORD],
  ])('refuses a corrupt stored entry (%s)', async (_name, value) => {
    const { handler } = setup({ 'user:alice': value });
    expectChallenge(await handler(viewerRequest('/', { authorization: ALICE })));
  });

  it('authenticates the WebSocket handshake of /ws like any request', async () => {
    const { handler } = setup();
    const handshake = { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', origin: `https://${HOST}` };
    const passed = await handler(viewerRequest('/ws?clientId=abc', { ...handshake, authorization: ALICE }));
    expect(passed.uri).toBe('/ws');
    expect(passed.querystring.clientId.value).toBe('abc');
    expect(passed.headers['sec-websocket-key'].value).toBe('dGhlIHNhbXBsZSBub25jZQ==');
    expectChallenge(await handler(viewerRequest('/ws?clientId=abc', handshake)));
  });

  it('exempts no path: static assets and the health endpoint need credentials too', async () => {
    const { handler } = setup();
    for (const uri of ['/assets/index-3f2a.js', '/extensions/core/x.js', '/system_stats', '/api/queue', '/view']) {
      expectChallenge(await handler(viewerRequest(uri)));
    }
  });
});

describe('edge auth function: browser session cookie (WebSocket in Safari)', () => {
  async function login(handler: (e: any) => Promise<any>, uri = '/') {
    const result = await handler(viewerRequest(uri, { ...NAVIGATE, authorization: ALICE }));
    expect(result.statusCode).toBe(302);
    return { result, cookie: result.cookies[COOKIE].value as string };
  }

  it('redirects a navigation with valid Basic credentials once, setting a signed, host-only, HttpOnly cookie', async () => {
    const { handler } = setup();
    const { result, cookie } = await login(handler, '/?workflow=flux&x=1');
    expect(result.headers.location.value).toBe('/?workflow=flux&x=1&edge-session=1');
    expect(result.cookies[COOKIE].attributes).toBe(`Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_SECONDS}`);
    expect(cookie).toMatch(/^alice~\d+~[A-Za-z0-9_-]{43}$/);
    expect(result.headers['cache-control'].value).toBe('no-store');
  });

  it('passes the follow-up request, dropping the marker and the session cookie but keeping other cookies', async () => {
    const { handler } = setup();
    const { cookie } = await login(handler);
    const next = await handler(viewerRequest('/?edge-session=1', { ...NAVIGATE, authorization: ALICE }, 'GET', { [COOKIE]: cookie, AWSALB: 'sticky' }));
    expect(passes(next)).toBe(true);
    expect(next.querystring['edge-session']).toBeUndefined();
    expect(next.cookies[COOKIE]).toBeUndefined();
    expect(next.cookies.AWSALB.value).toBe('sticky');
  });

  it.each([
    ['//evil.example/x', '/evil.example/x'],
    ['///evil.example/x', '/evil.example/x'],
    ['/\\evil.example/x', '/evil.example/x'],
    ['/\\/evil.example', '/evil.example'],
  ])('never redirects off the site: a navigation to %s stays on this host (%s)', async (uri, path) => {
    const { handler } = setup();
    const { result } = await login(handler, uri);
    const location = result.headers.location.value as string;
    expect(location).toBe(`${path}?edge-session=1`);
    // Browsers treat `//host` and `/\host` as another host; only a single leading slash stays on this one.
    expect(location).toMatch(/^\/[^/\\]/);
  });

  it('never redirects twice: a browser that refuses the cookie still gets in with Basic', async () => {
    const { handler } = setup();
    expect(passes(await handler(viewerRequest('/?edge-session=1', { ...NAVIGATE, authorization: ALICE })))).toBe(true);
  });

  it('opens the WebSocket with the cookie alone (what Safari sends)', async () => {
    const { handler } = setup();
    const { cookie } = await login(handler);
    const handshake = { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', origin: `https://${HOST}` };
    const result = await handler(viewerRequest('/ws?clientId=abc', handshake, 'GET', { [COOKIE]: cookie }));
    expect(passes(result)).toBe(true);
    expect(result.cookies[COOKIE]).toBeUndefined();
  });

  it('does not redirect API clients, fetches or WebSockets', async () => {
    const { handler } = setup();
    const clients: Record<string, string>[] = [{ accept: 'application/json' }, { 'sec-fetch-mode': 'cors', accept: '*/*' }, { 'sec-websocket-key': 'x' }];
    for (const headers of clients) {
      expect(passes(await handler(viewerRequest('/', { ...headers, authorization: ALICE })))).toBe(true);
    }
    expect(passes(await handler(viewerRequest('/prompt', { ...NAVIGATE, authorization: ALICE }, 'POST')))).toBe(true);
  });

  it('keeps working with Basic only when the store has no session secret', async () => {
    const { handler, store } = setup();
    store.set('session:secret', '');
    const fresh = loadCloudFrontFunction(render(), new FakeKeyValueStore(KVS_ID, { 'user:alice': sha256(`alice:${ALICE_PASSWORD}`), 'origin:secret': ORIGIN_SECRET }));
    expect(passes(await fresh.handler(viewerRequest('/', { ...NAVIGATE, authorization: ALICE })))).toBe(true);
    expectChallenge(await handler(viewerRequest('/', {}, 'GET', { [COOKIE]: `alice~${Math.floor(Date.now() / 1000) + 60}~${'a'.repeat(43)}` })));
  });

  it('expires the cookie after the session lifetime and renews it on a navigation in its second half', async () => {
    const { handler, time } = setup();
    const { cookie } = await login(handler);
    const started = time.now;
    time.now = started + (SESSION_SECONDS - 60) * 1000;
    expect(passes(await handler(viewerRequest('/api/queue', {}, 'GET', { [COOKIE]: cookie })))).toBe(true);
    const renewed = await handler(viewerRequest('/', { ...NAVIGATE, authorization: ALICE }, 'GET', { [COOKIE]: cookie }));
    expect(renewed.statusCode).toBe(302);
    time.now = started + (SESSION_SECONDS + 1) * 1000;
    expectChallenge(await handler(viewerRequest('/api/queue', {}, 'GET', { [COOKIE]: cookie })));
  });

  it('applies a shortened session lifetime to cookies issued before', async () => {
    const { handler, store, time } = setup();
    const { cookie } = await login(handler);
    const shorter = loadCloudFrontFunction(render({ sessionSeconds: 3600 }), store, () => time.now);
    expectChallenge(await shorter.handler(viewerRequest('/api/queue', {}, 'GET', { [COOKIE]: cookie })));
  });

  it.each([
    ['another user', (c: string) => c.replace(/^alice~/, 'colon~')],
    ['a longer expiry', (c: string) => c.replace(/~(\d+)~/, (_m, e) => `~${Number(e) + 3600}~`)],
    ['a changed signature', (c: string) => c.slice(0, -1) + (c.endsWith('A') ? 'B' : 'A')],
    ['a truncated signature', (c: string) => c.slice(0, -2)],
    ['extra fields', (c: string) => `${c}~x`],
  ])('refuses a tampered cookie (%s)', async (_name, tamper) => {
    const { handler } = setup();
    const { cookie } = await login(handler);
    expectChallenge(await handler(viewerRequest('/api/queue', {}, 'GET', { [COOKIE]: tamper(cookie) })));
  });

  it.each([
    ['the password changes', (s: FakeKeyValueStore) => s.set('user:alice', sha256(`alice:${JO_PASSWORD}`))],
    ['the user is deleted', (s: FakeKeyValueStore) => s.set('user:alice', '')],
    ['the session secret is rotated', (s: FakeKeyValueStore) => s.set('session:secret', 'n'.repeat(64))],
  ])('ends sessions when %s', async (_name, change) => {
    const { handler, store } = setup();
    const { cookie } = await login(handler);
    change(store);
    expectChallenge(await handler(viewerRequest('/api/queue', {}, 'GET', { [COOKIE]: cookie })));
  });

  it('starts a new session when Basic credentials name another user than the cookie', async () => {
    const { handler } = setup();
    const { cookie } = await login(handler);
    const result = await handler(viewerRequest('/', { ...NAVIGATE, authorization: basic(`colon:${COLON_PASSWORD}`) }, 'GET', { [COOKIE]: cookie }));
    expect(result.statusCode).toBe(302);
    expect(result.cookies[COOKIE].value).toMatch(/^colon~/);
  });
});

describe('edge auth function: secrets written out of band (never in Terraform state)', () => {
  it('sends the origin header from the store, replacing one the viewer sent', async () => {
    const { handler } = setup();
    const result = await handler(viewerRequest('/prompt', { authorization: ALICE, 'x-comfyui-origin-verify': 'forged' }, 'POST'));
    expect(result.headers['x-comfyui-origin-verify']).toEqual({ value: ORIGIN_SECRET });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['shorter than 32 characters', 'x'.repeat(31)],
  ])('fails closed (503, nothing forwarded) while origin:secret is %s', async (_name, value) => {
    const entries: Record<string, string> = { 'user:alice': sha256(`alice:${ALICE_PASSWORD}`), 'session:secret': 'k'.repeat(64) };
    if (value !== undefined) entries['origin:secret'] = value;
    const { handler } = loadCloudFrontFunction(render(), new FakeKeyValueStore(KVS_ID, entries));
    const result = await handler(viewerRequest('/prompt', { authorization: ALICE }, 'POST'));
    expect(result.statusCode).toBe(503);
    expect(result.body).toContain('edge-user.sh init');
    expect(result.uri).toBeUndefined();
  });

  it('still challenges unauthenticated requests while the secrets are absent', async () => {
    const { handler } = loadCloudFrontFunction(render(), new FakeKeyValueStore(KVS_ID, {}));
    expectChallenge(await handler(viewerRequest('/')));
  });

  it.each([
    ['empty', ''],
    ['shorter than 32 characters', 's'.repeat(31)],
  ])('neither issues nor accepts session cookies while session:secret is %s', async (_name, value) => {
    const { handler, store, time } = setup({ 'session:secret': value });
    const navigation = await handler(viewerRequest('/', { ...NAVIGATE, authorization: ALICE }));
    expect(passes(navigation)).toBe(true);
    const expiry = Math.floor(time.now / 1000) + 60;
    const forged = createHmac('sha256', value).update(`v1~alice~${expiry}~${sha256(`alice:${ALICE_PASSWORD}`)}`).digest('base64url');
    expectChallenge(await handler(viewerRequest('/api/queue', {}, 'GET', { [COOKIE]: `alice~${expiry}~${forged}` })));
    expect(store.lookups).toContain('session:secret');
  });
});

describe('edge auth function: cross-site requests', () => {
  it.each([
    ['a POST from another site', '/prompt', 'POST', { origin: 'https://evil.example' }],
    ['a DELETE from another site', '/queue', 'DELETE', { origin: 'https://evil.example' }],
    ['a WebSocket handshake from another site', '/ws', 'GET', { origin: 'https://evil.example', 'sec-websocket-key': 'x' }],
    ['a POST from the plain-HTTP origin', '/prompt', 'POST', { origin: `http://${HOST}` }],
  ])('refuses %s even with valid credentials (403)', async (_name, uri, method, headers) => {
    const { handler } = setup();
    const result = await handler(viewerRequest(uri, { ...headers, authorization: ALICE }, method));
    expect(result.statusCode).toBe(403);
  });

  it('accepts same-origin writes, writes without Origin (API clients) and cross-site reads', async () => {
    const { handler } = setup();
    expect(passes(await handler(viewerRequest('/prompt', { origin: `https://${HOST}`, authorization: ALICE }, 'POST')))).toBe(true);
    expect(passes(await handler(viewerRequest('/prompt', { authorization: ALICE }, 'POST')))).toBe(true);
    expect(passes(await handler(viewerRequest('/view?filename=a.png', { origin: 'https://evil.example', authorization: ALICE })))).toBe(true);
  });
});

describe('edge auth function: runtime constraints', () => {
  const rendered = render();

  it('stays under the 10 KB CloudFront Functions limit with a real store id and the longest realm', () => {
    const longest = render({ kvsId: '00000000-0000-0000-0000-000000000000', realm: 'R'.repeat(64), sessionSeconds: 168 * 3600 });
    expect(Buffer.byteLength(longest)).toBeLessThan(CLOUDFRONT_FUNCTION_MAX_BYTES);
  });

  it('uses only documented cloudfront-js-2.0 features', () => {
    expect(checkCloudFrontFunction(rendered)).toEqual([]);
    expect(checkCloudFrontFunction(authFunctionTemplate())).toEqual([]);
  });

  it('binds the store by the id the construct renders in', () => {
    expect(rendered).toContain(`cf.kvs('${KVS_ID}')`);
    expect(() => loadCloudFrontFunction(rendered, new FakeKeyValueStore('another-store-id'))).toThrow(/no KeyValueStore/);
  });

  it('compares secrets without an early exit (no return or break inside the loop)', () => {
    const compare = /function same[\s\S]*?\n}\n/.exec(authFunctionTemplate())?.[0] ?? '';
    const loop = /for \([^)]*\) \{([\s\S]*?)\n  \}/.exec(compare)?.[1] ?? '';
    expect(loop).toContain('diff |=');
    expect(loop).not.toMatch(/\breturn\b|\bbreak\b/);
  });

  it('handles a request well within the sub-millisecond compute budget', async () => {
    const { handler } = setup();
    const runs = 300;
    const started = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await handler(viewerRequest('/', { authorization: ALICE }));
    const perRunMs = Number(process.hrtime.bigint() - started) / 1e6 / runs;
    expect(perRunMs).toBeLessThan(2);
  });

  it('rejects settings that would break the code', () => {
    expect(() => render({ realm: 'x", other="y' })).toThrow(/edge\.auth\.realm/);
    expect(() => render({ sessionSeconds: 1.5 })).toThrow(/sessionHours/);
  });
});
