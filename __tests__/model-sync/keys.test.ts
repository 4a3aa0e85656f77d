import { decodeS3EventKey, MAX_KEY_BYTES, ssmKeyAllowedPattern, validateModelKey } from '../../lambdas/model-sync/keys';

const PREFIXES = ['checkpoints', 'loras', 'vae'];

/** How S3 writes a key into an event notification (form encoding, as moto and S3 do). */
function s3Encode(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

describe('decodeS3EventKey', () => {
  it.each([
    ['checkpoints/my+model+%281%29.safetensors', 'checkpoints/my model (1).safetensors'],
    ['loras/a%2Bb.safetensors', 'loras/a+b.safetensors'],
    ['vae/%E6%A8%A1%E5%9E%8B.safetensors', 'vae/模型.safetensors'],
    ['checkpoints/%2e%2e/%2e%2e/etc/passwd', 'checkpoints/../../etc/passwd'],
    // A key that literally contains %2e%2e is encoded once more by S3 and decoded once only.
    ['checkpoints/%252e%252e', 'checkpoints/%2e%2e'],
    ['checkpoints/x%0Ay', 'checkpoints/x\ny'],
  ])('decodes %s', (raw, decoded) => {
    expect(decodeS3EventKey(raw)).toBe(decoded);
  });

  it.each(['checkpoints/%', 'checkpoints/%zz', 'checkpoints/%E6%A8', 'checkpoints/%C0%AF'])('rejects malformed escape or invalid UTF-8 %s', (raw) => {
    expect(decodeS3EventKey(raw)).toBeUndefined();
  });

  it('round-trips what S3 encodes', () => {
    for (const key of ['checkpoints/my model (1).safetensors', "loras/it's+here!*.pt", 'vae/ünïcödé 🎨.bin']) {
      expect(decodeS3EventKey(s3Encode(key))).toBe(key);
    }
  });
});

describe('validateModelKey', () => {
  const accepted = [
    'checkpoints/sd_xl_base_1.0.safetensors',
    'checkpoints/my model (1).safetensors',
    'loras/sub/dir/style.safetensors',
    'vae/模型 ✓.safetensors',
    'checkpoints/$(reboot).safetensors',
    'checkpoints/`id`.safetensors',
    'checkpoints/a;rm -rf ~.safetensors',
    'checkpoints/"quoted" \'single\'.pt',
    'checkpoints/a&&b||c|d>e<f.pt',
    'checkpoints/.hidden.safetensors',
    'checkpoints/...',
    'checkpoints/..x',
    'checkpoints/%2e%2e',
    'loras/-rf',
  ];
  it.each(accepted)('accepts %j (shell metacharacters are data: the document passes keys through the environment)', (key) => {
    expect(validateModelKey(key, PREFIXES)).toEqual({ ok: true, key });
  });

  const rejected: [string, string][] = [
    ['checkpoints/../etc/passwd', '. or ..'],
    ['checkpoints/..', '. or ..'],
    ['../checkpoints/x', '. or ..'],
    ['checkpoints/./x', '. or ..'],
    ['checkpoints//x', 'empty path segment'],
    ['/checkpoints/x', 'starts with /'],
    ['checkpoints/a\nb', 'control'],
    ['checkpoints/a\rb', 'control'],
    ['checkpoints/a\u0000b', 'control'],
    ['checkpoints/a\u001bb', 'control'],
    ['checkpoints/a\u007fb', 'control'],
    ['checkpoints/a\u0085b', 'control'],
    ['checkpoints/a\u2028b', 'line-separator'],
    ['', 'empty'],
  ];
  it.each(rejected)('rejects %j (%s)', (key, reason) => {
    const verdict = validateModelKey(key, PREFIXES);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.disposition).toBe('reject');
      expect(verdict.reason).toContain(reason);
    }
  });

  const ignored: [string, string][] = [
    ['checkpoints/', 'folder marker'],
    ['loras/sub/', 'folder marker'],
    ['.model-sync/ready.json', 'tooling'],
    ['README.md', 'outside the model folders'],
    ['checkpoint/x.safetensors', 'outside the model folders'],
    ['Checkpoints/x.safetensors', 'outside the model folders'],
    ['controlnet/x.safetensors', 'outside the model folders'],
    ['checkpoints', 'outside the model folders'],
  ];
  it.each(ignored)('ignores %j (%s)', (key, reason) => {
    const verdict = validateModelKey(key, PREFIXES);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.disposition).toBe('ignore');
      expect(verdict.reason).toContain(reason);
    }
  });

  it('accepts exactly 1024 UTF-8 bytes and rejects 1025', () => {
    const head = 'checkpoints/';
    const ascii1024 = head + 'a'.repeat(MAX_KEY_BYTES - head.length);
    expect(Buffer.byteLength(ascii1024)).toBe(1024);
    expect(validateModelKey(ascii1024, PREFIXES).ok).toBe(true);
    const ascii1025 = `${ascii1024}b`;
    const verdict = validateModelKey(ascii1025, PREFIXES);
    expect(verdict).toEqual({ ok: false, disposition: 'reject', reason: 'key is 1025 bytes (at most 1024)' });
  });

  it('counts bytes, not characters, for multi-byte keys', () => {
    // 3 bytes per character: 337 * 3 + 12 = 1023 bytes, 338 * 3 + 12 = 1026 bytes.
    expect(validateModelKey(`checkpoints/${'模'.repeat(337)}`, PREFIXES).ok).toBe(true);
    expect(validateModelKey(`checkpoints/${'模'.repeat(338)}`, PREFIXES).ok).toBe(false);
  });
});

describe('ssmKeyAllowedPattern (the SSM document key parameter)', () => {
  const pattern = new RegExp(ssmKeyAllowedPattern(PREFIXES));
  const corpus = [
    'checkpoints/sd_xl_base_1.0.safetensors',
    'checkpoints/my model (1).safetensors',
    'loras/sub/dir/style.safetensors',
    'vae/模型 ✓.safetensors',
    'checkpoints/$(reboot).safetensors',
    'checkpoints/`id`;ls',
    'checkpoints/.hidden',
    'checkpoints/...',
    'checkpoints/..x',
    'checkpoints/.',
    'checkpoints/..',
    'checkpoints/../x',
    'checkpoints/./x',
    'checkpoints//x',
    '/checkpoints/x',
    'checkpoints/',
    'checkpoints',
    'checkpoints/a\nb',
    'checkpoints/a\u0085b',
    'checkpoints/a\u2028b',
    'checkpoints/a\tb',
    '.model-sync/ready.json',
    'README.md',
    'checkpointsx/y',
    'xcheckpoints/y',
    'loras/a/b/',
    '',
  ];
  it.each(corpus)('agrees with validateModelKey on %j', (key) => {
    expect(pattern.test(key)).toBe(validateModelKey(key, PREFIXES).ok);
  });

  it('is anchored and lists the configured folders only', () => {
    const source = ssmKeyAllowedPattern(PREFIXES);
    expect(source).toMatch(/^\^\(\?:checkpoints\|loras\|vae\)/);
    expect(source.endsWith('$')).toBe(true);
  });

  it('refuses a folder name that would change the regex', () => {
    expect(() => ssmKeyAllowedPattern(['checkpoints', 'a|.*'])).toThrow('model prefix "a|.*" must be lowercase letters, digits and _');
  });
});
