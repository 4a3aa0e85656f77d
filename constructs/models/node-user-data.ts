/**
 * User data that installs the node side of model sync on GPU nodes (AL2023):
 * /usr/local/bin/comfyui-model-sync, its systemd units and its env file, then
 * starts them without waiting, so the node registers and pulls images while
 * models download. Only the boot-time mount unit (prepare-disk, no network)
 * orders itself before the kubelet, so pods restarted after a reboot see the
 * models disk. Karpenter merges this MIME document with its own NodeConfig
 * part into the EC2NodeClass's launch template.
 *
 * Size: EC2 caps user data at 16 KiB and Karpenter's NodeConfig part (cluster
 * CA, endpoint, kubelet flags) takes 2-3 KiB of it, so the files travel as one
 * gzip payload (deterministic-gzip.ts keeps synth reproducible), with comment
 * lines removed; scripts/node/ holds the commented originals.
 *
 * Terraform: the bucket name may be a token (`${aws_s3_bucket.models.bucket}`,
 * or a remote-state output) that Terraform resolves in place. Everything else
 * is base64 or validated plain text, so no other `${` or `%{` reaches
 * Terraform's template parser.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { Token } from 'cdktf';
import { NODE_SYNC_COMMAND } from '../../config/naming';
import { DEFAULT_MODEL_EXTENSIONS, EXTENSION_PATTERN } from '../../lambdas/model-sync/keys';
import { gzipDeterministic } from './deterministic-gzip';

/** Inputs of {@link renderNodeUserData}. */
export interface NodeUserDataProps {
  /** Models bucket name; a Terraform token string is kept intact. */
  readonly modelsBucketName: string;
  /** AWS region of the models bucket. */
  readonly region: string;
  /** Where models live on the node (config.models.nodePath). */
  readonly modelsDir: string;
  /** Model folders synced from the bucket (config.models.prefixes). */
  readonly folders: readonly string[];
  /** File extensions a model key must end with (config.models.allowedExtensions). Default: DEFAULT_MODEL_EXTENSIONS. */
  readonly extensions?: readonly string[];
  /** EKS cluster name: the nodes publish ComfyUI/ModelSync metrics with it. Default: no metrics. */
  readonly clusterName?: string;
  /** Minutes between reconciles with the bucket (config.models.reconcileIntervalMinutes). */
  readonly reconcileIntervalMinutes: number;
  /** Files a full sync downloads at once. Default: 4. */
  readonly parallelDownloads?: number;
  /** Directory holding comfyui-model-sync and its units. Default: this project's scripts/node. */
  readonly scriptsDir?: string;
}

/** MIME boundary; cannot occur in base64 or in the validated env lines. */
export const USER_DATA_BOUNDARY = 'COMFYUI-MODEL-SYNC-BOUNDARY';
/** Env file the script reads (its default path). */
export const NODE_ENV_FILE = '/etc/comfyui-model-sync.env';

const UNIT_DIR = '/etc/systemd/system';
const MOUNT_UNIT = 'comfyui-model-sync-mount.service';
const INITIAL_UNIT = 'comfyui-model-sync-initial.service';
const RECONCILE_TIMER = 'comfyui-model-sync-reconcile.timer';
const HEREDOC_END = 'COMFYUI_MODEL_SYNC_EOF';

/**
 * Files installed from scripts/node/, by their path on the node. The command
 * goes where config/naming.ts says (nodeModelPaths().syncCommand, which the SSM
 * document runs); the units' ExecStart lines are checked against it.
 */
const NODE_FILES: ReadonlyArray<{ readonly source: string; readonly target: string; readonly mode: string }> = [
  { source: 'comfyui-model-sync', target: NODE_SYNC_COMMAND, mode: '0755' },
  { source: MOUNT_UNIT, target: `${UNIT_DIR}/${MOUNT_UNIT}`, mode: '0644' },
  { source: INITIAL_UNIT, target: `${UNIT_DIR}/${INITIAL_UNIT}`, mode: '0644' },
  { source: 'comfyui-model-sync-reconcile.service', target: `${UNIT_DIR}/comfyui-model-sync-reconcile.service`, mode: '0644' },
  { source: RECONCILE_TIMER, target: `${UNIT_DIR}/${RECONCILE_TIMER}`, mode: '0644' },
];

