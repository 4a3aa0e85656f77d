/**
 * scripts/edge-user.sh: the config entry it prints matches what the edge
 * function checks, and put/delete call the KeyValueStore data plane with the
 * store's ETag (a fake `aws` on PATH records the calls; nothing leaves the machine).
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { renderAuthFunction } from '../../constructs/edge/auth-function-code';
import { FakeKeyValueStore, loadCloudFrontFunction, viewerRequest } from './cloudfront-function-sandbox';

const SCRIPT = resolve(__dirname, '../../scripts/edge-user.sh');
const ARN = 'arn:aws:cloudfront::123456789012:key-value-store/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function fakeAws() {
  const dir = mkdtempSync(join(tmpdir(), 'edge-user-'));
  const log = join(dir, 'calls.log');
  writeFileSync(
    join(dir, 'aws'),
    [
      '#!/usr/bin/env bash',
      `printf '%s\\n' "$*" >> '${log}'`,
      'case "$1 $2" in',
      `  "cloudfront describe-key-value-store") echo '${ARN}' ;;`,
      '  "cloudfront-keyvaluestore describe-key-value-store") echo ETAG123 ;;',
      '  "cloudfront-keyvaluestore put-key"|"cloudfront-keyvaluestore delete-key") echo "{}" ;;',
      '  *) echo "unexpected aws call: $*" >&2; exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(join(dir, 'aws'), 0o755);
  return { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, calls: () => readFileSync(log, 'utf8').trim().split('\n') };
}

const run = (args: string[], input?: string, env: NodeJS.ProcessEnv = process.env) =>
  spawnSync('bash', [SCRIPT, ...args], { input, env, encoding: 'utf8', timeout: 20000 });

describe('scripts/edge-user.sh', () => {
  it('prints the edge.auth.users entry: sha256 of "<username>:<password>"', () => {
    const result = run(['entry', 'alice'], 'correct horse battery staple\n');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`- username: alice\n  passwordSha256: ${sha256('alice:correct horse battery staple')}\n`);
  });

  it('hashes non-ASCII passwords as UTF-8, like the edge function', () => {
    const result = run(['entry', 'jo@studio.example'], 'pässwört ✓ 漢字 long\n');
    expect(result.stdout).toContain(sha256('jo@studio.example:pässwört ✓ 漢字 long'));
  });

  it('generates a 24-character password on request and prints it only on stderr', () => {
    const result = run(['entry', 'bob', '--generate'], '');
    expect(result.status).toBe(0);
    const password = /shown once\): (\S+)/.exec(result.stderr)?.[1] ?? '';
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(result.stdout).not.toContain(password);
    expect(result.stdout).toContain(sha256(`bob:${password}`));
  });

  it.each([
    [['entry', 'al:ice'], 'long enough password\n', 'username must be'],
    [['entry', 'alice'], 'short\n', 'at least 12 characters'],
    [['entry', 'alice'], '', 'no password on stdin'],
    [['rotate', 'x', 'alice'], 'long enough password\n', 'Manages Basic-auth users'],
    [['entry', 'alice', '--force'], 'long enough password\n', 'unknown option'],
  ])('refuses %j with a clear message', (args, input, message) => {
    const result = run(args, input);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('prints an entry the edge function accepts for that password only', async () => {
    const password = 'Zürich-render-farm-2025';
    const entry = run(['entry', 'carol'], `${password}\n`).stdout;
    const hash = /passwordSha256: ([a-f0-9]{64})/.exec(entry)![1];
    const store = new FakeKeyValueStore('kvs-id', { 'user:carol': hash });
    const { handler } = loadCloudFrontFunction(renderAuthFunction({ kvsId: 'kvs-id', realm: 'ComfyUI', sessionSeconds: 3600 }), store);
    const authorization = (pass: string) => `Basic ${Buffer.from(`carol:${pass}`).toString('base64')}`;
    expect((await handler(viewerRequest('/', { authorization: authorization(password) }))).statusCode).toBeUndefined();
    expect((await handler(viewerRequest('/', { authorization: authorization(`${password}x`) }))).statusCode).toBe(401);
  });

  it('put: writes user:<name> with the store ETag, found by store name', () => {
    const aws = fakeAws();
    const result = run(['put', 'comfyui-dev-edge-auth', 'alice'], 'correct horse battery staple\n', aws.env);
    expect(result.status).toBe(0);
    expect(aws.calls()).toEqual([
      'cloudfront describe-key-value-store --name comfyui-dev-edge-auth --query KeyValueStore.ARN --output text',
      `cloudfront-keyvaluestore describe-key-value-store --kvs-arn ${ARN} --query ETag --output text`,
      `cloudfront-keyvaluestore put-key --kvs-arn ${ARN} --key user:alice --value ${sha256('alice:correct horse battery staple')} --if-match ETAG123`,
    ]);
    expect(result.stdout).toContain(sha256('alice:correct horse battery staple'));
  });

  it('rotate-sessions: puts a new random session:secret (48 bytes, URL-safe)', () => {
    const aws = fakeAws();
    const result = run(['rotate-sessions', 'comfyui-dev-edge-auth'], undefined, aws.env);
    expect(result.status).toBe(0);
    const put = aws.calls()[2];
    expect(put).toMatch(new RegExp(`^cloudfront-keyvaluestore put-key --kvs-arn ${ARN} --key session:secret --value [A-Za-z0-9_-]{64} --if-match ETAG123$`));
  });

  it('delete: removes user:<name>, accepting the store ARN directly', () => {
    const aws = fakeAws();
    const result = run(['delete', ARN, 'alice'], undefined, aws.env);
    expect(result.status).toBe(0);
    expect(aws.calls()).toEqual([
      `cloudfront-keyvaluestore describe-key-value-store --kvs-arn ${ARN} --query ETag --output text`,
      `cloudfront-keyvaluestore delete-key --kvs-arn ${ARN} --key user:alice --if-match ETAG123`,
    ]);
  });
});
