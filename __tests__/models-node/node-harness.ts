/**
 * A sandboxed "node" for comfyui-model-sync: the script as the user data ships
 * it, an env file, a fake /sys/block, a private fstab, loop devices as
 * instance-store disks and a moto S3 server on 127.0.0.1. Everything lives
 * under one temporary directory; cleanup() unmounts, detaches and kills what
 * this harness created, and nothing else.
 */
import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { renderNodeFilesInstaller } from '../../constructs/models/node-files-document';
import { DEFAULT_MODEL_EXTENSIONS } from '../../lambdas/model-sync/keys';
import { installedFiles } from './user-data-parts';

const REPO = path.join(__dirname, '..', '..');
// MOTO_SERVER (as __tests__/model-sync/moto.ts reads it) points at another venv with moto and the AWS CLI.
export const VENV_BIN = process.env.MOTO_SERVER ? path.dirname(process.env.MOTO_SERVER) : path.join(REPO, '.tools', 'venv', 'bin');
export const REAL_AWS = path.join(VENV_BIN, 'aws');
export const INSTANCE_STORE_MODEL = 'Amazon EC2 NVMe Instance Storage';

export const FOLDERS = ['checkpoints', 'loras', 'vae', 'embeddings'];
export const EXTENSIONS = DEFAULT_MODEL_EXTENSIONS;

