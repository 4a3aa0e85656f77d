/**
 * scripts/edge-user.sh: users get generated passwords the edge function
 * accepts; `init` creates the secrets Terraform no longer writes and the ALB
 * rule that requires the origin header; rotations end sessions / switch the
 * origin value without a window where CloudFront's requests are refused.
 * A fake `aws` on PATH keeps the store and rules (nothing leaves the machine).
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { resolve } from 'path';
import { renderAuthFunction } from '../../constructs/edge/auth-function-code';
import { FakeKeyValueStore, loadCloudFrontFunction, viewerRequest } from './cloudfront-function-sandbox';
import { fakeAwsCli, KVS_ARN, LISTENER_ARN, TARGET_GROUP_ARN } from './fake-aws';

const SCRIPT = resolve(__dirname, '../../scripts/edge-user.sh');
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const STORE = 'comfyui-dev-edge-auth';

const run = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync('bash', [SCRIPT, ...args], { env, encoding: 'utf8', timeout: 20000 });
const generated = (stderr: string) => /shown once\): (\S+)/.exec(stderr)?.[1] ?? '';
const edgeFunction = (keys: Record<string, string>) => loadCloudFrontFunction(renderAuthFunction({ kvsId: 'kvs-id', realm: 'ComfyUI', sessionSeconds: 3600 }), new FakeKeyValueStore('kvs-id', { ...keys }));
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('scripts/edge-user.sh', () => {
  it('init: creates session:secret, origin:secret and the listener rule forwarding only requests with that header', () => {
    const aws = fakeAwsCli();
    const result = run(['init', STORE, LISTENER_ARN, TARGET_GROUP_ARN], aws.env);
    expect(result.status).toBe(0);
    const { keys, rules } = aws.state();
    expect(keys['session:secret']).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(keys['origin:secret']).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(keys['session:secret']).not.toBe(keys['origin:secret']);
    expect(rules).toEqual([
      expect.objectContaining({ listener: LISTENER_ARN, priority: 1, header: 'x-comfyui-origin-verify', values: [keys['origin:secret']], targetGroup: TARGET_GROUP_ARN }),
    ]);
  });

  it('init: keeps existing secrets (running it again changes nothing)', () => {
    const aws = fakeAwsCli();
    run(['init', STORE, LISTENER_ARN, TARGET_GROUP_ARN], aws.env);
    const first = aws.state();
    expect(run(['init', STORE, LISTENER_ARN, TARGET_GROUP_ARN], aws.env).status).toBe(0);
    expect(aws.state().keys).toEqual(first.keys);
    expect(aws.state().rules).toEqual(first.rules);
  });

  it('never passes a secret or password hash on the command line (visible in ps)', () => {
    const aws = fakeAwsCli();
    run(['init', STORE, LISTENER_ARN, TARGET_GROUP_ARN], aws.env);
    run(['put', STORE, 'alice'], aws.env);
    run(['rotate-sessions', STORE], aws.env);
    run(['rotate-origin', STORE, LISTENER_ARN], aws.env);
    const argv = aws.calls().filter((c) => c[0] !== '#rule-values').flat().join(' ');
    for (const value of Object.values(aws.state().keys)) expect(argv).not.toContain(value);
    expect(argv).toContain('--cli-input-json file://');
  });

  it('put: stores a generated 144-bit password that the edge function accepts, printed once on stderr', async () => {
    const aws = fakeAwsCli();
    run(['init', STORE, LISTENER_ARN, TARGET_GROUP_ARN], aws.env);
    const result = run(['put', STORE, 'bob'], aws.env);
    expect(result.status).toBe(0);
    const password = generated(result.stderr);
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(result.stdout).toBe('');
    const { keys } = aws.state();
    expect(keys['user:bob']).toBe(sha256(`bob:${password}`));
    const { handler } = edgeFunction(keys);
    const passed = await handler(viewerRequest('/', { authorization: basic('bob', password) }));
    expect(passed.headers['x-comfyui-origin-verify'].value).toBe(keys['origin:secret']);
    expect((await handler(viewerRequest('/', { authorization: basic('bob', `${password.slice(1)}x`) }))).statusCode).toBe(401);
  });

  it('put: a second put gives a new password and the old one stops working', async () => {
    const aws = fakeAwsCli();
    run(['init', STORE, LISTENER_ARN, TARGET_GROUP_ARN], aws.env);
    const first = generated(run(['put', STORE, 'bob'], aws.env).stderr);
    const second = generated(run(['put', STORE, 'bob'], aws.env).stderr);
    expect(second).not.toBe(first);
    const { handler } = edgeFunction(aws.state().keys);
    expect((await handler(viewerRequest('/', { authorization: basic('bob', first) }))).statusCode).toBe(401);
    expect((await handler(viewerRequest('/', { authorization: basic('bob', second) }))).statusCode).toBeUndefined();
  });

  it('rotate-sessions: cookies signed with the old key stop working, new logins get working cookies', async () => {
    const aws = fakeAwsCli();
    run(['init', STORE, LISTENER_ARN, TARGET_GROUP_ARN], aws.env);
    const password = generated(run(['put', STORE, 'bob'], aws.env).stderr);
    const navigate = { 'sec-fetch-mode': 'navigate', authorization: basic('bob', password) };
    const cookieOf = async (keys: Record<string, string>) => (await edgeFunction(keys).handler(viewerRequest('/', navigate))).cookies['__Host-comfyui-session'].value;
    const before = aws.state().keys;
    const oldCookie = await cookieOf(before);
    expect(run(['rotate-sessions', STORE], aws.env).status).toBe(0);
    const after = aws.state().keys;
    expect(after['session:secret']).not.toBe(before['session:secret']);
    const withCookie = (cookie: string) => viewerRequest('/api/queue', {}, 'GET', { '__Host-comfyui-session': cookie });
    expect((await edgeFunction(before).handler(withCookie(oldCookie))).uri).toBe('/api/queue');
    expect((await edgeFunction(after).handler(withCookie(oldCookie))).statusCode).toBe(401);
    expect((await edgeFunction(after).handler(withCookie(await cookieOf(after)))).uri).toBe('/api/queue');
  });

  it('rotate-origin: the rule accepts old and new while the store switches, then only the new value', () => {
    const aws = fakeAwsCli();
    run(['init', STORE, LISTENER_ARN, TARGET_GROUP_ARN], aws.env);
    const old = aws.state().keys['origin:secret'];
    const result = run(['rotate-origin', STORE, LISTENER_ARN], aws.env);
    expect(result.status).toBe(0);
    const now = aws.state().keys['origin:secret'];
    expect(now).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(now).not.toBe(old);
    const calls = aws.calls();
    const values = calls.filter((c) => c[0] === '#rule-values').map((c) => c.slice(1));
    expect(values).toEqual([[old, now], [now]]);
    // The store switches only while the rule already accepts the new value.
    const widened = calls.findIndex((c) => c[0] === '#rule-values');
    const stored = calls.findIndex((c, i) => i > widened && c[1] === 'put-key');
    const narrowed = calls.findIndex((c, i) => i > stored && c[0] === '#rule-values');
    expect(widened).toBeGreaterThan(-1);
    expect(stored).toBeGreaterThan(widened);
    expect(narrowed).toBeGreaterThan(stored);
    expect(aws.state().rules[0].values).toEqual([now]);
  });

  it('delete: removes user:<name>, accepting the store ARN directly', () => {
    const aws = fakeAwsCli({ keys: { 'user:alice': 'a'.repeat(64) } });
    const result = run(['delete', KVS_ARN, 'alice'], aws.env);
    expect(result.status).toBe(0);
    expect(aws.state().keys).toEqual({});
    expect(aws.calls()[0]).toEqual(['cloudfront-keyvaluestore', 'describe-key-value-store', '--kvs-arn', KVS_ARN, '--query', 'ETag', '--output', 'text']);
  });

  it.each([
    [['put', STORE, 'al:ice'], 'username must be'],
    [['entry', 'alice'], 'edge.auth.users was removed'],
    [['rotate', 'x', 'alice'], 'Manages the Basic-auth users'],
    [['put', STORE, 'alice', '--generate'], 'unknown option'],
    [['init', STORE, 'arn:aws:iam::123456789012:role/x', TARGET_GROUP_ARN], 'expected an ALB listener ARN'],
    [['rotate-origin', STORE, LISTENER_ARN], "run 'scripts/edge-user.sh init' first"],
  ])('refuses %j with a clear message', (args, message) => {
    const result = run(args, fakeAwsCli().env);
    expect(result.status).toBe(2);
    expect(result.stderr.replace(SCRIPT, 'scripts/edge-user.sh')).toContain(message);
  });
});
