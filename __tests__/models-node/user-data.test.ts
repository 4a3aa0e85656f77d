import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { Testing, TerraformOutput, TerraformStack } from 'cdktf';
import { NODE_SYNC_COMMAND } from '../../config/naming';
import { NodeUserDataProps, renderNodeUserData, stripComments, USER_DATA_BOUNDARY } from '../../constructs/models/node-user-data';
import { StorageStack } from '../../stacks/storage-stack';
import { testConfig } from '../helpers/config';
import { DEFAULT_MODEL_EXTENSIONS } from '../../lambdas/model-sync/keys';
import { envFile, installedFiles, parseMime, payloadGzip, payloadScript, shellPart } from './user-data-parts';

const SCRIPTS = path.join(__dirname, '..', '..', 'scripts', 'node');
const config = testConfig();
const BASE: NodeUserDataProps = {
  modelsBucketName: 'studio-models',
  region: config.region,
  modelsDir: config.models.nodePath,
  folders: config.models.prefixes,
  reconcileIntervalMinutes: 7,
  parallelDownloads: config.models.parallelDownloads,
};

function bash(args: string[], input?: string) {
  return spawnSync('bash', args, { input, encoding: 'utf8' });
}

describe('renderNodeUserData: MIME document', () => {
  const userData = renderNodeUserData(BASE);
  const doc = parseMime(userData);

  it('is a multipart/mixed document with one shell part and a closing boundary', () => {
    expect(doc.headers['mime-version']).toBe('1.0');
    expect(doc.headers['content-type']).toBe(`multipart/mixed; boundary="${USER_DATA_BOUNDARY}"`);
    expect(doc.parts).toHaveLength(1);
    expect(doc.parts[0].headers['content-type']).toBe('text/x-shellscript; charset="us-ascii"');
    expect(doc.parts[0].body).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(doc.parts[0].body).toMatch(/^set -euo pipefail$/m);
    expect(doc.epilogue).toBe('');
  });

  it('uses the boundary only as delimiter lines and stays ASCII', () => {
    const lines = userData.split('\n').filter((l) => l.includes(USER_DATA_BOUNDARY));
    expect(lines).toEqual([`Content-Type: multipart/mixed; boundary="${USER_DATA_BOUNDARY}"`, `--${USER_DATA_BOUNDARY}`, `--${USER_DATA_BOUNDARY}--`]);
    expect(/^[\x09\x0a\x20-\x7e]*$/.test(userData)).toBe(true);
  });

  it('is valid bash: the wrapper, the payload installer and the installed script', () => {
    for (const text of [shellPart(userData), payloadScript(userData), installedFiles(userData).get('/usr/local/bin/comfyui-model-sync')!.content]) {
      const r = bash(['-n'], text);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('writes the env file from the props, one KEY=value per line', () => {
    expect(envFile(userData)).toBe(
      [
        'MODELS_BUCKET=studio-models',
        `MODELS_REGION=${config.region}`,
        'MODELS_DIR=/mnt/models',
        `MODEL_FOLDERS=${config.models.prefixes.join(' ')}`,
        `MODEL_EXTENSIONS=${DEFAULT_MODEL_EXTENSIONS.join(' ')}`,
        'SYNC_PARALLEL_DOWNLOADS=4',
        '',
      ].join('\n'),
    );
    expect(envFile(renderNodeUserData({ ...BASE, parallelDownloads: 8, modelsDir: '/data/models', folders: ['checkpoints'] }))).toContain(
      'MODELS_DIR=/data/models\nMODEL_FOLDERS=checkpoints\n',
    );
    const custom = envFile(renderNodeUserData({ ...BASE, extensions: ['.safetensors'], clusterName: 'comfyui-prod' }));
    expect(custom).toContain('MODEL_EXTENSIONS=.safetensors\nCLUSTER_NAME=comfyui-prod\n');
    expect(() => renderNodeUserData({ ...BASE, extensions: ['safetensors'] })).toThrow('renderNodeUserData: extensions must be a dot');
  });

  it('installs the scripts/node files byte for byte (comments stripped), with their modes, and the drop-ins', () => {
    const files = installedFiles(userData);
    const expected: Array<[string, string, string]> = [
      ['/usr/local/bin/comfyui-model-sync', 'comfyui-model-sync', '0755'],
      ['/etc/systemd/system/comfyui-model-sync-mount.service', 'comfyui-model-sync-mount.service', '0644'],
      ['/etc/systemd/system/comfyui-model-sync-initial.service', 'comfyui-model-sync-initial.service', '0644'],
      ['/etc/systemd/system/comfyui-model-sync-reconcile.service', 'comfyui-model-sync-reconcile.service', '0644'],
      ['/etc/systemd/system/comfyui-model-sync-reconcile.timer', 'comfyui-model-sync-reconcile.timer', '0644'],
    ];
    for (const [target, source, mode] of expected) {
      expect(files.get(target)).toEqual({ content: stripComments(readFileSync(path.join(SCRIPTS, source), 'utf8')), mode });
    }
    expect(files.get('/etc/systemd/system/comfyui-model-sync-reconcile.timer.d/interval.conf')).toEqual({
      content: '[Timer]\nOnUnitActiveSec=\nOnUnitActiveSec=7min\n',
      mode: '0644',
    });
    expect(files.get('/etc/systemd/system/comfyui-model-sync-mount.service.d/models-dir.conf')).toEqual({
      content: '[Unit]\nRequiresMountsFor=/mnt/models\n',
      mode: '0644',
    });
    expect(installedFiles(renderNodeUserData({ ...BASE, modelsDir: '/data/models' })).get('/etc/systemd/system/comfyui-model-sync-mount.service.d/models-dir.conf')!.content).toBe(
      '[Unit]\nRequiresMountsFor=/data/models\n',
    );
    expect(files.size).toBe(7);
  });

  it('installs the command where config/naming.ts says, and every unit runs that path', () => {
    const files = installedFiles(userData);
    expect(files.get(NODE_SYNC_COMMAND)?.mode).toBe('0755');
    const execs = [...files].filter(([name]) => name.endsWith('.service')).flatMap(([, f]) => f.content.split('\n').filter((l) => l.startsWith('ExecStart=')));
    expect(execs).toHaveLength(5);
    for (const line of execs) expect(line).toMatch(new RegExp(`^ExecStart=${NODE_SYNC_COMMAND} (prepare-disk|initial|reconcile)$`));
  });

  it('refuses a unit that runs the command from another path', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'units-'));
    try {
      for (const f of ['comfyui-model-sync', 'comfyui-model-sync-initial.service', 'comfyui-model-sync-reconcile.service', 'comfyui-model-sync-reconcile.timer']) {
        writeFileSync(path.join(dir, f), readFileSync(path.join(SCRIPTS, f)));
      }
      writeFileSync(
        path.join(dir, 'comfyui-model-sync-mount.service'),
        readFileSync(path.join(SCRIPTS, 'comfyui-model-sync-mount.service'), 'utf8').replace(`ExecStart=${NODE_SYNC_COMMAND}`, 'ExecStart=/opt/bin/comfyui-model-sync'),
      );
      expect(() => renderNodeUserData({ ...BASE, scriptsDir: dir })).toThrow(
        'comfyui-model-sync-mount.service runs "/opt/bin/comfyui-model-sync prepare-disk", not /usr/local/bin/comfyui-model-sync',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decodes with the base64 and gunzip a node has', () => {
    const shell = shellPart(userData);
    const b64 = shell.slice(shell.indexOf("<<'COMFYUI_MODEL_SYNC_PAYLOAD'\n") + 31, shell.indexOf('\nCOMFYUI_MODEL_SYNC_PAYLOAD\n') + 1);
    const r = bash(['-c', 'base64 -d | gunzip -c'], b64);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(payloadScript(userData));
  });

  it('starts the units with --no-block; only the mount unit (prepare-disk, no network) runs before the kubelet', () => {
    const shell = shellPart(userData);
    const systemctl = shell.split('\n').filter((l) => l.startsWith('systemctl'));
    expect(systemctl).toEqual([
      'systemctl daemon-reload',
      'systemctl enable --now --no-block comfyui-model-sync-mount.service comfyui-model-sync-reconcile.timer',
      'systemctl start --no-block comfyui-model-sync-initial.service',
    ]);
    // The env file and the files exist before anything starts.
    expect(shell.indexOf('bash "$payload"')).toBeLessThan(shell.indexOf('systemctl daemon-reload'));
    expect(shell.indexOf('/etc/comfyui-model-sync.env')).toBeLessThan(shell.indexOf('bash "$payload"'));
    const files = installedFiles(userData);
    const initial = files.get('/etc/systemd/system/comfyui-model-sync-initial.service')!.content;
    expect(initial).toMatch(/^Type=oneshot$/m);
    expect(initial).toMatch(/^After=network-online\.target setup-local-disks\.service comfyui-model-sync-mount\.service$/m);
    expect(initial).toMatch(/^ExecStart=\/usr\/local\/bin\/comfyui-model-sync prepare-disk\nExecStart=\/usr\/local\/bin\/comfyui-model-sync initial$/m);
    const reconcile = files.get('/etc/systemd/system/comfyui-model-sync-reconcile.service')!.content;
    expect(reconcile).toMatch(/^After=network-online\.target setup-local-disks\.service comfyui-model-sync-mount\.service$/m);
    for (const [name, file] of files) {
      if (!name.endsWith('.service') || name.endsWith('/comfyui-model-sync-mount.service')) continue;
      expect(file.content).not.toMatch(/^(Before|RequiredBy|WantedBy)=.*(kubelet|nodeadm|containerd|multi-user)/m);
      expect(file.content).not.toMatch(/^\[Install\]$/m);
    }
    // The mount unit: enabled for every boot, before the kubelet, after the local disks, no network, prepare-disk only.
    const mount = files.get('/etc/systemd/system/comfyui-model-sync-mount.service')!.content;
    expect(mount).toMatch(/^Type=oneshot$/m);
    expect(mount).toMatch(/^RemainAfterExit=yes$/m);
    expect(mount).toMatch(/^After=local-fs\.target setup-local-disks\.service nodeadm-config\.service$/m);
    expect(mount).toMatch(/^Before=kubelet\.service$/m);
    expect(mount).toMatch(/^\[Install\]\nWantedBy=multi-user\.target$/m);
    expect(mount.split('\n').filter((l) => l.startsWith('ExecStart='))).toEqual(['ExecStart=/usr/local/bin/comfyui-model-sync prepare-disk']);
    expect(mount).not.toMatch(/network|Wants=|Requires=/);
    const timer = files.get('/etc/systemd/system/comfyui-model-sync-reconcile.timer')!.content;
    expect(timer).toMatch(/^OnBootSec=1min$/m);
    expect(timer).toMatch(/^WantedBy=timers\.target$/m);
  });

  it('is reproducible and fits the EC2 user-data budget next to Karpenter\'s NodeConfig', () => {
    expect(renderNodeUserData(BASE)).toBe(userData);
    // EC2 allows 16384 bytes; Karpenter's NodeConfig part needs about 3 KiB of it.
    const longToken = '${data.terraform_remote_state.cross-stack-reference-input-comfyui-production-storage.outputs.cross-stack-output-aws_s3_bucketmodels-bucket_bucket_0123ABCD}';
    const size = Buffer.byteLength(renderNodeUserData({ ...BASE, modelsBucketName: longToken, modelsDir: '/mnt/a-rather-long/models/path' }));
    expect(size).toBeLessThan(12 * 1024);
    expect(payloadGzip(userData).length).toBeLessThan(8 * 1024);
    console.log(`node user data: ${Buffer.byteLength(userData)} bytes (${size} with a remote-state bucket token), gzip payload ${payloadGzip(userData).length} bytes`);
  });
});

describe('renderNodeUserData: Terraform expressions', () => {
  it('keeps the bucket token intact and lets no other ${ or %{ reach Terraform', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'nodes');
    const bucket = new S3Bucket(stack, 'models', { bucket: 'studio-models' });
    new TerraformOutput(stack, 'user_data', { value: renderNodeUserData({ ...BASE, modelsBucketName: bucket.bucket }) });
    const value: string = JSON.parse(Testing.synth(stack)).output.user_data.value;
    expect(envFile(value)).toMatch(/^MODELS_BUCKET=\$\{aws_s3_bucket\.models\.bucket\}$/m);
    expect(value.match(/\$\{/g)).toHaveLength(1);
    expect(value).not.toContain('%{');
    // The script itself is full of ${...}: it travels compressed, and arrives intact.
    const script = installedFiles(value).get('/usr/local/bin/comfyui-model-sync')!.content;
    expect(script).toContain('${key%%/*}');
    expect(script).toBe(stripComments(readFileSync(path.join(SCRIPTS, 'comfyui-model-sync'), 'utf8')));
  });

  it('takes the storage stack output across stacks (a remote-state reference)', () => {
    const app = Testing.app();
    const storage = new StorageStack(app, 'storage', { config });
    const nodes = new TerraformStack(app, 'nodes');
    new TerraformOutput(nodes, 'user_data', { value: renderNodeUserData({ ...BASE, modelsBucketName: storage.outputs.modelsBucket.name }) });
    const value: string = JSON.parse(Testing.synth(nodes)).output.user_data.value;
    expect(envFile(value)).toMatch(/^MODELS_BUCKET=\$\{[^{}\s]+\}$/m);
    expect(value.match(/\$\{/g)).toHaveLength(1);
  });

  it('accepts the storage stack default name with its account-id interpolation', () => {
    const name = 'comfyui-dev-models-${data.aws_caller_identity.current.account_id}-us-west-2';
    expect(envFile(renderNodeUserData({ ...BASE, modelsBucketName: name }))).toContain(`MODELS_BUCKET=${name}\n`);
  });
});

describe('renderNodeUserData: invalid props', () => {
  it.each([
    [{ modelsBucketName: 'Bad_Bucket' }, /modelsBucketName must be an S3 bucket name/],
    [{ modelsBucketName: 'models ${x}' }, /modelsBucketName/],
    [{ region: 'us east 1' }, /region must be an AWS region name/],
    [{ modelsDir: 'mnt/models' }, /modelsDir must be an absolute path/],
    [{ modelsDir: '/mnt/../etc' }, /modelsDir must be an absolute path.*'\.\.'/],
    [{ modelsDir: '/mnt/models/' }, /modelsDir .*trailing/],
    [{ modelsDir: '/mnt//models' }, /modelsDir .*empty segments/],
    [{ modelsDir: '/mnt/$(reboot)' }, /modelsDir/],
    [{ folders: [] }, /folders must list at least one model folder/],
    [{ folders: ['checkpoints', '../etc'] }, /folders must be ComfyUI model folder names.*"\.\.\/etc"/],
    [{ reconcileIntervalMinutes: 0 }, /reconcileIntervalMinutes must be a whole number of minutes from 1 to 1440, got 0/],
    [{ reconcileIntervalMinutes: 1.5 }, /reconcileIntervalMinutes/],
    [{ reconcileIntervalMinutes: 1441 }, /reconcileIntervalMinutes/],
    [{ parallelDownloads: 0 }, /parallelDownloads must be a whole number from 1 to 99/],
  ])('refuses %j', (override, message) => {
    expect(() => renderNodeUserData({ ...BASE, ...override } as NodeUserDataProps)).toThrow(message);
  });

  it('names the missing scripts directory', () => {
    expect(() => renderNodeUserData({ ...BASE, scriptsDir: '/nonexistent' })).toThrow(/ENOENT.*\/nonexistent\/comfyui-model-sync/);
  });
});