const DEFAULTS = { parallelDownloads: 4, extensions: DEFAULT_MODEL_EXTENSIONS };

/** scripts/node of this project, from the sources (constructs/models) or the esbuild bundle (.build). */
function defaultScriptsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'scripts', 'node');
    if (existsSync(path.join(candidate, 'comfyui-model-sync'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`renderNodeUserData: scripts/node/comfyui-model-sync not found above ${__dirname}; pass scriptsDir`);
}

/**
 * Drops full-line `#` comments and blank lines; keeps the shebang. The node script has no heredoc or multi-line string whose lines
 * start with `#`; the tests run the stripped copy.
 */
export function stripComments(text: string): string {
  const lines = text.split('\n');
  const kept = lines.filter((line, i) => (i === 0 && line.startsWith('#!')) || !/^\s*(#.*)?$/.test(line));
  // Indentation means nothing to bash or systemd and costs user-data bytes (EC2 allows 16 KiB).
  return `${kept.map((line) => line.replace(/^[ \t]+/, '')).join('\n')}\n`;
}

function fail(field: string, reason: string, value: unknown): never {
  throw new Error(`renderNodeUserData: ${field} ${reason}, got ${JSON.stringify(value)}`);
}

function validate(props: NodeUserDataProps): Required<Omit<NodeUserDataProps, 'scriptsDir' | 'clusterName'>> & Pick<NodeUserDataProps, 'clusterName'> {
  const merged = { ...DEFAULTS, ...props };
  // A literal name, a cdktf token, or Terraform interpolations inside name characters
  // (`comfyui-dev-models-${data.aws_caller_identity.current.account_id}-us-west-2`).
  const name = merged.modelsBucketName;
  const literal = name.replace(/\$\{[^{}\s]+\}/g, '');
  const valid = Token.isUnresolved(name)
    ? !/\s/.test(name)
    : literal === name
      ? /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)
      : /^[a-z0-9.-]*$/.test(literal);
  if (!valid) fail('modelsBucketName', 'must be an S3 bucket name (literal, cdktf token or Terraform interpolation)', name);
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(merged.region)) fail('region', 'must be an AWS region name such as us-east-1', merged.region);
  if (!/^\/[A-Za-z0-9_./-]+$/.test(merged.modelsDir) || /(^|\/)\.\.?(\/|$)|\/\/|\/$/.test(merged.modelsDir)) {
    fail('modelsDir', "must be an absolute path of letters, digits and _ . / - without '.', '..' or empty segments or a trailing '/'", merged.modelsDir);
  }
  if (merged.folders.length === 0) fail('folders', 'must list at least one model folder', merged.folders);
  for (const folder of merged.folders) {
    if (!/^[a-z0-9_]+$/.test(folder)) fail('folders', 'must be ComfyUI model folder names (a-z, 0-9, _)', folder);
  }
  if (!Number.isInteger(merged.reconcileIntervalMinutes) || merged.reconcileIntervalMinutes < 1 || merged.reconcileIntervalMinutes > 1440) {
    fail('reconcileIntervalMinutes', 'must be a whole number of minutes from 1 to 1440', merged.reconcileIntervalMinutes);
  }
  if (merged.extensions.length === 0) fail('extensions', 'must list at least one file extension', merged.extensions);
  for (const extension of merged.extensions) {
    if (!EXTENSION_PATTERN.test(extension)) fail('extensions', 'must be a dot and 1-16 lowercase letters or digits', extension);
  }
  if (merged.clusterName !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(merged.clusterName)) fail('clusterName', 'must be an EKS cluster name', merged.clusterName);
  if (!Number.isInteger(merged.parallelDownloads) || merged.parallelDownloads < 1 || merged.parallelDownloads > 99) {
    fail('parallelDownloads', 'must be a whole number from 1 to 99', merged.parallelDownloads);
  }
  return merged;
}

/** A quoted heredoc writing `content` to `target`: the shell expands nothing in it. */
function heredoc(target: string, mode: string, content: string): string {
  if (content.split('\n').includes(HEREDOC_END)) throw new Error(`renderNodeUserData: ${target} contains the line ${HEREDOC_END}`);
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return `cat > ${target} <<'${HEREDOC_END}'\n${body}${HEREDOC_END}\nchmod ${mode} ${target}\n`;
}

/** A unit file's content, refused when an ExecStart runs anything but the installed command. */
function checkedUnit(source: string, content: string): string {
  for (const line of content.split('\n').filter((l) => l.startsWith('ExecStart='))) {
    if (!line.startsWith(`ExecStart=${NODE_SYNC_COMMAND} `)) {
      throw new Error(`renderNodeUserData: ${source} runs ${JSON.stringify(line.slice('ExecStart='.length))}, not ${NODE_SYNC_COMMAND} (config/naming.ts NODE_SYNC_COMMAND)`);
    }
  }
  return content;
}

/** Base64 in 76-character lines. */
function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join('\n');
}

