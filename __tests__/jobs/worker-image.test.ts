/**
 * images/jobs-worker: the Dockerfile (checked statically: Docker cannot build
 * here) and the bundle it ships, run as a real process against moto and the
 * fake ComfyUI: it reads its settings from the environment the chart sets,
 * runs a job, and exits cleanly on SIGTERM.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import { mkdtempSync, readFileSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { prepareJobs, queueJobs } from '../../cli/comfy/jobs/submit';
import { FakeComfyUI } from '../client/fake-comfyui';
import { ROOT } from '../chart/helm';
import { MOTO_ENV, Moto, startMoto } from '../model-sync/moto';
import { SDXL, createScenario, until } from './harness';

const DOCKERFILE = readFileSync(join(ROOT, 'images', 'jobs-worker', 'Dockerfile'), 'utf8');
const instructions = DOCKERFILE.replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => ({ keyword: l.split(/\s+/)[0].toUpperCase(), args: l.split(/\s+/).slice(1).join(' ') }));

describe('images/jobs-worker/Dockerfile', () => {
  it('builds FROM the Node.js 22 image pinned to an exact version (or a digest), never a floating tag', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    expect(froms).toHaveLength(1);
    expect(froms[0]).toMatch(/^public\.ecr\.aws\/docker\/library\/node:22\.\d+\.\d+-alpine3\.\d+(@sha256:[a-f0-9]{64})?$/);
  });

  it('runs the bundled worker as the chart\'s numeric non-root user', () => {
    expect(instructions.find((i) => i.keyword === 'USER')?.args).toBe('10001:10001');
    expect(instructions.find((i) => i.keyword === 'COPY')?.args).toBe('dist/jobs-worker.js /app/jobs-worker.js');
    expect(instructions.find((i) => i.keyword === 'ENTRYPOINT')?.args).toBe('["node", "/app/jobs-worker.js"]');
    expect(instructions.filter((i) => i.keyword === 'RUN')).toHaveLength(0);
  });
});

describe('the worker bundle', () => {
  let moto: Moto;
  let bundle: string;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    moto = await startMoto();
    bundle = join(mkdtempSync(join(tmpdir(), 'jobs-worker-')), 'jobs-worker.js');
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-jobs-worker.mjs'), bundle], { cwd: ROOT });
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await moto?.stop();
  });

  // Self-contained: the job test below runs it from a temporary directory with no node_modules above it.
  it('is one file below 2 MiB', () => {
    expect(statSync(bundle).size).toBeLessThan(2 * 1024 * 1024);
  });

  it('refuses incomplete settings with every missing variable named (exit 2)', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, [bundle], { env: { PATH: process.env.PATH, AWS_REGION: 'us-west-2', JOBS_VISIBILITY_SECONDS: '10' }, stdio: 'pipe' });
    } catch (err) {
      const e = err as { status: number; stderr: Buffer };
      expect(e.status).toBe(2);
      stderr = e.stderr.toString();
    }
    expect(stderr).toMatch(/JOBS_QUEUE_URL is required/);
    expect(stderr).toMatch(/JOBS_TABLE is required/);
    expect(stderr).toMatch(/JOBS_VISIBILITY_SECONDS must be a whole number of seconds from 30/);
  });

  it('runs a job from the environment the chart sets and exits 0 on SIGTERM', async () => {
    const scenario = await createScenario(moto);
    const fake = new FakeComfyUI();
    const url = await fake.start();
    try {
      const [id] = await queueJobs(scenario.aws, scenario.settings, prepareJobs(SDXL, { count: 1, overrides: [], outputsPrefix: '', randomSeed: () => 1 }));
      const env = {
        PATH: process.env.PATH,
        ...MOTO_ENV,
        AWS_ENDPOINT_URL: moto.endpoint,
        POD_NAME: 'comfyui-0',
        COMFYUI_URL: url,
        JOBS_QUEUE_URL: scenario.settings.queueUrl,
        JOBS_DEAD_LETTER_QUEUE_URL: scenario.settings.deadLetterQueueUrl,
        JOBS_TABLE: scenario.settings.tableName,
        JOBS_OUTPUTS_BUCKET: scenario.settings.outputsBucket,
        JOBS_OUTPUTS_PREFIX: '',
        JOBS_EVENT_BUS: scenario.settings.eventBusName,
        JOBS_CLUSTER_NAME: 'comfyui-dev',
        JOBS_RECEIVE_WAIT_SECONDS: '1',
      };
      const proc = spawn(process.execPath, [bundle], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let out = '';
      proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      await until(async () => (await scenario.store.get(id))?.state === 'succeeded', 30_000, `the job (worker output: ${out})`);
      expect((await scenario.store.get(id))?.worker).toBe('comfyui-0');
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      const events = out.trim().split('\n').map((l) => JSON.parse(l).event);
      expect(events).toEqual(expect.arrayContaining(['started', 'claimed', 'succeeded', 'stopping', 'stopped']));
    } finally {
      await fake.stop();
    }
  });
});
