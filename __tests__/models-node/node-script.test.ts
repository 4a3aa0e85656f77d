/**
 * comfyui-model-sync as shipped in the user data, run against moto S3 with the
 * AWS CLI: key validation, sync, copy, delete, reconcile, interruptions, and
 * disk preparation on loop devices (0, 1 and 2 instance-store disks, and
 * Karpenter's RAID0 array).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Harness, loopDevicesUnavailable, SandboxNode, VENV_BIN } from './node-harness';

const harness = new Harness();
const loopSkipReason = loopDevicesUnavailable();
const isRoot = process.getuid?.() === 0;
if (loopSkipReason) console.log(`comfyui-model-sync: loop-device tests skipped: ${loopSkipReason}`);
const itLoop = loopSkipReason ? it.skip : it;
const itRoot = isRoot ? it : it.skip;

beforeAll(async () => {
  await harness.startMoto();
}, 60000);

afterAll(() => harness.cleanup());

async function put(bucket: string, key: string, body: string | Buffer): Promise<void> {
  const data = Buffer.from(body);
  await harness.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.length }));
}

async function remove(bucket: string, key: string): Promise<void> {
  await harness.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** Exit status 0, with stderr in the failure message. */
function expectOk(r: { status: number | null; stderr: string }): void {
  if (r.status !== 0) throw new Error(`comfyui-model-sync exited ${r.status}:\n${r.stderr}`);
}

/** A readable test title for a key (long keys abbreviated). */
function label(key: string): string {
  return key.length > 60 ? `${JSON.stringify(key.slice(0, 40))}... (${Buffer.byteLength(key)} bytes)` : JSON.stringify(key);
}

function read(file: string): string {
  return readFileSync(file, 'utf8');
}

function json(file: string): any {
  return JSON.parse(read(file));
}

/** Files under dir, relative, sorted (directories excluded). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** Exactly 1024 bytes, every segment under 255. */
const K1024 = `checkpoints/${['a', 'b', 'c', 'd'].map((c) => `${c.repeat(200)}/`).join('')}${'e'.repeat(1024 - 12 - 4 * 201 - 3)}.pt`;

/** Keys a node takes literally; each maps inside its folder. */
const ACCEPTED_KEYS = [
  'checkpoints/model.safetensors',
  'loras/my model (1).safetensors',
  'loras/a+b c.safetensors',
  'checkpoints/%2e%2e/x.safetensors',
  'checkpoints/%2e%2e.safetensors',
  'vae/ñandú 🐉.pt',
  'loras/$(touch pwned).safetensors',
  'loras/`touch pwned`.safetensors',
  'loras/a;touch pwned;.safetensors',
  'loras/-rf.pt',
  'embeddings/a]b[c*?.pt',
  K1024,
  // 1024 bytes of two-byte characters: limits count bytes, not characters.
  `checkpoints/${`${'é'.repeat(120)}/`.repeat(4)}${'x'.repeat(1024 - 12 - 4 * 241 - 3)}.pt`,
];

/** Keys a node refuses, with the reason it logs. */
const REFUSED_KEYS: Array<[string, RegExp]> = [
  ['', /empty key/],
  ['../etc/passwd', /not under a model folder/],
  ['checkpoints/../../etc/passwd', /'\.\.' path segment/],
  ['checkpoints/..', /'\.\.' path segment/],
  ['checkpoints/./x.safetensors', /'\.' path segment/],
  ['checkpoints//x.safetensors', /empty path segment/],
  ['/checkpoints/x.safetensors', /starts with '\/'/],
  ['checkpoints/', /ends with '\/'/],
  ['checkpoints', /names a folder/],
  ['unknown/x.safetensors', /not under a model folder/],
  ['Checkpoints/x.safetensors', /not under a model folder/],
  ['.model-sync/ready.json', /not under a model folder/],
  ['checkpoints/a\nb.safetensors', /control characters/],
  ['checkpoints/a\tb.safetensors', /control characters/],
  ['checkpoints/a\x7fb.safetensors', /control characters/],
  ['checkpoints/\x1b[31mred.safetensors', /control characters/],
  [`${K1024}e`, /longer than 1024 bytes \(1025\)/],
  ['checkpoints/notes.md', /file extension not in MODEL_EXTENSIONS/],
  ['loras/a.safetensors/b.safetensors', /folder segment 'a\.safetensors' ends in a model file extension \(file\/folder clash\)/],
  ['loras/{{ssm:/prod/secret}}.safetensors', /contains '\{' or '\}'/],
  [`checkpoints/${'x'.repeat(1011)}é`, /longer than 1024 bytes \(1025\)/],
  [`checkpoints/${'x'.repeat(256)}`, /segment longer than 255 bytes/],
];

