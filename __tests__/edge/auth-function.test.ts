/**
 * The Basic-auth CloudFront Function, run under the cloudfront-js-2.0
 * runtime's constraints: in a vm context with only the runtime's globals and
 * modules, statically checked against the documented feature list, within
 * the 10 KB size limit.
 */
import { createHash } from 'crypto';
import { CLOUDFRONT_FUNCTION_MAX_BYTES, authFunctionTemplate, renderAuthFunction } from '../../constructs/edge/auth-function-code';
import { checkCloudFrontFunction } from './cloudfront-function-rules';
import { FakeKeyValueStore, loadCloudFrontFunction, viewerRequest } from './cloudfront-function-sandbox';

const KVS_ID = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const basic = (userPass: string | Buffer) => `Basic ${Buffer.from(userPass).toString('base64')}`;

function setup(entries: Record<string, string> = {}) {
  const store = new FakeKeyValueStore(KVS_ID, {
    'user:alice': sha256('alice:correct horse battery staple'),
    'user:jo@studio.example': sha256('jo@studio.example:pässwört ✓ 漢字'),
    'user:colon': sha256('colon:a:b:c'),
    ...entries,
  });
  const fn = loadCloudFrontFunction(renderAuthFunction(KVS_ID, 'ComfyUI'), store);
  return { store, handler: fn.handler };
}

function expectChallenge(result: any) {
  expect(result.statusCode).toBe(401);
  expect(result.headers['www-authenticate'].value).toBe('Basic realm="ComfyUI", charset="UTF-8"');
  expect(result.headers['cache-control'].value).toBe('no-store');
}

describe('edge auth function: credentials', () => {
  it('GIVEN valid credentials THEN the request passes without its Authorization header', async () => {
    const { handler, store } = setup();
    const event = viewerRequest('/prompt', { authorization: basic('alice:correct horse battery staple'), 'content-type': 'application/json' }, 'POST');
    const result = await handler(event);
    expect(result.uri).toBe('/prompt');
    expect(result.method).toBe('POST');
    expect(result.headers.authorization).toBeUndefined();
    expect(result.headers['content-type'].value).toBe('application/json');
    expect(store.lookups).toEqual(['user:alice']);
  });

  it('accepts the scheme in any case and extra spaces before the token', async () => {
    const { handler } = setup();
    const token = Buffer.from('alice:correct horse battery staple').toString('base64');
    expect((await handler(viewerRequest('/', { authorization: `bAsIc   ${token}` }))).statusCode).toBeUndefined();
  });

  it('GIVEN a wrong password THEN 401 with a Basic challenge', async () => {
    const { handler } = setup();
    expectChallenge(await handler(viewerRequest('/', { authorization: basic('alice:Correct horse battery staple') })));
  });

  it('GIVEN an unknown user THEN 401 after looking the user up', async () => {
    const { handler, store } = setup();
    expectChallenge(await handler(viewerRequest('/', { authorization: basic('mallory:correct horse battery staple') })));
    expect(store.lookups).toEqual(['user:mallory']);
  });

  it('GIVEN no Authorization header THEN 401 without touching the store', async () => {
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
    ['empty username', basic(':correct horse battery staple')],
    ['username with a space', basic('al ice:correct horse battery staple')],
    ['username too long', basic(`${'a'.repeat(65)}:pw`)],
    ['header longer than 1 KB', basic(`alice:${'x'.repeat(2000)}`)],
    ['token with an inner space', 'Basic YWxp Y2U6cHc='],
  ])('GIVEN a malformed header (%s) THEN 401 without a store lookup', async (_name, header) => {
    const { handler, store } = setup();
    expectChallenge(await handler(viewerRequest('/', { authorization: header })));
    expect(store.lookups).toEqual([]);
  });

  it('hashes non-ASCII passwords as UTF-8 (RFC 7617 charset) and accepts them', async () => {
    const { handler } = setup();
    const result = await handler(viewerRequest('/', { authorization: basic('jo@studio.example:pässwört ✓ 漢字') }));
    expect(result.statusCode).toBeUndefined();
  });

  it('refuses credentials that are not UTF-8 (a Latin-1 client) instead of guessing', async () => {
    const { handler, store } = setup();
    const latin1 = Buffer.from('jo@studio.example:pässwört', 'latin1');
    expectChallenge(await handler(viewerRequest('/', { authorization: `Basic ${latin1.toString('base64')}` })));
    expect(store.lookups).toEqual([]);
  });

  it('refuses non-ASCII usernames (config allows letters, digits, . _ @ - only)', async () => {
    const { handler, store } = setup();
    expectChallenge(await handler(viewerRequest('/', { authorization: basic('jürgen:secret-secret') })));
    expect(store.lookups).toEqual([]);
  });

  it('splits at the first colon, so passwords may contain colons', async () => {
    const { handler } = setup();
    expect((await handler(viewerRequest('/', { authorization: basic('colon:a:b:c') }))).statusCode).toBeUndefined();
    expectChallenge(await handler(viewerRequest('/', { authorization: basic('colon:a:b') })));
  });

  it('fails closed when the store is unreachable', async () => {
    const { handler, store } = setup();
    store.failure = new Error('KeyValueStore unavailable');
    expectChallenge(await handler(viewerRequest('/', { authorization: basic('alice:correct horse battery staple') })));
  });

  it.each([
    ['empty', ''],
    ['truncated', sha256('alice:pw').slice(0, 63)],
    ['upper-case hex', sha256('alice:pw').toUpperCase()],
    ['plaintext password', 'pw'],
  ])('refuses a corrupt stored entry (%s)', async (_name, value) => {
    const { handler } = setup({ 'user:alice': value });
    expectChallenge(await handler(viewerRequest('/', { authorization: basic('alice:pw') })));
  });

  it('authenticates the WebSocket upgrade of /ws like any request (browsers resend cached Basic credentials)', async () => {
    const { handler } = setup();
    const upgrade = { upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };
    const passed = await handler(viewerRequest('/ws?clientId=abc', { ...upgrade, authorization: basic('alice:correct horse battery staple') }));
    expect(passed.uri).toBe('/ws');
    expect(passed.querystring.clientId.value).toBe('abc');
    expect(passed.headers['sec-websocket-key'].value).toBe('dGhlIHNhbXBsZSBub25jZQ==');
    expectChallenge(await handler(viewerRequest('/ws?clientId=abc', upgrade)));
  });

  it('exempts no path: static assets and the health endpoint need credentials too', async () => {
    const { handler } = setup();
    for (const uri of ['/assets/index-3f2a.js', '/extensions/core/x.js', '/system_stats', '/api/queue', '/view']) {
      expectChallenge(await handler(viewerRequest(uri)));
    }
  });
});

