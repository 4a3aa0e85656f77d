import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { parseDuration } from '../../cli/comfy/cli';
import { localPath } from '../../cli/comfy/client';
import { CookieJar } from '../../cli/comfy/cookie-jar';
import { resolveEndpoint } from '../../cli/comfy/endpoint';
import { EXIT_CODES, UsageError, WorkflowError } from '../../cli/comfy/errors';
import { applyOverrides, applySeed, type ApiWorkflow, loadWorkflow, parseOverride, parseWorkflow, randomSeed, seedTargets } from '../../cli/comfy/workflow';

const EXAMPLES = resolve(__dirname, '../../examples/workflows');
const sdxl = (): ApiWorkflow => loadWorkflow(join(EXAMPLES, 'sdxl-text-to-image.json'));

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('loading API-format workflows', () => {
  it('accepts every example workflow and uses real ComfyUI node classes', () => {
    const known = new Set(['CheckpointLoaderSimple', 'CLIPTextEncode', 'EmptyLatentImage', 'KSampler', 'VAEDecode', 'SaveImage', 'LoraLoader', 'VAELoader']);
    for (const file of ['sdxl-text-to-image.json', 'sdxl-lora-text-to-image.json']) {
      const wf = loadWorkflow(join(EXAMPLES, file));
      for (const node of Object.values(wf)) expect(known).toContain(node.class_type);
      expect(Object.values(wf).some((n) => n.class_type === 'SaveImage')).toBe(true);
    }
  });

  it('explains how to export the API format when given a UI-format workflow', () => {
    const ui = JSON.stringify({ last_node_id: 9, last_link_id: 9, nodes: [{ id: 3, type: 'KSampler' }], links: [[1, 4, 0, 3, 0, 'MODEL']], version: 0.4 });
    const err = catchError(() => parseWorkflow(ui, 'ui.json')) as WorkflowError;
    expect(err).toBeInstanceOf(WorkflowError);
    expect(err.message).toContain('UI-format workflow');
    expect(err.hint).toContain('Export (API)');
    expect(err.hint).toContain('Dev mode');
    expect(err.exitCode).toBe(EXIT_CODES.workflow);
  });

  it('rejects invalid JSON, non-objects, nodes without class_type or inputs, and dangling links', () => {
    expect(catchError(() => parseWorkflow('{"3": ', 'x.json')).message).toMatch(/^x\.json is not valid JSON/);
    expect(catchError(() => parseWorkflow('[1,2]', 'x.json')).message).toContain('got an array');
    expect(catchError(() => parseWorkflow('{}', 'x.json')).message).toContain('has no nodes');
    expect(catchError(() => parseWorkflow('{"3": {"inputs": {}}}', 'x.json')).message).toContain('node "3" has no "class_type"');
    expect(catchError(() => parseWorkflow('{"3": {"class_type": "KSampler"}}', 'x.json')).message).toContain('node "3" (KSampler) has no "inputs"');
    expect(catchError(() => parseWorkflow('{"8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}}}', 'x.json')).message).toContain(
      'input "samples" of node "8" (VAEDecode) links to node "3", which is not in the workflow',
    );
  });

  it('accepts a saved POST /prompt body ({"prompt": {...}})', () => {
    const wf = parseWorkflow(JSON.stringify({ prompt: sdxl(), client_id: 'abc' }), 'body.json');
    expect(wf['3'].class_type).toBe('KSampler');
  });

  it('reports an unreadable file as a workflow error', () => {
    const err = catchError(() => loadWorkflow('/nonexistent/wf.json'));
    expect(err).toBeInstanceOf(WorkflowError);
    expect(err.message).toContain('ENOENT');
  });
});

