import { spawn } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { Writable } from 'stream';
import { runCli } from '../../cli/comfy/cli';
import { EXIT_CODES } from '../../cli/comfy/errors';
import { FakeComfyUI, type FakeComfyOptions } from './fake-comfyui';

const ROOT = resolve(__dirname, '../..');
const SDXL = join(ROOT, 'examples/workflows/sdxl-text-to-image.json');
/** Keeps the fake's sampler short and the client's retries off. */
const FAST_ARGS = ['--set', '3.inputs.steps=4', '--retries', '0'];

class Capture extends Writable {
  text = '';
  isTTY?: boolean;
  columns = 120;
  constructor(tty = false) {
    super();
    this.isTTY = tty;
  }
  _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const servers: FakeComfyUI[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function fakeServer(options: FakeComfyOptions = {}): Promise<FakeComfyUI> {
  const fake = new FakeComfyUI(options);
  servers.push(fake);
  await fake.start();
  return fake;
}

async function cli(args: string[], options: { env?: Record<string, string>; tty?: boolean; cwd?: string } = {}) {
  const stdout = new Capture();
  const stderr = new Capture(options.tty);
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), 'comfy-cli-'));
  const code = await runCli(args, { stdout, stderr, env: options.env ?? {}, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text, cwd };
}

describe('comfy run', () => {
  it('runs the SDXL example end to end: prints the downloaded paths and logs progress lines', async () => {
    const fake = await fakeServer();
    const r = await cli(['run', SDXL, '--url', fake.url, '--count', '2', '--seed', 'random', ...FAST_ARGS]);
    expect(r.code).toBe(EXIT_CODES.ok);
    const paths = r.stdout.trim().split('\n');
    expect(paths).toEqual(['comfy-output/sdxl/t2i_00001_.png', 'comfy-output/sdxl/t2i_00002_.png']);
    for (const p of paths) expect(readFileSync(join(r.cwd, p)).subarray(1, 4).toString()).toBe('PNG');
    expect(r.stderr).toMatch(/\[1\/2\] queued prompt [0-9a-f-]{36} \(seed \d+\)/);
    expect(r.stderr).toContain('[1/2] executing KSampler #3');
    expect(r.stderr).toContain('[2/2] KSampler #3: step 4/4');
    expect(r.stderr).toContain('done: 2 prompt(s), 2 file(s) in comfy-output');
    expect(r.stderr).not.toContain('\x1b[2K');
    const seeds = (fake.submitted as { prompt: Record<string, { inputs: { seed: number } }> }[]).map((b) => b.prompt['3'].inputs.seed);
    expect(new Set(seeds).size).toBe(2);
  });

  it('draws a progress bar on a terminal and prints JSON with --json', async () => {
    const fake = await fakeServer({ stepDelayMs: 30 });
    const r = await cli(['run', SDXL, '--url', fake.url, '--json', '-o', 'out', '--seed', '7', ...FAST_ARGS], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('\r\x1b[2K[1/1] KSampler #3 ');
    expect(r.stderr).toMatch(/█+░* \d\/4/);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ endpoint: fake.url, outDir: 'out', prompts: [{ seed: 7, files: ['out/sdxl/t2i_00001_.png'] }] });
  });

  it('warns that identical prompts come from the cache without --seed', async () => {
    const fake = await fakeServer();
    const r = await cli(['run', SDXL, '--url', fake.url, '-n', '2', '-q', ...FAST_ARGS]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: the 2 prompts are identical');
    expect(r.stderr).not.toContain('executing'); // --quiet
  });

  it('exits 5 on a UI-format workflow, saying how to export the API format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfy-ui-'));
    writeFileSync(join(dir, 'ui.json'), JSON.stringify({ last_node_id: 1, nodes: [], links: [] }));
    const r = await cli(['run', 'ui.json', '--url', 'http://127.0.0.1:1'], { cwd: dir });
    expect(r.code).toBe(EXIT_CODES.workflow);
    expect(r.stderr).toContain('error: ui.json is a UI-format workflow');
    expect(r.stderr).toContain('hint: Export the workflow in API format');
  });

  it('exits 5 naming the node id when --set targets a missing node, before any request', async () => {
    const fake = await fakeServer();
    const r = await cli(['run', SDXL, '--url', fake.url, '--set', '99.inputs.text=x']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('error: --set 99.inputs.text: the workflow has no node "99"');
    expect(fake.requests).toHaveLength(0);
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli(['run', SDXL, '--set', 'text=x'])).code).toBe(EXIT_CODES.usage);
    expect((await cli(['run', SDXL, '--count', '0', '--url', 'http://x'])).stderr).toContain('--count expects a whole number from 1 to 1000');
    expect((await cli(['run', '--url', 'http://x'])).stderr).toContain('run needs a workflow file');
    expect((await cli(['run', SDXL, '--bogus'])).stderr).toContain("Unknown option '--bogus'");
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli([])).stdout).toContain('Usage: npm run comfy');
    expect((await cli(['run', SDXL, '--url', 'ftp://x'])).stderr).toContain('must be http:// or https://');
  });

  it('exits 6 and prints node_errors per node', async () => {
    const fake = await fakeServer();
    const r = await cli(['run', SDXL, '--url', fake.url, '--set', '4.inputs.ckpt_name=sd3.safetensors', ...FAST_ARGS]);
    expect(r.code).toBe(EXIT_CODES.rejected);
    expect(r.stderr).toContain('error: ComfyUI rejected the prompt (prompt_outputs_failed_validation): Prompt outputs failed validation');
    expect(r.stderr).toContain("  node 4 (CheckpointLoaderSimple) input ckpt_name: Value not in list — ckpt_name: 'sd3.safetensors' not in");
  });

  it('exits 7 on execution_error and cancels the rest of the batch', async () => {
    const fake = await fakeServer({ scenario: 'execution_error' });
    const r = await cli(['run', SDXL, '--url', fake.url, '--count', '3', '--seed', 'random', ...FAST_ARGS]);
    expect(r.code).toBe(EXIT_CODES.execution);
    expect(r.stderr).toContain('failed at node 3 (KSampler): torch.OutOfMemoryError');
    expect(r.stderr).toContain('traceback (last lines):');
    expect(r.stderr).toContain('hint: The GPU ran out of memory');
    expect(fake.deleted.length + fake.interrupts.length).toBeGreaterThanOrEqual(1);
  });

  it('exits 8 on timeout and interrupts its running prompt, unless --no-cancel', async () => {
    const fake = await fakeServer({ scenario: 'hang' });
    const r = await cli(['run', SDXL, '--url', fake.url, '--timeout', '300ms', ...FAST_ARGS]);
    expect(r.code).toBe(EXIT_CODES.timeout);
    expect(r.stderr).toMatch(/error: prompt \S+ did not finish within --timeout 300 ms/);
    expect(r.stderr).toMatch(/warning: prompt \S+ interrupted/);
    expect(fake.interrupts).toHaveLength(1);

    const keep = await fakeServer({ scenario: 'hang' });
    const k = await cli(['run', SDXL, '--url', keep.url, '--timeout', '200ms', '--no-cancel', ...FAST_ARGS]);
    expect(k.code).toBe(8);
    expect(keep.interrupts).toHaveLength(0);
  });

  it('exits 9 at once when the server restarts and forgets the prompt, reporting the socket loss once per outage', async () => {
    // The port stays closed for 2.5 s: several reconnect attempts fail (connection refused) before it is back.
    const fake = await fakeServer({ scenario: 'restart', refuseMs: 2_500, stepDelayMs: 20 });
    const started = Date.now();
    const r = await cli(['run', SDXL, '--url', fake.url, '--timeout', '20s', '--set', '3.inputs.steps=10', '--retries', '0']);
    expect(r.stderr).toMatch(/error: prompt \S+ is no longer known to the server \(restarted\?\)/);
    expect(r.code).toBe(EXIT_CODES.server);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.stderr.match(/progress socket lost/g)).toHaveLength(1);
    expect(r.stderr).toContain('progress socket reconnected');
  });

  it('exits 4 with wrong credentials and passes with COMFY_USER/COMFY_PASSWORD', async () => {
    const fake = await fakeServer({ auth: { username: 'ana', password: 'pw' } });
    const bad = await cli(['run', SDXL, '--url', fake.url, '--user', 'ana:wrong', ...FAST_ARGS]);
    expect(bad.code).toBe(EXIT_CODES.auth);
    expect(bad.stderr).toContain('rejected the credentials of user "ana" (401)');
    expect(bad.stderr).toContain('hint: Set COMFY_USER and COMFY_PASSWORD');
    const good = await cli(['run', SDXL, ...FAST_ARGS], { env: { COMFY_URL: fake.url, COMFY_USER: 'ana', COMFY_PASSWORD: 'pw' } });
    expect(good.code).toBe(0);
    expect(good.stdout.trim()).toBe('comfy-output/sdxl/t2i_00001_.png');
  });

  it('exits 3 when the endpoint is unreachable', async () => {
    const fake = await fakeServer();
    const url = fake.url;
    await fake.stop();
    servers.length = 0;
    const r = await cli(['run', SDXL, '--url', url, ...FAST_ARGS]);
    expect(r.code).toBe(EXIT_CODES.unreachable);
    expect(r.stderr).toContain(`cannot reach ${url}: ECONNREFUSED`);
  });
});