describe('edge auth function: runtime constraints', () => {
  const rendered = renderAuthFunction(KVS_ID, 'ComfyUI');

  it('stays under the 10 KB CloudFront Functions limit with a real store id and the longest realm', () => {
    const longest = renderAuthFunction('00000000-0000-0000-0000-000000000000', 'R'.repeat(64));
    expect(Buffer.byteLength(longest)).toBeLessThan(CLOUDFRONT_FUNCTION_MAX_BYTES);
  });

  it('uses only documented cloudfront-js-2.0 features', () => {
    expect(checkCloudFrontFunction(rendered)).toEqual([]);
    expect(checkCloudFrontFunction(authFunctionTemplate())).toEqual([]);
  });

  it('binds the store by the id the construct renders in', () => {
    expect(rendered).toContain(`cf.kvs('${KVS_ID}')`);
    const store = new FakeKeyValueStore('another-store-id');
    expect(() => loadCloudFrontFunction(rendered, store)).toThrow(/no KeyValueStore/);
  });

  it('compares digests without an early exit (no return or break inside the loop)', () => {
    const compare = /function digestsEqual[\s\S]*?\n}\n/.exec(authFunctionTemplate())?.[0] ?? '';
    const loop = /for \([^)]*\) \{([\s\S]*?)\n  \}/.exec(compare)?.[1] ?? '';
    expect(loop).toContain('diff |=');
    expect(loop).not.toMatch(/\breturn\b|\bbreak\b/);
  });

  it('handles a request well within the sub-millisecond compute budget on a laptop-class CPU', async () => {
    const { handler } = setup();
    const event = () => viewerRequest('/', { authorization: basic('alice:correct horse battery staple') });
    const runs = 300;
    const started = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await handler(event());
    const perRunMs = Number(process.hrtime.bigint() - started) / 1e6 / runs;
    expect(perRunMs).toBeLessThan(2);
  });

  it('rejects a realm that would break out of the challenge header', () => {
    expect(() => renderAuthFunction(KVS_ID, 'x", other="y')).toThrow(/edge\.auth\.realm/);
  });
});