describe('--set overrides', () => {
  it('parses NODE_ID.inputs.FIELD=VALUE, keeping "=" inside the value', () => {
    expect(parseOverride('6.inputs.text=a=b')).toEqual({ nodeId: '6', field: 'text', raw: 'a=b' });
    expect(parseOverride('12:3.inputs.seed=5')).toEqual({ nodeId: '12:3', field: 'seed', raw: '5' });
    const err = catchError(() => parseOverride('6.text=hello'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('NODE_ID.inputs.FIELD=VALUE');
  });

  it('types values against the input they replace and leaves the original untouched', () => {
    const wf = sdxl();
    const out = applyOverrides(wf, ['6.inputs.text=42', '3.inputs.steps=30', '3.inputs.cfg=6.5', '3.inputs.sampler_name=euler', '8.inputs.vae=["4", 2]'].map(parseOverride));
    expect(out['6'].inputs.text).toBe('42'); // text stays text
    expect(out['3'].inputs.steps).toBe(30);
    expect(out['3'].inputs.cfg).toBe(6.5);
    expect(out['3'].inputs.sampler_name).toBe('euler');
    expect(out['8'].inputs.vae).toEqual(['4', 2]);
    expect(wf['3'].inputs.steps).toBe(25);
  });

  it('names the node id when the node is missing, and lists the nodes', () => {
    const err = catchError(() => applyOverrides(sdxl(), [parseOverride('99.inputs.text=x')])) as WorkflowError;
    expect(err).toBeInstanceOf(WorkflowError);
    expect(err.message).toBe('--set 99.inputs.text: the workflow has no node "99"');
    expect(err.hint).toContain('3 (KSampler)');
  });

  it('rejects unknown inputs, non-numbers for numbers, non-booleans, unsafe integers and scalars replacing links', () => {
    expect(catchError(() => applyOverrides(sdxl(), [parseOverride('3.inputs.sead=1')])).message).toContain('node "3" (KSampler) has no input "sead"');
    expect(catchError(() => applyOverrides(sdxl(), [parseOverride('3.inputs.steps=many')])).message).toContain('expected a number');
    expect(catchError(() => applyOverrides(sdxl(), [parseOverride('3.inputs.steps=007')])).message).toContain('expected a number');
    expect(catchError(() => applyOverrides(sdxl(), [parseOverride('3.inputs.seed=18446744073709551615')])).message).toContain('2^53-1');
    expect(catchError(() => applyOverrides(sdxl(), [parseOverride('8.inputs.vae=4')])).message).toContain('is a link from node "4"');
    expect(catchError(() => applyOverrides(sdxl(), [parseOverride('8.inputs.vae=["77", 0]')])).message).toContain('links to node "77"');
    const wf = parseWorkflow('{"1": {"class_type": "SaveImage", "inputs": {"flag": true, "extra": null}}}', 'x');
    expect(catchError(() => applyOverrides(wf, [parseOverride('1.inputs.flag=yes')])).message).toContain('expected true or false');
    expect(applyOverrides(wf, [parseOverride('1.inputs.flag=false')])['1'].inputs.flag).toBe(false);
  });

  it('infers numbers, booleans and JSON for inputs without a literal value', () => {
    const wf = parseWorkflow('{"1": {"class_type": "X", "inputs": {"a": null, "b": null, "c": null, "d": null, "e": null}}}', 'x');
    const out = applyOverrides(wf, ['1.inputs.a=12', '1.inputs.b=true', '1.inputs.c={"k": [1]}', '1.inputs.d=plain text', '1.inputs.e=-0.5'].map(parseOverride));
    expect(out['1'].inputs).toEqual({ a: 12, b: true, c: { k: [1] }, d: 'plain text', e: -0.5 });
    expect(catchError(() => applyOverrides(wf, [parseOverride('1.inputs.a={broken')])).message).toContain('looks like JSON but does not parse');
  });
});

describe('seeds', () => {
  it('sets every literal seed and noise_seed, and only those', () => {
    const wf = parseWorkflow(
      JSON.stringify({
        '1': { class_type: 'KSampler', inputs: { seed: 1, steps: 5 } },
        '2': { class_type: 'KSamplerAdvanced', inputs: { noise_seed: 2 } },
        '3': { class_type: 'KSampler', inputs: { seed: ['9', 0] } },
        '9': { class_type: 'PrimitiveNode', inputs: { value: 3 } },
      }),
      'x',
    );
    expect(seedTargets(wf)).toEqual([
      { nodeId: '1', field: 'seed' },
      { nodeId: '2', field: 'noise_seed' },
    ]);
    const out = applySeed(wf, 777);
    expect(out['1'].inputs).toEqual({ seed: 777, steps: 5 });
    expect(out['2'].inputs.noise_seed).toBe(777);
    expect(out['3'].inputs.seed).toEqual(['9', 0]);
  });

  it('fails clearly when the workflow has no seed, and draws random seeds exactly representable in JSON', () => {
    const wf = parseWorkflow('{"1": {"class_type": "SaveImage", "inputs": {}}}', 'x');
    expect(catchError(() => applySeed(wf, 1))).toBeInstanceOf(WorkflowError);
    const seeds = Array.from({ length: 200 }, randomSeed);
    for (const s of seeds) expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
    expect(new Set(seeds).size).toBe(200);
  });
});

describe('CookieJar', () => {
  it('keeps ALB stickiness cookies and replays them; honours Max-Age over Expires, expiry and Secure', () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const jar = new CookieJar(() => now);
    jar.store([
      'AWSALB=abc123; Expires=Wed, 08 Jan 2025 00:00:00 GMT; Path=/',
      'AWSALBCORS=abc123; Expires=Wed, 08 Jan 2025 00:00:00 GMT; Path=/; SameSite=None; Secure',
      'AWSALBAPP-0=_remove_; Expires=Wed, 08 Jan 2025 00:00:00 GMT; Path=/',
      'short=1; Max-Age=10; Expires=Wed, 08 Jan 2030 00:00:00 GMT',
    ]);
    expect(jar.header(new URL('https://d1.cloudfront.net/prompt'))).toBe('AWSALB=abc123; AWSALBCORS=abc123; AWSALBAPP-0=_remove_; short=1');
    expect(jar.header(new URL('http://internal-alb.example/prompt'))).toBe('AWSALB=abc123; AWSALBAPP-0=_remove_; short=1'); // Secure not over http
    expect(jar.header(new URL('http://127.0.0.1:8188/ws'))).toContain('AWSALBCORS'); // loopback counts as secure
    now += 11_000;
    expect(jar.names()).not.toContain('short');
    jar.store('AWSALB=gone; Max-Age=0');
    expect(jar.names()).toEqual(['AWSALBCORS', 'AWSALBAPP-0']);
    jar.store(['=novalue', 'broken']);
    expect(jar.names()).toHaveLength(2);
  });
});

describe('resolveEndpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'comfy-endpoint-'));

  it('prefers --url, then COMFY_URL, then the outputs file', () => {
    writeFileSync(join(dir, 'cdktf-outputs.json'), JSON.stringify({ 'comfyui-dev-edge': { public_hostname: 'd111.cloudfront.net' } }));
    expect(resolveEndpoint({ url: 'http://a', env: { COMFY_URL: 'http://b' }, cwd: dir })).toMatchObject({ url: 'http://a', source: '--url' });
    expect(resolveEndpoint({ env: { COMFY_URL: 'http://b' }, cwd: dir })).toMatchObject({ url: 'http://b', source: 'COMFY_URL' });
    expect(resolveEndpoint({ env: {}, cwd: dir }).url).toBe('https://d111.cloudfront.net');
  });

  it('reads terraform output -json and picks comfyui_url over a hostname', () => {
    const file = join(dir, 'tf.json');
    writeFileSync(file, JSON.stringify({ public_hostname: { value: 'x.example', type: 'string', sensitive: false }, comfyui_url: { value: 'https://comfy.example.com', type: 'string' } }));
    expect(resolveEndpoint({ outputsFile: file, env: {}, cwd: dir }).url).toBe('https://comfy.example.com');
    expect(resolveEndpoint({ env: { COMFY_OUTPUTS_FILE: file }, cwd: '/' }).url).toBe('https://comfy.example.com');
  });

  it('explains what is missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'comfy-empty-'));
    expect(catchError(() => resolveEndpoint({ env: {}, cwd: empty })).message).toContain('no endpoint');
    writeFileSync(join(empty, 'o.json'), '{"a": {"vpc_id": "vpc-1"}}');
    expect(catchError(() => resolveEndpoint({ outputsFile: 'o.json', env: {}, cwd: empty })).message).toContain('has none of the outputs comfyui_url');
  });

  it('takes credentials from --user or COMFY_USER/COMFY_PASSWORD and refuses half of a pair', () => {
    const base = { url: 'https://x', cwd: dir };
    expect(resolveEndpoint({ ...base, user: 'ana:s3:cret', env: {} }).credentials).toEqual({ username: 'ana', password: 's3:cret' });
    expect(resolveEndpoint({ ...base, user: 'ana', env: { COMFY_PASSWORD: 'pw' } }).credentials).toEqual({ username: 'ana', password: 'pw' });
    expect(resolveEndpoint({ ...base, env: { COMFY_USER: 'bo', COMFY_PASSWORD: 'pw' } }).credentials).toEqual({ username: 'bo', password: 'pw' });
    expect(resolveEndpoint({ ...base, env: {} }).credentials).toBeUndefined();
    expect(catchError(() => resolveEndpoint({ ...base, env: { COMFY_USER: 'bo' } })).message).toContain('gives user "bo" but no password');
    expect(catchError(() => resolveEndpoint({ ...base, env: { COMFY_PASSWORD: 'pw' } })).message).toContain('no user');
  });

  it('takes a bearer token from COMFY_TOKEN and refuses it together with a user', () => {
    const base = { url: 'https://x', cwd: dir };
    expect(resolveEndpoint({ ...base, env: { COMFY_TOKEN: 'abc.def.ghi' } })).toMatchObject({ bearerToken: 'abc.def.ghi', credentials: undefined });
    expect(resolveEndpoint({ ...base, env: { COMFY_TOKEN: '' } }).bearerToken).toBeUndefined();
    expect(catchError(() => resolveEndpoint({ ...base, env: { COMFY_TOKEN: 'abc', COMFY_USER: 'bo', COMFY_PASSWORD: 'pw' } })).message).toContain('COMFY_TOKEN and a user');
  });
});

