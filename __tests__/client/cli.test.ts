import { type ChildProcess, spawn } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { Writable } from 'stream';
import { runCli } from '../../cli/comfy/cli';
import { ComfyClient } from '../../cli/comfy/client';
import { EXIT_CODES, InterruptedError } from '../../cli/comfy/errors';
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
    // "requested" first; "interrupted" only once /queue no longer runs it
    expect(r.stderr).toMatch(/prompt \S+: interrupt requested\n(.*\n)*warning: prompt \S+ interrupted\n/);
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

  it('exits 3 when the endpoint is unreachable, naming the real URL with its path prefix', async () => {
    const fake = await fakeServer();
    const url = fake.url;
    await fake.stop();
    servers.length = 0;
    const r = await cli(['run', SDXL, '--url', `${url}/comfy`, ...FAST_ARGS]);
    expect(r.code).toBe(EXIT_CODES.unreachable);
    expect(r.stderr).toContain(`cannot reach ${url}/comfy/prompt: ECONNREFUSED`);
  });

  it('suggests the scheme for a URL without one (localhost:8188)', async () => {
    const local = await cli(['status', '--url', 'localhost:8188']);
    expect(local.code).toBe(EXIT_CODES.usage);
    expect(local.stderr).toContain('hint: Did you mean http://localhost:8188?');
    expect((await cli(['status', '--url', 'comfy.example.com/api'])).stderr).toContain('hint: Did you mean https://comfy.example.com/api?');
  });

  it('warns that every prompt after the first is a cached copy, also for a workflow without a seed input', async () => {
    const fake = await fakeServer();
    const dir = mkdtempSync(join(tmpdir(), 'comfy-noseed-'));
    const noSeed = {
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['4', 2] } },
      '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'noseed' } },
    };
    writeFileSync(join(dir, 'noseed.json'), JSON.stringify(noSeed));
    const r = await cli(['run', 'noseed.json', '--url', fake.url, '-n', '2', '--retries', '0'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: the 2 prompts are identical: every prompt after the first will be a cached copy of the first');
    expect(r.stderr).toContain('the workflow has no seed input');
    // different seeds: no warning
    const seeded = await cli(['run', SDXL, '--url', fake.url, '-n', '2', '--seed', '1', ...FAST_ARGS]);
    expect(seeded.stderr).not.toContain('cached copy');
  });

  it('counts only other users\' prompts as ahead of the run in the server queue', async () => {
    const fake = await fakeServer({ scenario: 'hang' });
    const idle = await fakeServer();
    const alone = await cli(['run', SDXL, '--url', idle.url, ...FAST_ARGS]);
    expect(alone.code).toBe(0);
    expect(alone.stderr).not.toMatch(/server queue: [1-9]/); // its own prompt is not "ahead" of it
    // another user's prompt hangs on the GPU
    const other = new ComfyClient({ url: fake.url, retries: 0 });
    await other.submit(JSON.parse(readFileSync(SDXL, 'utf8')));
    const behind = await cli(['run', SDXL, '--url', fake.url, '-n', '2', '--seed', '1', '--timeout', '1s', ...FAST_ARGS]);
    expect(behind.code).toBe(EXIT_CODES.timeout);
    expect(behind.stderr).toContain('server queue: 1 prompt(s) ahead');
    expect(behind.stderr).not.toMatch(/server queue: [23]/);
    expect(fake.deleted).toHaveLength(2); // both of its own pending prompts were removed, the other user's kept running
    expect(fake.interrupts).toHaveLength(0);
  });

  it('on a stop signal with --no-cancel says the prompts stay, and does not cancel them', async () => {
    const fake = await fakeServer({ scenario: 'hang' });
    const controller = new AbortController();
    const stderr = new Capture();
    const stdout = new Capture();
    const running = runCli(['run', SDXL, '--url', fake.url, '--no-cancel', ...FAST_ARGS], { stdout, stderr, env: {}, cwd: mkdtempSync(join(tmpdir(), 'comfy-nc-')), signal: controller.signal });
    await waitUntil(() => stderr.text.includes('executing KSampler'));
    controller.abort(new InterruptedError('stopped by SIGTERM', 'SIGTERM'));
    expect(await running).toBe(EXIT_CODES.interrupted);
    expect(stderr.text).toContain("SIGTERM: stopping; this run's prompts stay on the server (--no-cancel)");
    expect(stderr.text).not.toContain('cancelling');
    expect(stderr.text).toMatch(/left on the server \(--no-cancel\): \S+/);
    expect(fake.interrupts).toHaveLength(0);
  });
});

