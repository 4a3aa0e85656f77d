/**
 * `npm run comfy` through a wake from zero: the fake server answers like the
 * edge with no replica (503 + Retry-After + the wake JSON) and then serves.
 */
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { Writable } from 'stream';
import { runCli } from '../../cli/comfy/cli';
import { EXIT_CODES, ServerError, TimeoutError } from '../../cli/comfy/errors';
import { formatElapsed, waitThroughWake } from '../../cli/comfy/wake';
import { FakeComfyUI, type FakeComfyOptions } from '../client/fake-comfyui';

const SDXL = join(resolve(__dirname, '../..'), 'examples/workflows/sdxl-text-to-image.json');

class Capture extends Writable {
  text = '';
  _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const servers: FakeComfyUI[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
async function fakeServer(options: FakeComfyOptions): Promise<FakeComfyUI> {
  const fake = new FakeComfyUI(options);
  servers.push(fake);
  await fake.start();
  return fake;
}
async function cli(args: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const cwd = mkdtempSync(join(tmpdir(), 'comfy-wake-'));
  const code = await runCli(args, { stdout, stderr, env: {}, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('comfy run against a GPU waking from zero', () => {
  it('waits through 503 + Retry-After with a progress line, then runs the workflow; nothing is POSTed before the GPU is up', async () => {
    const fake = await fakeServer({ wakeAfterRequests: 3, wakeRetryAfterSeconds: 1 });
    const started = Date.now();
    const r = await cli(['run', SDXL, '--url', fake.url, '--set', '3.inputs.steps=2', '--retries', '0']);
    expect(r.code).toBe(EXIT_CODES.ok);
    expect(r.stdout.trim()).toBe('comfy-output/sdxl/t2i_00001_.png');
    expect(r.stderr).toContain('no GPU is running: waking one');
    expect(r.stderr.match(/waking the GPU… \d+s/g)).toHaveLength(3);
    expect(r.stderr).toMatch(/the GPU is awake after \d+s/);
    // Retry-After (1 s) was honoured three times
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    const paths = fake.requests.map((q) => `${q.method} ${q.path}`);
    expect(paths.slice(0, 4)).toEqual(['GET /prompt', 'GET /prompt', 'GET /prompt', 'GET /prompt']);
    expect(paths.indexOf('POST /prompt')).toBeGreaterThan(3);
    expect(fake.submitted).toHaveLength(1);
  });

  it('gives up at --timeout with the timeout exit code and says why', async () => {
    const fake = await fakeServer({ wakeAfterRequests: 1000, wakeRetryAfterSeconds: 1 });
    const r = await cli(['run', SDXL, '--url', fake.url, '--retries', '0', '--timeout', '2s']);
    expect(r.code).toBe(EXIT_CODES.timeout);
    expect(r.stderr).toContain('the GPU did not wake within --timeout 2 s');
    expect(r.stderr).toContain('waking the GPU…');
    expect(fake.submitted).toHaveLength(0);
  });
});

describe('waitThroughWake', () => {
  const waking = (retryAfter?: number) => new ServerError('GET /prompt: HTTP 503', 503, undefined, retryAfter);

  function clock() {
    let t = 1_000_000;
    const sleeps: number[] = [];
    return { now: () => t, sleep: async (ms: number) => { sleeps.push(ms); t += ms; }, sleeps };
  }

  it('honours Retry-After, bounded to 1-30 s, 10 s without one, and reports elapsed time', async () => {
    const c = clock();
    const answers = [waking(15), waking(), waking(600), waking(0)];
    const lines: string[] = [];
    const result = await waitThroughWake(async () => {
      const next = answers.shift();
      if (next) throw next;
      return 'ok';
    }, { budget: '--timeout 30 min', onProgress: (l) => lines.push(l), now: c.now, sleep: c.sleep });
    expect(result).toBe('ok');
    expect(c.sleeps).toEqual([15_000, 10_000, 30_000, 1_000]);
    expect(lines).toEqual(['no GPU is running: waking one (usually 3-5 minutes)', 'waking the GPU… 0s', 'waking the GPU… 15s', 'waking the GPU… 25s', 'waking the GPU… 55s', 'the GPU is awake after 56s']);
  });

  it('does not retry other failures', async () => {
    const c = clock();
    await expect(waitThroughWake(async () => { throw new ServerError('HTTP 500', 500); }, { budget: 'x', onProgress: () => undefined, now: c.now, sleep: c.sleep })).rejects.toThrow('HTTP 500');
    await expect(waitThroughWake(async () => { throw new ServerError('HTTP 502', 502); }, { budget: 'x', onProgress: () => undefined, now: c.now, sleep: c.sleep })).rejects.toThrow('HTTP 502');
    expect(c.sleeps).toEqual([]);
  });

  it('stops before a wait would pass the deadline', async () => {
    const c = clock();
    const promise = waitThroughWake(async () => { throw waking(10); }, { deadline: c.now() + 25_000, budget: '--timeout 25 s', onProgress: () => undefined, now: c.now, sleep: c.sleep });
    await expect(promise).rejects.toBeInstanceOf(TimeoutError);
    await expect(promise).rejects.toThrow('the GPU did not wake within --timeout 25 s (waited 20s)');
    expect(c.sleeps).toEqual([10_000, 10_000]);
  });

  it('formats elapsed time like the progress line', () => {
    expect([0, 59_999, 60_000, 80_000, 725_000].map(formatElapsed)).toEqual(['0s', '59s', '1m00s', '1m20s', '12m05s']);
  });
});