describe('comfy status and models', () => {
  it('summarises versions, GPU memory and the queue', async () => {
    const fake = await fakeServer();
    const r = await cli(['status', '--url', fake.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('comfyui   0.3.66 · python 3.12.3 · pytorch 2.8.0+cu128');
    expect(r.stdout).toContain('device    cuda:0 NVIDIA L4 : cudaMallocAsync · VRAM 21.3 GiB free of 22.0 GiB');
    expect(r.stdout).toContain('queue     0 running, 0 pending');
    const json = JSON.parse((await cli(['status', '--url', fake.url, '--json'])).stdout);
    expect(json.queue).toEqual({ running: [], pending: [] });
  });

  it('lists models as bucket keys, per folder or all', async () => {
    const fake = await fakeServer();
    const all = await cli(['models', '--url', fake.url]);
    expect(all.stdout.split('\n')).toEqual(expect.arrayContaining(['checkpoints/sd_xl_base_1.0.safetensors', 'loras/detail-tweaker-xl.safetensors', 'vae/sdxl_vae.safetensors']));
    expect(all.stdout).not.toContain('custom_nodes');
    expect((await cli(['models', 'vae', '--url', fake.url])).stdout).toBe('vae/sdxl_vae.safetensors\n');
    const unknown = await cli(['models', 'nope', '--url', fake.url]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('the server has no model folder "nope"');
  });
});

describe('npm run comfy (child processes)', () => {
  // Async spawn: the fake server runs in this process and must keep answering.
  function run(command: string, args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolveRun, reject) => {
      const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolveRun({ code, stdout, stderr }));
    });
  }

  it('runs the example workflow through scripts/run-ts.mjs and exits with the class codes', async () => {
    const fake = await fakeServer({ auth: { username: 'ana', password: 'pw' } });
    const out = mkdtempSync(join(tmpdir(), 'comfy-e2e-'));
    const ok = await run(process.execPath, ['scripts/run-ts.mjs', 'cli/comfy/main.ts', 'run', 'examples/workflows/sdxl-text-to-image.json', '--url', fake.url, '-o', out, ...FAST_ARGS], {
      COMFY_USER: 'ana',
      COMFY_PASSWORD: 'pw',
    });
    expect(ok.stderr).toContain('finished in');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(`${join(out, 'sdxl', 't2i_00001_.png')}\n`);
    expect(existsSync(join(out, 'sdxl', 't2i_00001_.png'))).toBe(true);

    // The bundle run-ts.mjs wrote is the real entry point: drive the other exit codes through it directly.
    const bundle = join(ROOT, '.build/run-ts/cli__comfy__main.js');
    const denied = await run(process.execPath, [bundle, 'status', '--url', fake.url], { COMFY_USER: 'ana', COMFY_PASSWORD: 'bad' });
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain('(401)');
    const usage = await run(process.execPath, [bundle, 'run']);
    expect(usage.code).toBe(2);
  });

  it('on Ctrl-C interrupts its running prompt and exits 130', async () => {
    const fake = await fakeServer({ scenario: 'hang' });
    const bundle = join(ROOT, '.build/run-ts/cli__comfy__main.js');
    if (!existsSync(bundle)) await run(process.execPath, ['scripts/run-ts.mjs', 'cli/comfy/main.ts', '--help']);
    const child = spawn(process.execPath, [bundle, 'run', SDXL, '--url', fake.url, '-o', mkdtempSync(join(tmpdir(), 'comfy-int-'))], { cwd: ROOT });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes('executing KSampler')) {
        sent = true; // a second SIGINT would mean "quit at once", skipping the cancel
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(EXIT_CODES.interrupted);
    expect(stderr).toContain('SIGINT: stopping and cancelling');
    expect(stderr).toMatch(/warning: prompt \S+ interrupted/);
    expect(fake.interrupts).toHaveLength(1);
  });
});