describe('key validation (check-key, what copy and delete run first)', () => {
  let node: SandboxNode;
  beforeAll(() => {
    node = harness.node('keys', 'keys-bucket');
  });

  it.each(ACCEPTED_KEYS.map((key) => [label(key), key]))('accepts %s literally and maps it inside its folder', (_label, key) => {
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
    const r = node.run(['check-key', key]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${node.modelsDir}/${key}\n`);
    expect(existsSync(path.join(node.cwd, 'pwned'))).toBe(false);
  });

  it.each(REFUSED_KEYS.map(([key, reason]) => [label(key), key, reason] as const))('refuses %s with exit 4', (_label, key, reason) => {
    const r = node.run(['check-key', key]);
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(reason);
    expect(r.stdout).toBe('');
  });

  it('exits 2 on usage errors', () => {
    expect(node.run([]).status).toBe(2);
    expect(node.run(['copy']).status).toBe(2);
    expect(node.run(['copy', 'a', 'b']).status).toBe(2);
    expect(node.run(['initial', 'extra']).status).toBe(2);
    expect(node.run(['sync-everything']).stderr).toMatch(/usage: comfyui-model-sync prepare-disk/);
  });

  it.each([
    ['MODELS_BUCKET=Bad_Bucket', /MODELS_BUCKET must be an S3 bucket name/],
    ['MODELS_DIR=relative/models', /MODELS_DIR must be an absolute path/],
    ['MODELS_DIR=/mnt/../etc', /MODELS_DIR must be an absolute path without '\.', '\.\.'/],
    ['MODELS_DIR=/mnt/models/', /MODELS_DIR must be an absolute path .*trailing/],
    ['MODEL_FOLDERS=checkpoints ../etc', /MODEL_FOLDERS entry .* is not a model folder name/],
    ['MODEL_FOLDERS=', /MODEL_FOLDERS must list at least one folder/],
    ['SYNC_PARALLEL_DOWNLOADS=0', /SYNC_PARALLEL_DOWNLOADS must be 1-99/],
    ['SURPRISE=1', /unknown setting 'SURPRISE'/],
    ['not a setting', /expected KEY=value/],
  ])('exits 3 on a bad env file line %j', (line, reason) => {
    const file = path.join(node.dir, 'bad.env');
    const name = line.split('=')[0];
    const kept = read(node.envFile).split('\n').filter((l) => l && !l.startsWith(`${name}=`));
    writeFileSync(file, [...kept, line, ''].join('\n'));
    const r = node.run(['check-key', 'checkpoints/x'], { COMFYUI_MODEL_SYNC_ENV_FILE: file });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(reason);
  });

  it('exits 3 without an env file', () => {
    const r = node.run(['reconcile'], { COMFYUI_MODEL_SYNC_ENV_FILE: path.join(node.dir, 'missing.env') });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/configuration file .*missing\.env is missing/);
  });
});

describe('sync on the root volume (an instance type without instance store)', () => {
  const bucket = 'dir-models';
  const objects: Record<string, string> = {
    'checkpoints/base.safetensors': 'base-v1 '.repeat(20000),
    'loras/my model (1).safetensors': 'lora with spaces',
    'vae/sub dir/ñandú 🐉.pt': 'unicode vae',
    'loras/$(touch pwned) `touch pwned`;.safetensors': 'command substitution, backticks and a semicolon are a name',
    'embeddings/a]b[c*?.pt': 'glob and subscript characters',
    'checkpoints/%2e%2e/literal.safetensors': 'percent-encoded dots are a name',
    'checkpoints/': '',
    'README.md': 'not a model',
    'custom_nodes/x.py': 'not a model folder',
    'checkpoints/a//double.bin': 'double slash',
    'checkpoints/./dot.bin': 'dot segment',
  };
  const valid = [
    'checkpoints/%2e%2e/literal.safetensors',
    'checkpoints/base.safetensors',
    'embeddings/a]b[c*?.pt',
    'loras/$(touch pwned) `touch pwned`;.safetensors',
    'loras/my model (1).safetensors',
    'vae/sub dir/ñandú 🐉.pt',
  ];
  let node: SandboxNode;

  beforeAll(async () => {
    await harness.createBucket(bucket);
    for (const [key, body] of Object.entries(objects)) await put(bucket, key, body);
    node = harness.node('rootvol', bucket);
    node.addDisk('nvme0n1', 'Amazon Elastic Block Store'); // the root EBS volume: never touched
    node.addDisk('loop99', 'QEMU HARDDISK');
  }, 60000);

  it('refuses to copy before prepare-disk (exit 5)', () => {
    const r = node.run(['copy', 'checkpoints/base.safetensors']);
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/is not prepared yet/);
  });

  it('prepare-disk: no instance-store NVMe means a directory on the root volume and a warning', () => {
    const r = node.run(['prepare-disk']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/instance-store NVMe: 0 found/);
    expect(r.stderr).toMatch(/warning: no instance-store NVMe on this instance: models go to the root volume/);
    expect(json(path.join(node.modelsDir, '.model-sync', 'disk.json'))).toMatchObject({ layout: 'root-volume', devices: [] });
    for (const folder of ['checkpoints', 'loras', 'vae', 'embeddings']) expect(statSync(node.model(folder)).isDirectory()).toBe(true);
    expect(read(node.fstab)).toBe('# test fstab\nUUID=0000 / xfs defaults 0 1\n');
  });

  it('initial: downloads every valid model under its key, literally, with the object mtime, then writes ready.json', async () => {
    const r = node.run(['initial']);
    expectOk(r);
    expect(tree(node.modelsDir).filter((f) => !f.startsWith('.model-sync/'))).toEqual(valid);
    for (const key of valid) expect(read(node.model(key))).toBe(objects[key]);
    expect(existsSync(path.join(node.cwd, 'pwned'))).toBe(false);
    expect(r.stderr).toContain(`unsyncable object: {"key":"checkpoints/a//double.bin","reason":"invalid-key","detail":"has an empty path segment ('//')"}`);
    expect(r.stderr).toContain(`unsyncable object: {"key":"checkpoints/./dot.bin","reason":"invalid-key","detail":"has a '.' path segment"}`);
    expect(r.stderr).toMatch(/ignored 3 keys outside the model folders or folder markers/);
    expect(r.stderr).toMatch(/initial: 6 models in s3:\/\/dir-models \(\d+ bytes\), 6 to download/);
    const head = await harness.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'checkpoints/base.safetensors' }));
    expect(Math.floor(statSync(node.model('checkpoints/base.safetensors')).mtimeMs / 1000)).toBe(Math.floor(head.LastModified!.getTime() / 1000));
    expect(statSync(node.model('checkpoints/base.safetensors')).mode & 0o777).toBe(0o644);
    const ready = json(path.join(node.modelsDir, '.model-sync', 'ready.json'));
    expect(ready).toMatchObject({ generation: 1, mode: 'initial', bucket, objects: 6, downloaded: 6, deleted: 0, unsyncableCount: 2 });
    expect(ready.unsyncable).toEqual([
      { key: 'checkpoints/./dot.bin', reason: 'invalid-key' },
      { key: 'checkpoints/a//double.bin', reason: 'invalid-key' },
    ]);
    expect(ready.syncedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(readdirSync(path.join(node.modelsDir, '.model-sync', 'tmp'))).toEqual([]);
  });

  it('initial again: nothing to download, files untouched, generation advances', () => {
    const inode = statSync(node.model('checkpoints/base.safetensors')).ino;
    const r = node.run(['initial']);
    expectOk(r);
    expect(r.stderr).toMatch(/6 models .* 0 to download \(0 bytes\)/);
    expect(statSync(node.model('checkpoints/base.safetensors')).ino).toBe(inode);
    expect(json(path.join(node.modelsDir, '.model-sync', 'ready.json')).generation).toBe(2);
  });

  it('copy: a new key with spaces and parentheses arrives; a second copy is a no-op', async () => {
    const key = 'checkpoints/Flux Dev (fp8) v1.1.safetensors';
    await put(bucket, key, 'flux');
    const r = node.run(['copy', key]);
    expect(r.status).toBe(0);
    expect(read(node.model(key))).toBe('flux');
    const again = node.run(['copy', key]);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/already up to date/);
  });

  it('copy: a replaced model is swapped in whole', async () => {
    const key = 'loras/my model (1).safetensors';
    await put(bucket, key, 'lora v2, a different size');
    const r = node.run(['copy', key]);
    expect(r.status).toBe(0);
    expect(read(node.model(key))).toBe('lora v2, a different size');
  });

  it('delete: removes the file and the directories it leaves empty, keeps the folder, and is idempotent', async () => {
    const key = 'vae/sub dir/ñandú 🐉.pt';
    await remove(bucket, key);
    const r = node.run(['delete', key]);
    expect(r.status).toBe(0);
    expect(existsSync(node.model(key))).toBe(false);
    expect(existsSync(node.model('vae/sub dir'))).toBe(false);
    expect(statSync(node.model('vae')).isDirectory()).toBe(true);
    const again = node.run(['delete', key]);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/already absent/);
  });

  it('delete: keeps a model that is back in the bucket (events out of order)', () => {
    const r = node.run(['delete', 'checkpoints/base.safetensors']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/in s3:\/\/dir-models again; keeping/);
    expect(existsSync(node.model('checkpoints/base.safetensors'))).toBe(true);
  });

  it('copy: an object already gone from the bucket is a no-op', () => {
    const r = node.run(['copy', 'checkpoints/never-uploaded.safetensors']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/not in s3:\/\/dir-models any more/);
    expect(existsSync(node.model('checkpoints/never-uploaded.safetensors'))).toBe(false);
  });

  it('refuses keys escaping the models directory, including through a symlink (exit 4, nothing written)', async () => {
    const outside = path.join(node.dir, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, node.model('loras/escape'));
    await put(bucket, 'loras/escape/evil.safetensors', 'evil');
    for (const key of ['../../etc/passwd', 'checkpoints/../../../outside/x', 'loras/escape/evil.safetensors']) {
      const r = node.run(['copy', key]);
      expect(r.status).toBe(4);
      expect(r.stderr).toMatch(/refused/);
      const d = node.run(['delete', key]);
      expect(d.status).toBe(4);
    }
    expect(readdirSync(outside)).toEqual([]);
    // A full sync skips it too, and the rest still completes.
    const sync = node.run(['initial']);
    expect(sync.status).toBe(0);
    expect(sync.stderr).toMatch(/unsyncable object: \{"key":"loras\/escape\/evil\.safetensors","reason":"invalid-key","detail":"resolves outside/);
    expect(readdirSync(outside)).toEqual([]);
    await remove(bucket, 'loras/escape/evil.safetensors');
  });

  it('an interrupted download (the CLI killed mid-file) leaves the old file or nothing, never a partial one', async () => {
    node.addShims({
      aws: [
        '#!/usr/bin/env bash',
        '# Writes part of the file, then dies like an OOM-killed or cut-off CLI.',
        'if [[ " $* " == *" s3 cp "* ]]; then',
        '  dest="${*: -1}"',
        '  head -c 1000 /dev/zero > "$dest"',
        '  kill -9 $$',
        'fi',
        'exec "$REAL_AWS" "$@"',
        '',
      ].join('\n'),
    });
    try {
      const replaced = 'checkpoints/base.safetensors';
      await put(bucket, replaced, 'base-v2');
      const r = node.run(['copy', replaced]);
      expect(r.status).toBe(6);
      expect(r.stderr).toMatch(/download of 'checkpoints\/base\.safetensors' failed/);
      expect(read(node.model(replaced))).toBe(objects[replaced]);

      const fresh = 'embeddings/new.pt';
      await put(bucket, fresh, 'new embedding');
      const before = json(path.join(node.modelsDir, '.model-sync', 'ready.json')).generation;
      const sync = node.run(['initial']);
      expect(sync.status).toBe(9);
      expect(sync.stderr).toMatch(/initial incomplete: 2 of 2 downloads or deletions failed; ready\.json lists them/);
      expect(existsSync(node.model(fresh))).toBe(false);
      // The marker still advances (issue 15 item 2): what failed is listed, and the next reconcile retries.
      const ready = json(path.join(node.modelsDir, '.model-sync', 'ready.json'));
      expect(ready.generation).toBe(before + 1);
      expect(ready.unsyncable).toEqual(expect.arrayContaining([{ key: fresh, reason: 's3-error' }, { key: replaced, reason: 's3-error' }]));
      expect(readdirSync(path.join(node.modelsDir, '.model-sync', 'tmp'))).toEqual([]);
    } finally {
      node.clearShims();
    }
  });

  it('a copy killed with SIGKILL mid-download leaves nothing visible; the next full sync sweeps its leftovers', async () => {
    const started = path.join(node.dir, 'download-started');
    node.addShims({
      aws: [
        '#!/usr/bin/env bash',
        'if [[ " $* " == *" s3 cp "* ]]; then',
        '  dest="${*: -1}"',
        '  head -c 1000 /dev/zero > "$dest"',
        `  touch ${started}`,
        '  sleep 60',
        'fi',
        'exec "$REAL_AWS" "$@"',
        '',
      ].join('\n'),
    });
    let child: ChildProcess | undefined;
    try {
      child = node.start(['copy', 'embeddings/new.pt']);
      const deadline = Date.now() + 30000;
      while (!existsSync(started)) {
        if (Date.now() > deadline) throw new Error('the download never started');
        await new Promise((r) => setTimeout(r, 100));
      }
      process.kill(-child.pid!, 'SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    } finally {
      node.clearShims();
    }
    expect(existsSync(node.model('embeddings/new.pt'))).toBe(false);
    const tmp = path.join(node.modelsDir, '.model-sync', 'tmp');
    expect(readdirSync(tmp)).toEqual([expect.stringMatching(/^dl\.\w+\.\d+\.\d+\.\w+$/)]);
    const r = node.run(['initial']);
    expectOk(r);
    expect(readdirSync(tmp)).toEqual([]);
    expect(read(node.model('embeddings/new.pt'))).toBe('new embedding');
    expect(read(node.model('checkpoints/base.safetensors'))).toBe('base-v2');
  });

  it('reconcile: deletes what left the bucket, downloads what arrived, leaves other directories alone', async () => {
    await remove(bucket, 'loras/my model (1).safetensors');
    await put(bucket, 'loras/nested/deeper/new lora.safetensors', 'new lora');
    writeFileSync(node.model('checkpoints/stray.bin'), 'not in the bucket');
    mkdirSync(node.model('custom_nodes'), { recursive: true });
    writeFileSync(node.model('custom_nodes/keep.py'), 'not a model folder');
    const before = json(path.join(node.modelsDir, '.model-sync', 'ready.json')).generation;
    const r = node.run(['reconcile']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/deleted 'loras\/my model \(1\)\.safetensors': no longer in the bucket/);
    expect(existsSync(node.model('loras/my model (1).safetensors'))).toBe(false);
    expect(existsSync(node.model('checkpoints/stray.bin'))).toBe(false);
    expect(existsSync(node.model('loras/escape'))).toBe(false); // the planted symlink is not a model either
    expect(read(node.model('loras/nested/deeper/new lora.safetensors'))).toBe('new lora');
    expect(read(node.model('custom_nodes/keep.py'))).toBe('not a model folder');
    expect(json(path.join(node.modelsDir, '.model-sync', 'ready.json'))).toMatchObject({ generation: before + 1, mode: 'reconcile', deleted: 3, downloaded: 1 });
    expect(lstatSync(node.model('loras')).isDirectory()).toBe(true);
  });

  it('reconcile skips (exit 0) while another full sync holds the lock', () => {
    const lock = path.join(node.dir, 'run', 'sync.lock');
    const flock = spawn('flock', [lock, 'sleep', '20'], { detached: true, stdio: 'ignore' });
    harness.children.push(flock);
    try {
      const deadline = Date.now() + 5000;
      let r = node.run(['reconcile']);
      while (!/skipping this reconcile/.test(r.stderr) && Date.now() < deadline) r = node.run(['reconcile']);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/another full sync is running; skipping this reconcile/);
    } finally {
      process.kill(-flock.pid!, 'SIGKILL');
    }
  });

  it('waits for a claimed array, then refuses to format disks someone else holds (exit 8)', () => {
    const claimed = harness.node('claimed', bucket, { LOCAL_DISKS_WAIT_SECONDS: '1' });
    claimed.addDisk('nvme1n1', undefined, ['md127']);
    claimed.addDisk('nvme2n1', undefined, ['md127']);
    const r = claimed.run(['prepare-disk']);
    expect(r.status).toBe(8);
    expect(r.stderr).toMatch(/instance-store disks are claimed \(nvme1n1 \(held by md127\) nvme2n1 \(held by md127\)\) but .* is not mounted after 1s; refusing to format them/);
  });
});

/** Waits until `file` exists (a shim reached its checkpoint). */
async function waitFor(file: string, what: string): Promise<void> {
  const deadline = Date.now() + 30000;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${what} never happened`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('concurrency: SSM commands while a download or a full sync is under way', () => {
  const bucket = 'race-models';
  let node: SandboxNode;
  let checkpoint = 0;

  /**
   * An aws shim that runs the real CLI and then, when the call is `call`
   * (list-objects-v2, s3 cp), stops at a checkpoint until the test resumes it:
   * a slow listing or a slow download, with something else happening meanwhile.
   */
  function pauseAfter(call: string): { paused: string; resume: string } {
    return pauseWhen(() => `[[ " $* " == *" ${call} "* ]]`);
  }

  /** Like pauseAfter, for any bash `condition` (given the paused marker path), after optional `prelude` lines. */
  function pauseWhen(condition: (paused: string) => string, prelude: (paused: string) => string[] = () => []): { paused: string; resume: string } {
    checkpoint += 1;
    const paused = path.join(node.dir, `paused-${checkpoint}`);
    const resume = path.join(node.dir, `resume-${checkpoint}`);
    node.addShims({
      aws: [
        '#!/usr/bin/env bash',
        '"$REAL_AWS" "$@"',
        'rc=$?',
        ...prelude(paused),
        `if ${condition(paused)}; then`,
        `  touch ${paused}`,
        `  for ((i = 0; i < 600; i++)); do [[ -e ${resume} ]] && break; sleep 0.05; done`,
        'fi',
        'exit $rc',
        '',
      ].join('\n'),
    });
    return { paused, resume };
  }

  beforeAll(async () => {
    await harness.createBucket(bucket);
    await put(bucket, 'checkpoints/base.safetensors', 'base');
    node = harness.node('race', bucket);
    expectOk(node.run(['prepare-disk']));
    expectOk(node.run(['initial']));
  }, 60000);

  afterEach(() => node.clearShims());

  it('a reconcile keeps a model that a copy installed after its listing', async () => {
    const key = 'loras/uploaded after the listing.safetensors';
    const { paused, resume } = pauseAfter('list-objects-v2');
    const reconcile = node.runInBackground(['reconcile']);
    await waitFor(paused, 'the reconcile listing');
    node.clearShims();
    await put(bucket, key, 'fresh lora');
    expectOk(node.run(['copy', key]));
    expect(read(node.model(key))).toBe('fresh lora');
    writeFileSync(resume, '');
    const r = await reconcile;
    expectOk(r);
    expect(r.stderr).toMatch(/kept 'loras\/uploaded after the listing\.safetensors': added to the bucket after the listing/);
    expect(read(node.model(key))).toBe('fresh lora');
    expect(json(path.join(node.modelsDir, '.model-sync', 'ready.json'))).toMatchObject({ mode: 'reconcile', deleted: 0 });
    // The next reconcile lists it and leaves it alone.
    expectOk(node.run(['reconcile']));
    expect(read(node.model(key))).toBe('fresh lora');
  });

  it('a copy whose object is deleted during its download does not bring it back after the delete command', async () => {
    const key = 'vae/deleted mid-download.pt';
    await put(bucket, key, 'short-lived vae');
    const { paused, resume } = pauseAfter('s3 cp');
    const copy = node.runInBackground(['copy', key]);
    await waitFor(paused, 'the download');
    node.clearShims();
    await remove(bucket, key);
    const del = node.run(['delete', key]);
    expect(del.status).toBe(0);
    expect(del.stderr).toMatch(/already absent/);
    writeFileSync(resume, '');
    const r = await copy;
    expectOk(r);
    expect(r.stderr).toMatch(/'vae\/deleted mid-download\.pt' left s3:\/\/race-models during its download; discarded/);
    expect(r.stderr).not.toMatch(/copied/);
    expect(existsSync(node.model(key))).toBe(false);
    expect(readdirSync(path.join(node.modelsDir, '.model-sync', 'tmp'))).toEqual([]);
  });

  it('a slow copy of an older version never replaces the newer one a later copy installed', async () => {
    const key = 'embeddings/replaced.pt';
    await put(bucket, key, 'v1');
    const { paused, resume } = pauseAfter('s3 cp');
    const slow = node.runInBackground(['copy', key]);
    await waitFor(paused, 'the first download');
    node.clearShims();
    await put(bucket, key, 'version two, longer');
    expectOk(node.run(['copy', key]));
    expect(read(node.model(key))).toBe('version two, longer');
    writeFileSync(resume, '');
    const r = await slow;
    expectOk(r);
    expect(r.stderr).toMatch(/'embeddings\/replaced\.pt' was replaced in s3:\/\/race-models during its download \(attempt 1\); downloading the new version/);
    expect(read(node.model(key))).toBe('version two, longer');
  });

  // Issue 15 item 3: the bucket check after a download and the rename are one step for deletes.
  it('a delete that lands between a copy\'s post-download check and its rename is never undone', async () => {
    const key = 'loras/deleted before the rename.safetensors';
    await put(bucket, key, 'doomed lora');
    // Pauses after the first S3 call that follows the download: the copy's second look at the bucket.
    const { paused, resume } = pauseWhen(
      (marker) => `[[ -e ${marker}.downloaded && ! -e ${marker} ]]`,
      (marker) => [`if [[ " $* " == *" s3 cp "* ]]; then touch ${marker}.downloaded; exit $rc; fi`],
    );
    const copy = node.runInBackground(['copy', key]);
    await waitFor(paused, 'the copy\'s check after its download');
    node.clearShims();
    await remove(bucket, key);
    const del = node.runInBackground(['delete', key]);
    // The delete either waits for the copy's rename or runs before it; either way it asks S3 itself.
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(resume, '');
    const [c, d] = await Promise.all([copy, del]);
    expectOk(c);
    expectOk(d);
    expect(existsSync(node.model(key))).toBe(false);
  });

  it('an object deleted between the listing and its download does not make the full sync fail', async () => {
    const key = 'checkpoints/gone before download.safetensors';
    await put(bucket, key, 'never downloaded');
    const before = json(path.join(node.modelsDir, '.model-sync', 'ready.json')).generation;
    const { paused, resume } = pauseAfter('list-objects-v2');
    const sync = node.runInBackground(['initial']);
    await waitFor(paused, 'the initial listing');
    node.clearShims();
    await remove(bucket, key);
    writeFileSync(resume, '');
    const r = await sync;
    expectOk(r);
    expect(r.stderr).toMatch(/'checkpoints\/gone before download\.safetensors' left s3:\/\/race-models during its download; discarded/);
    expect(existsSync(node.model(key))).toBe(false);
    expect(json(path.join(node.modelsDir, '.model-sync', 'ready.json')).generation).toBe(before + 1);
  });
});

describe('issue 15: faults found under adversarial testing', () => {
  const bucket = 'adversarial-models';
  let node: SandboxNode;
  const ready = () => json(path.join(node.modelsDir, '.model-sync', 'ready.json'));

  beforeAll(async () => {
    await harness.createBucket(bucket);
    await put(bucket, 'checkpoints/NoSuchKey.safetensors', 'a model named like an error code');
    node = harness.node('adversarial', bucket, { CLUSTER_NAME: 'comfyui-test' });
    expectOk(node.run(['prepare-disk']));
  }, 60000);

  afterEach(() => node.clearShims());

  // Item 1: with S3 unreachable the CLI's error quotes the URL, which holds the key.
  it.each([
    ['AWS CLI v1', 255],
    ['AWS CLI v2', 255],
    ['AWS CLI v2, service error', 254],
  ])('a failed S3 call is "S3 error" (exit 6, file kept), never "deleted", whatever the error text says (%s, exit %i)', async (_cli, code) => {
    expectOk(node.run(['copy', 'checkpoints/NoSuchKey.safetensors']));
    node.addShims({
      aws: [
        '#!/usr/bin/env bash',
        'if [[ " $* " == *" s3api "* ]]; then',
        '  echo "Could not connect to the endpoint URL: \"http://127.0.0.1:1/adversarial-models/checkpoints/NoSuchKey.safetensors\" An error occurred (404) when calling the HeadObject operation: Not Found" >&2',
        `  exit ${code}`,
        'fi',
        'exec "$REAL_AWS" "$@"',
        '',
      ].join('\n'),
    });
    const d = node.run(['delete', 'checkpoints/NoSuchKey.safetensors']);
    expect(d.status).toBe(6);
    expect(d.stderr).toMatch(new RegExp(`looking up s3://adversarial-models/'checkpoints/NoSuchKey\\.safetensors' failed: exit ${code}`));
    expect(read(node.model('checkpoints/NoSuchKey.safetensors'))).toBe('a model named like an error code');
    const c = node.run(['copy', 'checkpoints/NoSuchKey.safetensors']);
    expect(c.status).toBe(6);
    expect(c.stderr).not.toMatch(/nothing to do/);
    const r = node.run(['reconcile']);
    expect(r.status).toBe(6);
    expect(read(node.model('checkpoints/NoSuchKey.safetensors'))).toBe('a model named like an error code');
  });

  // Item 2: archived objects and file/folder clashes never keep a node from becoming ready.
  it('skips archived objects and clashing keys, writes ready.json listing them, and publishes UnsyncableObjects', async () => {
    const data = Buffer.from('frozen');
    await harness.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'checkpoints/frozen.safetensors', Body: data, ContentLength: data.length, StorageClass: 'DEEP_ARCHIVE' }));
    await put(bucket, 'loras/a.safetensors', 'the file');
    await put(bucket, 'loras/a.safetensors/b.safetensors', 'a file inside a folder named like the file');
    const r = node.run(['initial']);
    expectOk(r);
    expect(read(node.model('loras/a.safetensors'))).toBe('the file');
    expect(existsSync(node.model('checkpoints/frozen.safetensors'))).toBe(false);
    expect(ready().unsyncable).toEqual([
      { key: 'checkpoints/frozen.safetensors', reason: 'archived' },
      { key: 'loras/a.safetensors/b.safetensors', reason: 'clash' },
    ]);
    expect(ready().unsyncableCount).toBe(2);
    expect(r.stderr).toContain('unsyncable object: {"key":"checkpoints/frozen.safetensors","reason":"archived","detail":"storage class DEEP_ARCHIVE: restore it or copy it to a readable class"}');
    const metrics = spawnSync(path.join(VENV_BIN, 'aws'), ['cloudwatch', 'list-metrics', '--namespace', 'ComfyUI/ModelSync', '--region', 'us-east-1', '--output', 'json'], { env: node.env(), encoding: 'utf8' });
    const listed = (JSON.parse(metrics.stdout).Metrics as { MetricName: string; Dimensions: { Name: string; Value: string }[] }[]).map(
      (m) => `${m.MetricName} ${m.Dimensions.map((d) => `${d.Name}=${d.Value}`).sort().join(',')}`,
    );
    for (const metric of ['NodeModelsReady', 'UnsyncableObjects']) {
      expect(listed).toContain(`${metric} ClusterName=comfyui-test`);
      expect(listed).toContain(`${metric} ClusterName=comfyui-test,InstanceId=i-0123456789abcdef0`);
    }
    await harness.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'checkpoints/frozen.safetensors' }));
    await remove(bucket, 'loras/a.safetensors/b.safetensors');
  });

  // Item 4: same size, same second, new content.
  it('a same-size re-upload within the same second is downloaded (ETag, not size + mtime)', async () => {
    const key = 'vae/same size.pt';
    await put(bucket, key, 'version-1');
    expectOk(node.run(['copy', key]));
    await put(bucket, key, 'version-2');
    const head = await harness.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    // As if both uploads had happened within one second: the old file now has the new LastModified.
    spawnSync('touch', ['-m', '-d', `@${Math.floor(head.LastModified!.getTime() / 1000)}`, node.model(key)]);
    const r = node.run(['copy', key]);
    expectOk(r);
    expect(r.stderr).not.toMatch(/already up to date/);
    expect(read(node.model(key))).toBe('version-2');
    expect(node.run(['copy', key]).stderr).toMatch(/already up to date/);
  });

  // Item 5: leftovers of another boot or of a reused PID go, on any command.
  it('sweeps work directories of another boot, of a reused PID and of the old naming on a copy', () => {
    const tmp = path.join(node.modelsDir, '.model-sync', 'tmp');
    const live = String(process.pid);
    const stale = [`dl.${live}.abcdef`, `dl.otherboot.${live}.1.abcdef`, `dl.testboot.${live}.1.abcdef`, `list.testboot.${live}.1.abcdef`];
    for (const d of stale) mkdirSync(path.join(tmp, d, 'object'), { recursive: true });
    expectOk(node.run(['copy', 'vae/same size.pt']));
    expect(readdirSync(tmp)).toEqual([]);
  });

  // Item 6: disk full is exit 7 with the figures, not "S3 error".
  itRoot('a download that does not fit is "disk full" (exit 7) with needed and free bytes, and counted as SyncFailures{Reason=disk-full}', async () => {
    const small = harness.node('small-disk', bucket, { CLUSTER_NAME: 'comfyui-test' });
    mkdirSync(small.modelsDir, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'small-models', small.modelsDir]).status).toBe(0);
    expectOk(small.run(['prepare-disk']));
    await put(bucket, 'checkpoints/too big.safetensors', Buffer.alloc(3 * 1024 * 1024, 1));
    const r = small.run(['copy', 'checkpoints/too big.safetensors']);
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(/disk full: 'checkpoints\/too big\.safetensors' needs 3145728 bytes, .* has \d+ free/);
    const metrics = spawnSync(path.join(VENV_BIN, 'aws'), ['cloudwatch', 'list-metrics', '--namespace', 'ComfyUI/ModelSync', '--metric-name', 'SyncFailures', '--region', 'us-east-1', '--output', 'json'], { env: small.env(), encoding: 'utf8' });
    expect(metrics.stdout).toContain('"disk-full"');
    await remove(bucket, 'checkpoints/too big.safetensors');
  });

  // Item 7: keys are escaped in every log line.
  it('never writes U+2028, U+0085 or U+202E raw into a log line', async () => {
    const rtl = 'checkpoints/evil\u202egnp.safetensors';
    await put(bucket, rtl, 'right to left');
    await put(bucket, 'checkpoints/line\u2028break.safetensors', 'refused');
    await put(bucket, 'checkpoints/next\u0085line.safetensors', 'refused');
    const c = node.run(['copy', rtl]);
    expectOk(c);
    expect(read(node.model(rtl))).toBe('right to left');
    const r = node.run(['reconcile']);
    for (const out of [c.stderr, r.stderr]) expect(out).not.toMatch(/[\u0085\u2028\u2029\u202a-\u202e]/);
    expect(c.stderr).toContain("copied $'checkpoints/evil\\342\\200\\256gnp.safetensors'");
    expect(r.stderr).toContain('unsyncable object: {"key":"checkpoints/line\\u2028break.safetensors","reason":"invalid-key"');
    for (const k of [rtl, 'checkpoints/line\u2028break.safetensors', 'checkpoints/next\u0085line.safetensors']) await remove(bucket, k);
  });

  // Performance: the document's batch is one invocation; one bad change does not stop the others.
  it('apply: runs every change of a batch in one invocation; a refused key fails alone (exit 10) and is counted', async () => {
    await put(bucket, 'loras/batch one.safetensors', 'one');
    await put(bucket, 'loras/batch two.pt', 'two');
    const changes = ['copy 1764158400 loras/batch one.safetensors', 'copy 0 loras/batch two.pt', 'copy 0 loras/evil.exe', 'delete 0 vae/same size.pt'].join('\n');
    const r = node.run(['apply', changes]);
    expect(r.status).toBe(10);
    expect(r.stderr).toMatch(/apply: 1 of 4 changes failed/);
    expect(read(node.model('loras/batch one.safetensors'))).toBe('one');
    expect(read(node.model('loras/batch two.pt'))).toBe('two');
    expect(existsSync(node.model('vae/same size.pt'))).toBe(true); // still in the bucket: kept
    const metrics = spawnSync(path.join(VENV_BIN, 'aws'), ['cloudwatch', 'list-metrics', '--namespace', 'ComfyUI/ModelSync', '--region', 'us-east-1', '--output', 'json'], { env: node.env(), encoding: 'utf8' });
    expect(metrics.stdout).toContain('"SyncLagSeconds"');
    expect(metrics.stdout).toContain('"invalid-key"');
  });
});

