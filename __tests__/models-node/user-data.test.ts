import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { SsmDocument } from '@cdktf/provider-aws/lib/ssm-document';
import { Testing, TerraformOutput, TerraformStack } from 'cdktf';
import { NODE_SYNC_COMMAND } from '../../config/naming';
import {
  escapeTerraformTemplate,
  installerFromDocumentContent,
  nodeFilesDocumentContent,
  renderNodeFilesInstaller,
  sha256Hex,
  stripComments,
} from '../../constructs/models/node-files-document';
import { NODE_FILES_FETCH_ATTEMPTS, NodeUserDataProps, renderNodeUserData, USER_DATA_BOUNDARY } from '../../constructs/models/node-user-data';
import { StorageStack } from '../../stacks/storage-stack';
import { testConfig } from '../helpers/config';
import { DEFAULT_MODEL_EXTENSIONS } from '../../lambdas/model-sync/keys';
import { envFile, installedFiles, parseMime, shellAssignment, shellPart } from './user-data-parts';

const SCRIPTS = path.join(__dirname, '..', '..', 'scripts', 'node');
const config = testConfig();
const INSTALLER = renderNodeFilesInstaller();
const BASE: NodeUserDataProps = {
  modelsBucketName: 'studio-models',
  region: config.region,
  nodeFiles: { documentName: 'comfyui-dev-gpu-node-files', documentVersion: '3', sha256: sha256Hex(INSTALLER) },
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

  it('is valid bash: the user data, the document installer and the installed script', () => {
    for (const text of [shellPart(userData), INSTALLER, installedFiles(INSTALLER).get('/usr/local/bin/comfyui-model-sync')!.content]) {
      const r = bash(['-n'], text);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('is shellcheck clean: the user data and the document installer', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shellcheck-'));
    try {
      for (const [name, text] of [['user-data.sh', shellPart(userData)], ['installer.sh', `#!/usr/bin/env bash\n${INSTALLER}`]]) {
        writeFileSync(path.join(dir, name), text);
        const r = spawnSync('shellcheck', ['--shell=bash', path.join(dir, name)], { encoding: 'utf8' });
        expect(r.stdout).toBe('');
        expect(r.status).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
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

  it('installs the scripts/node files byte for byte (comments stripped) from the document, with their modes; the user data adds the drop-ins', () => {
    const files = installedFiles(INSTALLER);
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
    expect(files.size).toBe(5);
    const dropIns = installedFiles(shellPart(userData));
    expect(dropIns.get('/etc/systemd/system/comfyui-model-sync-reconcile.timer.d/interval.conf')).toEqual({
      content: '[Timer]\nOnUnitActiveSec=\nOnUnitActiveSec=7min\n',
      mode: '0644',
    });
    expect(dropIns.get('/etc/systemd/system/comfyui-model-sync-mount.service.d/models-dir.conf')).toEqual({
      content: '[Unit]\nRequiresMountsFor=/mnt/models\n',
      mode: '0644',
    });
    expect(installedFiles(shellPart(renderNodeUserData({ ...BASE, modelsDir: '/data/models' }))).get('/etc/systemd/system/comfyui-model-sync-mount.service.d/models-dir.conf')!.content).toBe(
      '[Unit]\nRequiresMountsFor=/data/models\n',
    );
    expect(dropIns.size).toBe(2);
    // The installer creates the drop-in directories the user data writes into.
    expect(INSTALLER).toContain('install -d -m 0755 /usr/local/bin /etc/systemd/system/comfyui-model-sync-mount.service.d /etc/systemd/system/comfyui-model-sync-reconcile.timer.d\n');
  });

  it('installs the command where config/naming.ts says, and every unit runs that path', () => {
    const files = installedFiles(INSTALLER);
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
      expect(() => renderNodeFilesInstaller(dir)).toThrow(
        'comfyui-model-sync-mount.service runs "/opt/bin/comfyui-model-sync prepare-disk", not /usr/local/bin/comfyui-model-sync',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts the units with --no-block; only the mount unit (prepare-disk, no network) runs before the kubelet', () => {
    const shell = shellPart(userData);
    const systemctl = shell.split('\n').filter((l) => l.startsWith('systemctl'));
    expect(systemctl).toEqual([
      'systemctl daemon-reload',
      'systemctl enable --now --no-block comfyui-model-sync-mount.service comfyui-model-sync-reconcile.timer',
      'systemctl start --no-block comfyui-model-sync-initial.service',
    ]);
    // Fetch, verify, install, then the env file and drop-ins, then start: nothing is written before the check passes.
    const order = ['until fetch; do', 'if [ "$got" != "$want" ]', 'bash "$files"', 'cat > /etc/comfyui-model-sync.env', 'models-dir.conf', 'interval.conf', 'systemctl daemon-reload'];
    const positions = order.map((text) => shell.indexOf(text));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const files = installedFiles(INSTALLER);
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
    const longToken = (name: string) => `\${data.terraform_remote_state.cross-stack-reference-input-comfyui-production-capacity.outputs.cross-stack-output-${name}_0123ABCD}`;
    const longest = renderNodeUserData({
      ...BASE,
      modelsBucketName: longToken('aws_s3_bucketmodels-bucket_bucket'),
      nodeFiles: { ...BASE.nodeFiles, documentName: 'x'.repeat(128), documentVersion: longToken('aws_ssm_documentNodeFiles_Document_document_version') },
      modelsDir: '/mnt/a-rather-long/models/path',
      clusterName: 'c'.repeat(100),
    });
    const size = Buffer.byteLength(longest);
    expect(size).toBeLessThanOrEqual(12 * 1024);
    console.log(`node user data: ${Buffer.byteLength(userData)} bytes (${size} with remote-state tokens and the longest names); node files document installer ${Buffer.byteLength(INSTALLER)} bytes`);
  });
});

describe('renderNodeUserData: the node files document', () => {
  const userData = renderNodeUserData(BASE);
  it('embeds the sha256 of the installer Terraform writes into the document (checked with terraform itself)', () => {
    const content = escapeTerraformTemplate(JSON.stringify(nodeFilesDocumentContent(INSTALLER), null, 2));
    const dir = mkdtempSync(path.join(tmpdir(), 'tf-content-'));
    try {
      // Terraform reads the escaped string the way it reads aws_ssm_document.content, and prints what it would send to SSM.
      writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ output: { content: { value: content } } }));
      writeFileSync(path.join(dir, 'cli.tfrc'), '');
      const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: path.join(dir, 'cli.tfrc') };
      for (const args of [['init', '-input=false', '-no-color'], ['apply', '-auto-approve', '-input=false', '-no-color']]) {
        const r = spawnSync('terraform', args, { cwd: dir, env, encoding: 'utf8' });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
      const out = spawnSync('terraform', ['output', '-raw', 'content'], { cwd: dir, env, encoding: 'utf8' });
      expect(out.status).toBe(0);
      const installer = installerFromDocumentContent(out.stdout);
      expect(installer).toBe(INSTALLER);
      expect(shellAssignment(userData, 'want')).toBe(sha256Hex(installer));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the document and pins the version Terraform wrote', () => {
    expect(shellAssignment(userData, 'doc')).toBe('comfyui-dev-gpu-node-files');
    expect(shellAssignment(userData, 'version')).toBe('3');
    expect(shellPart(userData)).toContain(`aws ssm get-document --region ${config.region} --name "$doc" --document-version "$version" --query Content --output json |`);
  });
});

/**
 * Runs the user data for real: /etc and /usr/local/bin redirected into a temp
 * dir, `aws`, `systemctl` and `sleep` replaced by fakes on PATH that log their
 * arguments. The fake aws answers `ssm get-document` the way the CLI does
 * (`--query Content --output json`: the content as a JSON string).
 */
describe('renderNodeUserData: the boot-time installer', () => {
  let root: string;
  let bin: string;

  // Only the paths files are written to move (heredoc targets, chmod, install -d); file contents stay as shipped.
  const relocate = (text: string) =>
    text
      .replace(/^(cat > |chmod \d{4} )(\/etc\/|\/usr\/local\/bin\/)/gm, (_, op: string, dir: string) => `${op}${root}${dir}`)
      .replace(/^install -d -m 0755 .*$/m, (line) => line.replace(/ \//g, ` ${root}/`));
  const log = (name: string) => (existsSync(path.join(root, `${name}.log`)) ? readFileSync(path.join(root, `${name}.log`), 'utf8').trim().split('\n') : []);

  /** Runs the user data with the fake aws serving `installer` after `failures` failed calls. */
  function boot(userData: string, installer: string, failures = 0) {
    writeFileSync(path.join(root, 'content.json'), JSON.stringify(JSON.stringify(nodeFilesDocumentContent(installer))));
    writeFileSync(path.join(root, 'failures'), String(failures));
    writeFileSync(path.join(root, 'user-data.sh'), shellPart(userData));
    return spawnSync('bash', [path.join(root, 'user-data.sh')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_ROOT: root }, encoding: 'utf8' });
  }

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'node-boot-'));
    bin = path.join(root, 'bin');
    mkdirSync(bin);
    mkdirSync(path.join(root, 'etc', 'systemd', 'system'), { recursive: true });
    const fakes: Record<string, string> = {
      aws: [
        'echo "$*" >> "$FAKE_ROOT/aws.log"',
        'left=$(cat "$FAKE_ROOT/failures")',
        'if [ "$left" -gt 0 ]; then echo $((left - 1)) > "$FAKE_ROOT/failures"; echo "An error occurred (AccessDeniedException) when calling the GetDocument operation" >&2; exit 254; fi',
        'cat "$FAKE_ROOT/content.json"',
      ].join('\n'),
      systemctl: 'echo "$*" >> "$FAKE_ROOT/systemctl.log"',
      sleep: 'echo "$*" >> "$FAKE_ROOT/sleep.log"',
    };
    for (const [name, body] of Object.entries(fakes)) {
      writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    }
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** The real installer and a user data expecting it, both relocated into the temp dir. */
  function relocated() {
    const installer = relocate(INSTALLER);
    const userData = relocate(renderNodeUserData({ ...BASE, nodeFiles: { ...BASE.nodeFiles, sha256: sha256Hex(installer) } }));
    return { installer, userData };
  }

  it('reads the pinned version, installs the verified files with their modes, then writes the env and starts the units', () => {
    const { installer, userData } = relocated();
    const r = boot(userData, installer);
    expect(r.stderr).toContain(`comfyui-model-sync user data: installed comfyui-dev-gpu-node-files version 3 (sha256 ${sha256Hex(installer)})`);
    expect(r.status).toBe(0);
    expect(log('aws')).toEqual([`ssm get-document --region ${config.region} --name comfyui-dev-gpu-node-files --document-version 3 --query Content --output json`]);
    const command = path.join(root, 'usr/local/bin/comfyui-model-sync');
    expect(readFileSync(command, 'utf8')).toBe(stripComments(readFileSync(path.join(SCRIPTS, 'comfyui-model-sync'), 'utf8')));
    expect(statSync(command).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(root, 'etc/systemd/system/comfyui-model-sync-mount.service')).mode & 0o777).toBe(0o644);
    expect(readFileSync(path.join(root, 'etc/systemd/system/comfyui-model-sync-reconcile.timer.d/interval.conf'), 'utf8')).toBe('[Timer]\nOnUnitActiveSec=\nOnUnitActiveSec=7min\n');
    expect(readFileSync(path.join(root, 'etc/comfyui-model-sync.env'), 'utf8')).toContain('MODELS_BUCKET=studio-models\n');
    expect(log('systemctl')).toEqual([
      'daemon-reload',
      'enable --now --no-block comfyui-model-sync-mount.service comfyui-model-sync-reconcile.timer',
      'start --no-block comfyui-model-sync-initial.service',
    ]);
    expect(log('sleep')).toEqual([]);
  });

  it('refuses a tampered document: runs none of it, installs nothing, starts nothing, says why', () => {
    const { installer, userData } = relocated();
    const tampered = `touch ${root}/tampered-code-ran\n${installer}`;
    const r = boot(userData, tampered);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `comfyui-model-sync user data: REFUSED SSM document comfyui-dev-gpu-node-files version 3: sha256 ${sha256Hex(tampered)}, user data expects ${sha256Hex(installer)}; model sync is NOT installed`,
    );
    expect(existsSync(path.join(root, 'tampered-code-ran'))).toBe(false);
    expect(existsSync(path.join(root, 'usr/local/bin/comfyui-model-sync'))).toBe(false);
    expect(existsSync(path.join(root, 'etc/comfyui-model-sync.env'))).toBe(false);
    expect(log('systemctl')).toEqual([]);
  });

  it('refuses the real installer when the user data expects another sha256', () => {
    const { installer } = relocated();
    const userData = relocate(renderNodeUserData({ ...BASE, nodeFiles: { ...BASE.nodeFiles, sha256: 'f'.repeat(64) } }));
    const r = boot(userData, installer);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('REFUSED');
    expect(existsSync(path.join(root, 'usr/local/bin/comfyui-model-sync'))).toBe(false);
  });

  it('retries a failing read with backoff, then installs', () => {
    const { installer, userData } = relocated();
    const r = boot(userData, installer, 2);
    expect(r.status).toBe(0);
    expect(log('aws')).toHaveLength(3);
    expect(log('sleep')).toEqual(['2', '4']);
    expect(r.stderr).toContain('reading SSM document comfyui-dev-gpu-node-files version 3 failed (attempt 1), retrying in 2s');
    expect(existsSync(path.join(root, 'usr/local/bin/comfyui-model-sync'))).toBe(true);
  });

  it(`gives up loudly after ${NODE_FILES_FETCH_ATTEMPTS} failed reads, having installed and started nothing`, () => {
    const { installer, userData } = relocated();
    const r = boot(userData, installer, 100);
    expect(r.status).toBe(1);
    expect(log('aws')).toHaveLength(NODE_FILES_FETCH_ATTEMPTS);
    expect(log('sleep')).toEqual(['2', '4', '8', '16', '32']);
    expect(r.stderr).toContain(
      `comfyui-model-sync user data: FAILED to read SSM document comfyui-dev-gpu-node-files version 3 after ${NODE_FILES_FETCH_ATTEMPTS} attempts; model sync is NOT installed`,
    );
    expect(existsSync(path.join(root, 'usr/local/bin/comfyui-model-sync'))).toBe(false);
    expect(existsSync(path.join(root, 'etc/comfyui-model-sync.env'))).toBe(false);
    expect(log('systemctl')).toEqual([]);
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
  });

  it('keeps the document version token intact', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'nodes');
    const document = new SsmDocument(stack, 'files', { name: 'files', documentType: 'Command', content: '{}' });
    const nodeFiles = { ...BASE.nodeFiles, documentVersion: document.documentVersion };
    new TerraformOutput(stack, 'user_data', { value: renderNodeUserData({ ...BASE, nodeFiles }) });
    const value: string = JSON.parse(Testing.synth(stack)).output.user_data.value;
    expect(shellAssignment(value, 'version')).toBe('${aws_ssm_document.files.document_version}');
    expect(value.match(/\$\{/g)).toHaveLength(1);
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
    [{ nodeFiles: { documentName: 'files; reboot', documentVersion: '1', sha256: 'a'.repeat(64) } }, /nodeFiles\.documentName must be an SSM document name/],
    [{ nodeFiles: { documentName: 'files', documentVersion: '$LATEST', sha256: 'a'.repeat(64) } }, /nodeFiles\.documentVersion must be a document version number/],
    [{ nodeFiles: { documentName: 'files', documentVersion: '1', sha256: 'A'.repeat(64) } }, /nodeFiles\.sha256 must be 64 lowercase hex digits/],
    [{ nodeFiles: { documentName: 'files', documentVersion: '1', sha256: 'a'.repeat(63) } }, /nodeFiles\.sha256/],
  ])('refuses %j', (override, message) => {
    expect(() => renderNodeUserData({ ...BASE, ...override } as NodeUserDataProps)).toThrow(message);
  });

  it('names the missing scripts directory', () => {
    expect(() => renderNodeFilesInstaller('/nonexistent')).toThrow(/ENOENT.*\/nonexistent\/comfyui-model-sync/);
  });
});