describe('help', () => {
  it('lists the commands, and each command shows its own options', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Commands:\n  run WORKFLOW\.json +Submit/);
    expect(top.stdout).toContain('npm run comfy -- <command> --help shows the options of a command.');
    expect(top.stdout).not.toContain('--seed');
    const run = await cli(['run', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: npm run comfy -- run WORKFLOW\.json \[options\]/);
    expect(run.stdout).toContain('Run options:\n  -o, --out DIR');
    expect(run.stdout).toContain('--url URL');
    expect(run.stdout).not.toContain('Commands:');
    const status = await cli(['status', '-h']);
    expect(status.stdout).toMatch(/^Usage: npm run comfy -- status \[options\]/);
    expect(status.stdout).not.toContain('--seed');
    expect((await cli(['help', 'models'])).stdout).toMatch(/^Usage: npm run comfy -- models \[FOLDER\] \[options\]/);
    expect((await cli(['status', '--seed', '1'])).stderr).toContain('hint: See: npm run comfy -- status --help');
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

  it('answers the legacy folders clip and unet with the folders ComfyUI merges them into', async () => {
    const fake = await fakeServer({ models: { checkpoints: [], text_encoders: ['t5xxl_fp16.safetensors'], diffusion_models: [] } });
    const clip = await cli(['models', 'clip', '--url', fake.url]);
    expect(clip.code).toBe(0);
    expect(clip.stdout).toBe('text_encoders/t5xxl_fp16.safetensors\n');
    expect(clip.stderr).toContain('note: ComfyUI serves clip/ as text_encoders/ (it merges the two folders)');
  });

  it('exits 9 with a clear message when the server has no model files', async () => {
    const fake = await fakeServer({ models: { checkpoints: [], loras: [], vae: [] } });
    const none = await cli(['models', '--url', fake.url]);
    expect(none.code).toBe(EXIT_CODES.server);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('error: the server lists no model files\n');
    expect(none.stderr).toContain('hint: Upload models to the models bucket');
    const folder = await cli(['models', 'loras', '--url', fake.url, '--json']);
    expect(folder.code).toBe(EXIT_CODES.server);
    expect(folder.stderr).toContain('error: the server lists no model files in loras/');
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

  /**
   * Starts a command in a process group of its own (like a shell job or a CI step) and follows its stderr.
   * `closed` resolves when every process holding its output pipes has exited, the client included.
   */
  function startJob(command: string, args: string[]) {
    const child = spawn(command, args, { cwd: ROOT, detached: true, env: { ...process.env, npm_config_update_notifier: 'false' } });
    jobs.push(child);
    let stderr = '';
    const waiters: { text: string; resolve: () => void }[] = [];
    const onData = (d: Buffer): void => {
      stderr += d.toString();
      for (const w of waiters.splice(0)) (stderr.includes(w.text) ? w.resolve : () => waiters.push(w))();
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', () => undefined);
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    return {
      child,
      closed,
      stderr: () => stderr,
      waitFor: (text: string) => new Promise<void>((r) => (stderr.includes(text) ? r() : waiters.push({ text, resolve: r }))),
    };
  }
  const jobs: ChildProcess[] = [];
  afterEach(() => {
    for (const job of jobs.splice(0)) {
      try {
        process.kill(-(job.pid as number), 'SIGKILL'); // whatever a failed test left behind
      } catch {
        // already gone
      }
    }
  });
  /** Resolves with `promise`, or rejects naming `what` after `ms`. */
  function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
    return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms).unref())]);
  }
  const RUN_HANG = (url: string) => ['run', SDXL, '--url', url, '-o', mkdtempSync(join(tmpdir(), 'comfy-sig-')), '--retries', '0'];

  it.each([
    ['SIGTERM', 'npm run comfy', 'npm', ['run', '-s', 'comfy', '--']],
    ['SIGINT', 'npm run comfy', 'npm', ['run', '-s', 'comfy', '--']],
    ['SIGTERM', 'scripts/run-ts.mjs', process.execPath, ['scripts/run-ts.mjs', 'cli/comfy/main.ts']],
  ] as const)('one %s to the process group of %s cancels once: the running prompt is interrupted', async (signal, _name, command, prefix) => {
    const fake = await fakeServer({ scenario: 'hang' });
    const job = startJob(command, [...prefix, ...RUN_HANG(fake.url)]);
    await within(30_000, 'the sampler starting', job.waitFor('executing KSampler'));
    process.kill(-(job.child.pid as number), signal); // every process of the job gets it; npm and run-ts.mjs forward it as well
    const code = await within(20_000, 'the job exiting', job.closed);
    expect(job.stderr().match(/stopping and cancelling/g)).toHaveLength(1);
    expect(job.stderr()).toMatch(/warning: prompt \S+ interrupted/);
    expect(job.stderr()).not.toContain('quitting at once');
    expect(fake.interrupts).toHaveLength(1);
    if (command === process.execPath) expect(code).toBe(EXIT_CODES.interrupted);
  });

  it('SIGTERM to npm alone: run-ts.mjs sees its parent go away and stops the client, which cancels', async () => {
    const fake = await fakeServer({ scenario: 'hang' });
    const job = startJob('npm', ['run', '-s', 'comfy', '--', ...RUN_HANG(fake.url)]);
    await within(30_000, 'the sampler starting', job.waitFor('executing KSampler'));
    process.kill(job.child.pid as number, 'SIGTERM'); // npm kills its shell; the runner below it is orphaned
    await within(20_000, 'every process of the job exiting', job.closed);
    expect(job.stderr()).toContain('parent process exited');
    expect(fake.interrupts).toHaveLength(1);
  });

  it('SIGKILL to run-ts.mjs: the client notices its runner is gone and cancels', async () => {
    const fake = await fakeServer({ scenario: 'hang' });
    const job = startJob(process.execPath, ['scripts/run-ts.mjs', 'cli/comfy/main.ts', ...RUN_HANG(fake.url)]);
    await within(30_000, 'the sampler starting', job.waitFor('executing KSampler'));
    process.kill(job.child.pid as number, 'SIGKILL');
    await within(20_000, 'the client exiting', job.closed);
    await within(5_000, 'the interrupt', waitUntil(() => fake.interrupts.length > 0));
    expect(fake.interrupts).toHaveLength(1);
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

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}