function sh(command: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: 'utf8' });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Why loop-device tests cannot run here, or undefined when they can. */
export function loopDevicesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const tool of ['losetup', 'mkfs.xfs', 'blkid', 'mount', 'umount', 'findmnt']) {
    if (sh('bash', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'loop-probe-'));
  try {
    const file = path.join(dir, 'probe.img');
    writeFileSync(file, '');
    sh('truncate', ['-s', '8M', file]);
    const attach = sh('losetup', ['--find', '--show', file]);
    if (attach.status !== 0) return `the kernel refused a loop device: ${attach.stderr.trim()}`;
    sh('losetup', ['-d', attach.stdout.trim()]);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Result of one script run. */
export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One sandboxed node. */
export class SandboxNode {
  readonly dir: string;
  readonly modelsDir: string;
  readonly sysBlock: string;
  readonly fstab: string;
  readonly mdDevice: string;
  readonly arrayDir: string;
  readonly envFile: string;
  readonly cwd: string;
  readonly shimLog: string;
  private readonly shimDirs: string[] = [];

  constructor(
    private readonly harness: Harness,
    readonly name: string,
    readonly bucket: string,
    settings: Record<string, string> = {},
  ) {
    this.dir = path.join(harness.root, name);
    this.modelsDir = path.join(this.dir, 'mnt', 'models');
    this.sysBlock = path.join(this.dir, 'sys', 'block');
    this.fstab = path.join(this.dir, 'fstab');
    this.mdDevice = path.join(this.dir, 'dev-md-comfy-models');
    this.arrayDir = path.join(this.dir, 'mnt', 'k8s-disks', '0');
    this.envFile = path.join(this.dir, 'comfyui-model-sync.env');
    this.cwd = path.join(this.dir, 'cwd');
    this.shimLog = path.join(this.dir, 'shim.log');
    for (const d of [this.sysBlock, this.cwd]) mkdirSync(d, { recursive: true });
    writeFileSync(this.fstab, '# test fstab\nUUID=0000 / xfs defaults 0 1\n');
    writeFileSync(this.shimLog, '');
    const lines = {
      MODELS_BUCKET: bucket,
      MODELS_REGION: 'us-east-1',
      MODELS_DIR: this.modelsDir,
      MODEL_FOLDERS: FOLDERS.join(' '),
      MODEL_EXTENSIONS: EXTENSIONS.join(' '),
      SYNC_PARALLEL_DOWNLOADS: '3',
      INSTANCE_STORE_ARRAY_DIR: this.arrayDir,
      ...settings,
    };
    writeFileSync(this.envFile, Object.entries(lines).map(([k, v]) => `${k}=${v}\n`).join(''));
  }

  /** A fake /sys/block/<name> entry with an NVMe model string and holders. */
  addDisk(name: string, model = INSTANCE_STORE_MODEL, holders: string[] = []): void {
    mkdirSync(path.join(this.sysBlock, name, 'device'), { recursive: true });
    mkdirSync(path.join(this.sysBlock, name, 'holders'), { recursive: true });
    // Real NVMe model attributes are space-padded to 40 characters.
    writeFileSync(path.join(this.sysBlock, name, 'device', 'model'), `${model.padEnd(40)}\n`);
    for (const h of holders) writeFileSync(path.join(this.sysBlock, name, 'holders', h), '');
  }

  /** Puts a directory of executables in front of PATH for the next runs. */
  addShims(files: Record<string, string>): void {
    const dir = path.join(this.dir, `shims-${this.shimDirs.length}`);
    mkdirSync(dir, { recursive: true });
    for (const [name, body] of Object.entries(files)) {
      writeFileSync(path.join(dir, name), body);
      chmodSync(path.join(dir, name), 0o755);
    }
    this.shimDirs.unshift(dir);
  }

  clearShims(): void {
    this.shimDirs.length = 0;
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: [...this.shimDirs, VENV_BIN, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
      HOME: this.dir,
      LANG: 'C.UTF-8',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL: this.harness.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      COMFYUI_MODEL_SYNC_ENV_FILE: this.envFile,
      COMFYUI_MODEL_SYNC_SYS_BLOCK: this.sysBlock,
      COMFYUI_MODEL_SYNC_DEV_DIR: '/dev',
      COMFYUI_MODEL_SYNC_FSTAB: this.fstab,
      COMFYUI_MODEL_SYNC_MD_DEVICE: this.mdDevice,
      COMFYUI_MODEL_SYNC_STATE_DIR: path.join(this.dir, 'state'),
      COMFYUI_MODEL_SYNC_RUN_DIR: path.join(this.dir, 'run'),
      COMFYUI_MODEL_SYNC_SYSLOG: '0',
      COMFYUI_MODEL_SYNC_BOOT_ID: 'testboot',
      COMFYUI_MODEL_SYNC_INSTANCE_ID: 'i-0123456789abcdef0',
      SHIM_LOG: this.shimLog,
      REAL_AWS,
      ...extra,
    };
  }

  run(args: string[], extra: Record<string, string> = {}): Run {
    const r = spawnSync(this.harness.script, args, { cwd: this.cwd, env: this.env(extra), encoding: 'utf8', timeout: 90000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Starts the script in its own process group (to kill -9 it mid-way). */
  start(args: string[], extra: Record<string, string> = {}): ChildProcess {
    const child = spawn(this.harness.script, args, { cwd: this.cwd, env: this.env(extra), detached: true, stdio: 'ignore' });
    this.harness.children.push(child);
    return child;
  }

  /** Starts the script and resolves with its result when it exits (to run something while it is paused). */
  runInBackground(args: string[], extra: Record<string, string> = {}): Promise<Run> {
    const child = spawn(this.harness.script, args, { cwd: this.cwd, env: this.env(extra), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.harness.children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  model(key: string): string {
    return path.join(this.modelsDir, key);
  }
}

/** Owns the moto server, loop devices, mounts and the sandbox root. */
export class Harness {
  readonly root = mkdtempSync(path.join(tmpdir(), 'comfyui-model-sync-'));
  readonly script = path.join(this.root, 'bin', 'comfyui-model-sync');
  readonly children: ChildProcess[] = [];
  private readonly loops: string[] = [];
  private moto?: ChildProcess;
  endpoint = '';
  s3!: S3Client;

  constructor() {
    // Install the script exactly as the node files document ships it (from scripts/node/comfyui-model-sync).
    const script = installedFiles(renderNodeFilesInstaller()).get('/usr/local/bin/comfyui-model-sync');
    if (!script) throw new Error('the node files installer installs no /usr/local/bin/comfyui-model-sync');
    mkdirSync(path.dirname(this.script), { recursive: true });
    writeFileSync(this.script, script.content, { mode: 0o755 });
  }

  async startMoto(): Promise<void> {
    const server = path.join(VENV_BIN, 'moto_server');
    if (!existsSync(server) || !existsSync(REAL_AWS)) throw new Error(`moto_server and aws are needed in ${VENV_BIN}: run make tools`);
    const port = await freePort();
    this.endpoint = `http://127.0.0.1:${port}`;
    this.moto = spawn(server, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const deadline = Date.now() + 30000;
    for (;;) {
      try {
        if ((await fetch(`${this.endpoint}/`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('moto_server did not start within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    this.s3 = new S3Client({ region: 'us-east-1', endpoint: this.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  }

  async createBucket(name: string): Promise<void> {
    await this.s3.send(new CreateBucketCommand({ Bucket: name }));
  }

  node(name: string, bucket: string, settings: Record<string, string> = {}): SandboxNode {
    return new SandboxNode(this, name, bucket, settings);
  }

  /** A sparse file of `megabytes` attached to a free loop device. */
  loopDevice(megabytes: number): string {
    const file = path.join(this.root, `disk-${this.loops.length}.img`);
    writeFileSync(file, '');
    const grow = sh('truncate', ['-s', `${megabytes}M`, file]);
    if (grow.status !== 0) throw new Error(`truncate failed: ${grow.stderr}`);
    const attach = sh('losetup', ['--find', '--show', file]);
    if (attach.status !== 0) throw new Error(`losetup failed: ${attach.stderr}`);
    const device = attach.stdout.trim();
    this.loops.push(device);
    return device;
  }

  /** Mount source of the file system holding `target`. */
  mountSource(target: string): string {
    return sh('findmnt', ['-n', '-o', 'SOURCE', '--target', target]).stdout.trim();
  }

  isMountPoint(target: string): boolean {
    return sh('mountpoint', ['-q', target]).status === 0;
  }

  unmount(target: string): void {
    const r = sh('umount', [target]);
    if (r.status !== 0) throw new Error(`umount ${target}: ${r.stderr}`);
  }

  cleanup(): void {
    for (const child of this.children) {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    // Deepest mounts first; lazy so a busy mount cannot block the rest.
    const mounts = sh('findmnt', ['-rn', '-o', 'TARGET']).stdout.split('\n').filter((t) => t === this.root || t.startsWith(`${this.root}/`));
    for (const target of mounts.sort((a, b) => b.length - a.length)) sh('umount', ['-l', target]);
    for (const device of this.loops.reverse()) sh('losetup', ['-d', device]);
    this.moto?.kill('SIGTERM');
    rmSync(this.root, { recursive: true, force: true });
  }
}