/** AL2023 MIME multi-part user data installing and starting the node-side model sync. */
export function renderNodeUserData(props: NodeUserDataProps): string {
  const p = validate(props);
  const scriptsDir = props.scriptsDir ?? defaultScriptsDir();

  // The payload installer: files only, no tokens; runs as root under cloud-init.
  const payload = [
    'set -euo pipefail',
    `install -d -m 0755 ${path.posix.dirname(NODE_SYNC_COMMAND)} ${UNIT_DIR}/${MOUNT_UNIT}.d ${UNIT_DIR}/${RECONCILE_TIMER}.d`,
    ...NODE_FILES.map((f) => {
      const content = stripComments(readFileSync(path.join(scriptsDir, f.source), 'utf8'));
      return heredoc(f.target, f.mode, f.source.endsWith('.service') ? checkedUnit(f.source, content) : content);
    }),
    // Waits for the fstab mount of the models file system (nofail, so not before local-fs.target).
    heredoc(`${UNIT_DIR}/${MOUNT_UNIT}.d/models-dir.conf`, '0644', `[Unit]\nRequiresMountsFor=${p.modelsDir}\n`),
    heredoc(
      `${UNIT_DIR}/${RECONCILE_TIMER}.d/interval.conf`,
      '0644',
      `[Timer]\nOnUnitActiveSec=\nOnUnitActiveSec=${p.reconcileIntervalMinutes}min\n`,
    ),
  ].join('\n');

  const env = [
    `MODELS_BUCKET=${p.modelsBucketName}`,
    `MODELS_REGION=${p.region}`,
    `MODELS_DIR=${p.modelsDir}`,
    `MODEL_FOLDERS=${p.folders.join(' ')}`,
    `MODEL_EXTENSIONS=${p.extensions.join(' ')}`,
    ...(p.clusterName ? [`CLUSTER_NAME=${p.clusterName}`] : []),
    `SYNC_PARALLEL_DOWNLOADS=${p.parallelDownloads}`,
  ].join('\n');

  const shell = [
    '#!/usr/bin/env bash',
    `# ComfyUI model sync (docs/models.md): installs ${NODE_SYNC_COMMAND} and its`,
    '# systemd units, then starts them with --no-block so cloud-init, nodeadm and the kubelet',
    '# do not wait for the model download (the kubelet waits only for the mount unit).',
    'set -euo pipefail',
    'umask 022',
    `cat > ${NODE_ENV_FILE} <<'COMFYUI_MODEL_SYNC_ENV'`,
    env,
    'COMFYUI_MODEL_SYNC_ENV',
    `chmod 0644 ${NODE_ENV_FILE}`,
    'payload=$(mktemp)',
    `base64 -d > "$payload.gz" <<'COMFYUI_MODEL_SYNC_PAYLOAD'`,
    base64Lines(gzipDeterministic(Buffer.from(payload, 'utf8'))),
    'COMFYUI_MODEL_SYNC_PAYLOAD',
    'gunzip -c "$payload.gz" > "$payload"',
    'bash "$payload"',
    'rm -f "$payload" "$payload.gz"',
    'systemctl daemon-reload',
    `systemctl enable --now --no-block ${MOUNT_UNIT} ${RECONCILE_TIMER}`,
    `systemctl start --no-block ${INITIAL_UNIT}`,
  ].join('\n');

  return [
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${USER_DATA_BOUNDARY}"`,
    '',
    `--${USER_DATA_BOUNDARY}`,
    'Content-Type: text/x-shellscript; charset="us-ascii"',
    '',
    shell,
    `--${USER_DATA_BOUNDARY}--`,
    '',
  ].join('\n');
}
