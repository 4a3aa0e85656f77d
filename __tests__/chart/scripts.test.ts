/**
 * The scripts the chart runs in the pod (charts/comfyui/files), run here for
 * real against temporary directories and a fake ComfyUI /queue endpoint; and
 * the README values table generated from values.yaml.
 */
import { spawn } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'fs';
import { createServer } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { CHART, ROOT, run } from './helm';

const FILES = join(CHART, 'files');

/** Starts a script, returns its exit code and output once it ends. */
function start(command: string, args: string[], env: Record<string, string>) {
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('chart scripts are shellcheck clean (POSIX sh: they run in the ComfyUI image, or any image videoSync.image names)', async () => {
  const result = await run('shellcheck', ['-s', 'sh', join(FILES, 'wait-for-models.sh'), join(FILES, 'video-sync.sh')]);
  expect(result.stdout + result.stderr).toBe('');
  expect(result.code).toBe(0);
});

describe('wait-for-models.sh (init container)', () => {
  it('waits for the readiness marker, then exits 0 and prepares the scratch directories', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wait-models-'));
    mkdirSync(join(dir, 'models', '.model-sync'), { recursive: true });
    const marker = join(dir, 'models', '.model-sync', 'ready.json');
    const { done } = start('sh', [join(FILES, 'wait-for-models.sh')], {
      MODELS_READY_MARKER: marker,
      MODELS_WAIT_TIMEOUT_SECONDS: '30',
      MODELS_POLL_SECONDS: '0.2',
      SCRATCH_DIR: join(dir, 'scratch'),
    });
    await sleep(600);
    writeFileSync(marker, '{"objects": 42}\n');
    const { code, stdout } = await done;
    expect(code).toBe(0);
    expect(stdout).toContain(`model-sync: waiting for ${marker}`);
    expect(stdout).toMatch(/model-sync: models ready after \d+s: \{"objects": 42\}/);
    for (const sub of ['tmp', 'home', 'user', 'temp', 'input']) expect(existsSync(join(dir, 'scratch', sub))).toBe(true);
  });

  it('fails with a clear message when the marker does not appear in time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wait-models-'));
    const marker = join(dir, 'missing', 'ready.json');
    const { code, stderr } = await start('sh', [join(FILES, 'wait-for-models.sh')], {
      MODELS_READY_MARKER: marker,
      MODELS_WAIT_TIMEOUT_SECONDS: '1',
      MODELS_POLL_SECONDS: '0.2',
      SCRATCH_DIR: join(dir, 'scratch'),
    }).done;
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`model-sync: timed out after \\d+s waiting for ${marker}: the node's first model sync has not finished`));
  });
});

describe('video-sync.sh (sidecar)', () => {
  it('copies settled videos, then the rest when stopped; never other files; never twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'video-sync-'));
    const source = join(dir, 'scratch', 'temp');
    const target = join(dir, 'outputs', 'videos');
    mkdirSync(join(source, 'run 1'), { recursive: true });
    const old = new Date(Date.now() - 3600_000);
    const write = (rel: string, body: string, mtime?: Date) => {
      writeFileSync(join(source, rel), body);
      if (mtime) utimesSync(join(source, rel), mtime, mtime);
    };
    write('run 1/clip one.MP4', 'finished video', old);
    write('preview.png', 'an image', old);
    write('rendering.webm', 'still being written');

    const { child, done } = start('sh', [join(FILES, 'video-sync.sh')], {
      SOURCE_DIR: source,
      TARGET_DIR: target,
      STATE_DIR: join(dir, 'scratch', '.video-sync'),
      EXTENSIONS: 'mp4 webm',
      SETTLE_SECONDS: '30',
      INTERVAL_SECONDS: '1',
    });
    await sleep(1500);
    expect(readFileSync(join(target, 'run 1', 'clip one.MP4'), 'utf8')).toBe('finished video');
    expect(existsSync(join(target, 'rendering.webm'))).toBe(false);
    // a copied file changed afterwards is not copied again (Mountpoint would have to overwrite)
    writeFileSync(join(source, 'run 1', 'clip one.MP4'), 'changed');
    utimesSync(join(source, 'run 1', 'clip one.MP4'), old, old);

    child.kill('SIGTERM');
    const { code, stdout } = await done;
    expect(code).toBe(0);
    expect(readFileSync(join(target, 'rendering.webm'), 'utf8')).toBe('still being written');
    expect(readFileSync(join(target, 'run 1', 'clip one.MP4'), 'utf8')).toBe('finished video');
    expect(existsSync(join(target, 'preview.png'))).toBe(false);
    expect(stdout).toContain('video-sync: stopping: copying the remaining videos');
    expect(stdout.match(/copied run 1\/clip one\.MP4/g)).toHaveLength(1);
  });
});

describe('drain.py (preStop hook)', () => {
  it('waits until ComfyUI reports an empty queue', async () => {
    let calls = 0;
    const server = createServer((req, res) => {
      calls += 1;
      const busy = calls <= 2;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ queue_running: busy ? [[0, 'prompt-1']] : [], queue_pending: calls === 1 ? [[1, 'prompt-2']] : [] }));
      expect(req.url).toBe('/queue');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { code, stdout } = await start('python3', [join(FILES, 'drain.py')], {
        COMFYUI_PORT: String((server.address() as AddressInfo).port),
        DRAIN_SETTLE_SECONDS: '0',
        DRAIN_POLL_SECONDS: '0.1',
      }).done;
      expect(code).toBe(0);
      expect(stdout).toContain('drain: waiting for 1 running and 1 pending prompts');
      expect(stdout).toContain('drain: queue empty; stopping');
      expect(calls).toBe(3);
    } finally {
      server.close();
    }
  });

  it('stops at once when ComfyUI does not answer', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const { code, stderr } = await start('python3', [join(FILES, 'drain.py')], { COMFYUI_PORT: String(port), DRAIN_SETTLE_SECONDS: '0' }).done;
    expect(code).toBe(0);
    expect(stderr).toMatch(/drain: cannot read http:\/\/127\.0\.0\.1:\d+\/queue .*; stopping now/);
  });
});

it('README values table matches values.yaml (node scripts/gen-chart-readme.mjs)', async () => {
  const result = await run(process.execPath, [join(ROOT, 'scripts', 'gen-chart-readme.mjs'), '--check']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
});
