import { decodeS3EventKey, MAX_KEY_BYTES, MAX_SEGMENT_BYTES, ssmKeyAllowedPattern, validateModelKey } from '../../lambdas/model-sync/keys';

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
    'checkpoints/....pt',
    'checkpoints/..x.pt',
    'checkpoints/%2e%2e.safetensors',
    'loras/-rf.pt',
    'loras/UPPER.SAFETENSORS',
    'loras/v1.5/x.safetensors',
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
    // Segments of 200 bytes: under the 255-byte segment limit.
    const head = `checkpoints/${`${'a'.repeat(199)}/`.repeat(4)}`;
    const ascii1024 = `${head}${'a'.repeat(MAX_KEY_BYTES - head.length - 3)}.pt`;
    expect(Buffer.byteLength(ascii1024)).toBe(1024);
    expect(validateModelKey(ascii1024, PREFIXES).ok).toBe(true);
    const ascii1025 = `${head}${'a'.repeat(MAX_KEY_BYTES - head.length - 2)}.pt`;
    const verdict = validateModelKey(ascii1025, PREFIXES);
    expect(verdict).toEqual({ ok: false, disposition: 'reject', reason: 'key is 1025 bytes (at most 1024)' });
  });

  it('accepts path segments of 255 UTF-8 bytes and rejects 256, as the node does (a file name\'s limit)', () => {
    expect(MAX_SEGMENT_BYTES).toBe(255);
    for (const segment of [`${'a'.repeat(252)}.pt`, `.${'a'.repeat(251)}.pt`, `..${'a'.repeat(250)}.pt`, `${'é'.repeat(126)}.pt`]) {
      expect(Buffer.byteLength(segment)).toBe(255);
      expect(validateModelKey(`loras/${segment}`, PREFIXES)).toEqual({ ok: true, key: `loras/${segment}` });
    }
    for (const segment of ['a'.repeat(255), `${'é'.repeat(127)}a`]) expect(validateModelKey(`loras/${segment}/x.pt`, PREFIXES).ok).toBe(true);
    for (const segment of [`${'a'.repeat(253)}.pt`, `..${'a'.repeat(251)}.pt`, `${'é'.repeat(126)}a.pt`, `${'模'.repeat(84)}a.pt`]) {
      expect(Buffer.byteLength(segment)).toBe(256);
      for (const key of [`loras/${segment}`, `loras/${segment}/x.pt`, `loras/x/${segment}`]) {
        expect(validateModelKey(key, PREFIXES)).toEqual({ ok: false, disposition: 'reject', reason: 'key has a path segment of 256 bytes (at most 255)' });
      }
    }
  });

  it('counts bytes, not characters, for multi-byte keys', () => {
    // 3 bytes per character, 80 per segment (240 bytes): 12 + 4 * 241 + 17 * 3 = 1027 bytes; one character less is 1024.
    const head = `checkpoints/${`${'模'.repeat(80)}/`.repeat(4)}`;
    expect(Buffer.byteLength(`${head}${'模'.repeat(14)}abc.pt`)).toBe(1024);
    expect(validateModelKey(`${head}${'模'.repeat(14)}abc.pt`, PREFIXES).ok).toBe(true);
    expect(validateModelKey(`${head}${'模'.repeat(15)}abc.pt`, PREFIXES)).toEqual({ ok: false, disposition: 'reject', reason: 'key is 1027 bytes (at most 1024)' });
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
    `checkpoints/${'a'.repeat(255)}`,
    `checkpoints/${'a'.repeat(256)}`,
    `checkpoints/.${'a'.repeat(254)}`,
    `checkpoints/.${'a'.repeat(255)}`,
    `checkpoints/..${'a'.repeat(253)}`,
    `checkpoints/..${'a'.repeat(254)}`,
    `checkpoints/${'a'.repeat(256)}/x`,
    `checkpoints/x/${'a'.repeat(300)}`,
    `checkpoints/${'é'.repeat(127)}`,
  ];
  it.each(corpus)('agrees with validateModelKey on %j', (key) => {
    expect(pattern.test(key)).toBe(validateModelKey(key, PREFIXES).ok);
  });

  it('bounds segments in characters: it refuses every segment over 255 characters, and leaves multi-byte segments of 256 bytes or more but at most 255 characters to the Lambda and the node', () => {
    expect(pattern.test(`vae/${'模'.repeat(253)}.pt`)).toBe(false);
    const multiByte = `vae/${'模'.repeat(252)}.pt`;
    expect(pattern.test(multiByte)).toBe(true);
    expect(validateModelKey(multiByte, PREFIXES).ok).toBe(false);
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