describe('instance-store disks', () => {
  const bucket = 'disk-models';
  const recorder = (tool: string, real: string) =>
    ['#!/usr/bin/env bash', `printf '${tool} %s\\n' "$*" >> "$SHIM_LOG"`, `exec ${real} "$@"`, ''].join('\n');

  beforeAll(async () => {
    await harness.createBucket(bucket);
    await put(bucket, 'checkpoints/disk.safetensors', 'on nvme');
  });

  itLoop('one disk: found by model name, formatted xfs, mounted, in fstab by UUID with nofail; idempotent; survives a remount', () => {
    const node = harness.node('single', bucket);
    const disk = harness.loopDevice(320);
    const name = path.basename(disk);
    node.addDisk(name);
    node.addDisk('nvme0n1', 'Amazon Elastic Block Store');
    node.addShims({ 'mkfs.xfs': recorder('mkfs.xfs', '/usr/sbin/mkfs.xfs') });

    const r = node.run(['prepare-disk']);
    expect(r.stderr).toMatch(new RegExp(`instance-store NVMe: 1 found \\(${name}\\), 1 free`));
    expect(r.status).toBe(0);
    expect(harness.mountSource(node.modelsDir)).toBe(disk);
    expect(read(node.shimLog)).toBe(`mkfs.xfs -f -q -K -L comfy-models -- ${disk}\n`);
    const uuid = spawnSync('blkid', ['-p', '-o', 'value', '-s', 'UUID', disk], { encoding: 'utf8' }).stdout.trim();
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const fstab = read(node.fstab);
    expect(fstab).toBe(
      `# test fstab\nUUID=0000 / xfs defaults 0 1\n# comfyui-model-sync: models filesystem\nUUID=${uuid} ${node.modelsDir} xfs defaults,noatime,nofail,x-systemd.device-timeout=30s 0 2\n`,
    );
    expect(json(path.join(node.modelsDir, '.model-sync', 'disk.json'))).toMatchObject({ layout: 'instance-store-single', devices: [disk] });

    expectOk(node.run(['initial']));
    expect(read(node.model('checkpoints/disk.safetensors'))).toBe('on nvme');
    expect(harness.mountSource(node.model('checkpoints/disk.safetensors'))).toBe(disk);

    const again = node.run(['prepare-disk']);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/is already a mount point/);
    expect(read(node.fstab)).toBe(fstab);

    // A reboot without the fstab mount: the labelled disk is mounted again, not formatted.
    harness.unmount(node.modelsDir);
    const remount = node.run(['prepare-disk']);
    expect(remount.status).toBe(0);
    expect(remount.stderr).toMatch(/already carries the comfy-models filesystem; mounting it without formatting/);
    expect(read(node.model('checkpoints/disk.safetensors'))).toBe('on nvme');
    expect(read(node.shimLog).match(/mkfs\.xfs/g)).toHaveLength(1);
    expect(read(node.fstab)).toBe(fstab);
  });

  itLoop('two disks: RAID0 with mdadm (recorded through a shim: no md module here), xfs, mounted, synced', () => {
    const node = harness.node('raid', bucket);
    const disks = [harness.loopDevice(320), harness.loopDevice(320)];
    for (const d of disks) node.addDisk(path.basename(d));
    // mdadm records its arguments and makes the "array" a link to the first disk.
    node.addShims({
      mdadm: ['#!/usr/bin/env bash', `printf 'mdadm %s\\n' "$*" >> "$SHIM_LOG"`, `[[ $1 == --create ]] && ln -sfn ${disks[0]} "$2"`, ''].join('\n'),
      'mkfs.xfs': recorder('mkfs.xfs', '/usr/sbin/mkfs.xfs'),
    });
    const r = node.run(['prepare-disk']);
    expect(r.stderr).toMatch(/2 found .*, 2 free/);
    expect(r.status).toBe(0);
    expect(read(node.shimLog).split('\n')).toEqual([
      `mdadm --create ${node.mdDevice} --run --level=0 --metadata=1.2 --name=comfy-models --raid-devices=2 ${disks[0]} ${disks[1]}`,
      `mkfs.xfs -f -q -K -L comfy-models -- ${node.mdDevice}`,
      '',
    ]);
    expect(harness.mountSource(node.modelsDir)).toBe(disks[0]);
    expect(read(node.fstab)).toMatch(new RegExp(`^UUID=[0-9a-f-]{36} ${node.modelsDir} xfs defaults,noatime,nofail`, 'm'));
    expect(json(path.join(node.modelsDir, '.model-sync', 'disk.json'))).toMatchObject({ layout: 'instance-store-raid0', devices: disks });
    expectOk(node.run(['initial']));
    expect(read(node.model('checkpoints/disk.safetensors'))).toBe('on nvme');
  });

  itRoot("Karpenter's RAID0 array already mounted by nodeadm: models go on it through a bind mount, disks untouched", () => {
    const node = harness.node('nodeadm', bucket);
    node.addDisk('nvme1n1', undefined, ['md127']);
    node.addDisk('nvme2n1', undefined, ['md127']);
    mkdirSync(node.arrayDir, { recursive: true });
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'k8s-disks', node.arrayDir], { encoding: 'utf8' });
    expect(mount.stderr).toBe('');
    node.addShims({ mdadm: recorder('mdadm', '/bin/false'), 'mkfs.xfs': recorder('mkfs.xfs', '/bin/false') });

    const r = node.run(['prepare-disk']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/models on Karpenter's instance-store RAID0: .*\/comfyui-models bind-mounted at/);
    expect(harness.isMountPoint(node.modelsDir)).toBe(true);
    expect(json(path.join(node.modelsDir, '.model-sync', 'disk.json'))).toMatchObject({ layout: 'instance-store-raid0', devices: [node.arrayDir] });
    expectOk(node.run(['initial']));
    expect(read(path.join(node.arrayDir, 'comfyui-models', 'checkpoints', 'disk.safetensors'))).toBe('on nvme');
    expect(read(node.shimLog)).toBe('');
    expect(read(node.fstab)).toBe('# test fstab\nUUID=0000 / xfs defaults 0 1\n');
    expect(node.run(['prepare-disk']).stderr).toMatch(/already a mount point/);

    // A reboot: nodeadm mounts the array again, the bind mount is gone until
    // comfyui-model-sync-mount.service runs prepare-disk (before the kubelet).
    harness.unmount(node.modelsDir);
    expect(existsSync(node.model('checkpoints/disk.safetensors'))).toBe(false);
    const reboot = node.run(['prepare-disk']);
    expect(reboot.status).toBe(0);
    expect(reboot.stderr).toMatch(/bind-mounted at/);
    expect(read(node.model('checkpoints/disk.safetensors'))).toBe('on nvme');
  });
});