describe('helpers', () => {
  it('parses durations', () => {
    expect(parseDuration('90', '--timeout', false)).toBe(90_000);
    expect(parseDuration('1.5m', '--timeout', false)).toBe(90_000);
    expect(parseDuration('500ms', '--timeout', false)).toBe(500);
    expect(parseDuration('0', '--timeout', true)).toBe(0);
    expect(() => parseDuration('0', '--request-timeout', false)).toThrow('must be greater than 0');
    expect(() => parseDuration('soon', '--timeout', false)).toThrow('expects a duration');
  });

  it('keeps downloads inside the output directory', () => {
    expect(localPath('/out', { filename: 'a.png', subfolder: 'sdxl/run', type: 'output' })).toBe('/out/sdxl/run/a.png');
    expect(localPath('/out', { filename: '../../etc/passwd', subfolder: '', type: 'output' })).toBe('/out/passwd');
    expect(() => localPath('/out', { filename: 'a.png', subfolder: '../..', type: 'output' })).toThrow('would leave');
  });

  it('ships an examples README naming the bucket key of every model the examples load', () => {
    const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
    for (const file of ['sdxl-text-to-image.json', 'sdxl-lora-text-to-image.json']) {
      const wf = loadWorkflow(join(EXAMPLES, file));
      const keys = Object.values(wf).flatMap((n) =>
        (
          [
            ['ckpt_name', 'checkpoints'],
            ['lora_name', 'loras'],
            ['vae_name', 'vae'],
          ] as const
        )
          .filter(([input]) => typeof n.inputs[input] === 'string')
          .map(([input, folder]) => `${folder}/${String(n.inputs[input])}`),
      );
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(readme).toContain(key);
    }
  });
});
