/**
 * User data that installs the node side of model sync on GPU nodes (AL2023).
 * It carries the env file, two small systemd drop-ins and a fetcher; the
 * command and its units (50 KB of shell) come from the Terraform-managed SSM
 * document of node-files-document.ts. At boot the fetcher reads that
 * document (the version Terraform wrote) with the node's instance role,
 * retrying with backoff while IAM and SSM settle, checks the installer's
 * sha256 against the one embedded here and refuses to run anything else,
 * installs the files, then starts the units without waiting, so the node
 * registers and pulls images while models download. Only the boot-time mount
 * unit (prepare-disk, no network) orders itself before the kubelet, so pods
 * restarted after a reboot see the models disk. Karpenter merges this MIME
 * document with its own NodeConfig part into the EC2NodeClass's launch template.
 *
 * Size: EC2 caps user data at 16 KiB and Karpenter's NodeConfig part takes
 * 2-3 KiB of it; this part stays near 2 KiB whatever the script grows to.
 *
 * Terraform: the bucket name and the document version may be tokens
 * (`${aws_s3_bucket.models.bucket}`, remote-state outputs) that Terraform
 * resolves in place. Everything else is validated plain text without `${`
 * or `%{`, so nothing else reaches Terraform's template parser.
 */
import { Token } from 'cdktf';
import { DEFAULT_MODEL_EXTENSIONS, EXTENSION_PATTERN } from '../../lambdas/model-sync/keys';
import { heredoc, INITIAL_UNIT, MOUNT_UNIT, RECONCILE_TIMER, UNIT_DIR } from './node-files-document';

/** Where the node reads its files from: the SSM document of node-files-document.ts. */
export interface NodeFilesRef {
  /** Document name. */
  readonly documentName: string;
  /** Document version to read; a Terraform token string is kept intact. */
  readonly documentVersion: string;
  /** Hex sha256 of the installer the document carries. */
  readonly sha256: string;
}

/** Inputs of {@link renderNodeUserData}. */
export interface NodeUserDataProps {
  /** Models bucket name; a Terraform token string is kept intact. */
  readonly modelsBucketName: string;
  /** AWS region of the models bucket and of the node files document. */
  readonly region: string;
  /** The SSM document holding the command and its units. */
  readonly nodeFiles: NodeFilesRef;
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
}

/** MIME boundary; cannot occur in the validated lines of the shell part. */
export const USER_DATA_BOUNDARY = 'COMFYUI-MODEL-SYNC-BOUNDARY';
/** Env file the script reads (its default path). */
export const NODE_ENV_FILE = '/etc/comfyui-model-sync.env';
/** Attempts to read the document before the boot gives up (backoff 2, 4, 8, 16, 32 s between them). */
export const NODE_FILES_FETCH_ATTEMPTS = 6;

const DEFAULTS = { parallelDownloads: 4, extensions: DEFAULT_MODEL_EXTENSIONS };

function fail(field: string, reason: string, value: unknown): never {
  throw new Error(`renderNodeUserData: ${field} ${reason}, got ${JSON.stringify(value)}`);
}

function validate(props: NodeUserDataProps): Required<Omit<NodeUserDataProps, 'clusterName'>> & Pick<NodeUserDataProps, 'clusterName'> {
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
  const files = merged.nodeFiles;
  if (!/^[A-Za-z0-9_.-]{3,128}$/.test(files.documentName)) fail('nodeFiles.documentName', 'must be an SSM document name (3-128 of A-Z a-z 0-9 _ . -)', files.documentName);
  if (!(Token.isUnresolved(files.documentVersion) ? !/\s/.test(files.documentVersion) : /^([1-9][0-9]{0,9}|\$\{[^{}\s]+\})$/.test(files.documentVersion))) {
    fail('nodeFiles.documentVersion', 'must be a document version number, a cdktf token or one Terraform interpolation', files.documentVersion);
  }
  if (!/^[0-9a-f]{64}$/.test(files.sha256)) fail('nodeFiles.sha256', 'must be 64 lowercase hex digits', files.sha256);
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

/** AL2023 MIME multi-part user data installing and starting the node-side model sync. */
export function renderNodeUserData(props: NodeUserDataProps): string {
  const p = validate(props);
  const { documentName, documentVersion, sha256 } = p.nodeFiles;

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
    '# ComfyUI model sync (docs/model-sync.md): reads the node files from an SSM document,',
    '# runs them only if their sha256 matches, then starts the units with --no-block so',
    '# cloud-init, nodeadm and the kubelet do not wait for the model download.',
    'set -euo pipefail',
    'umask 022',
    `doc=${documentName}`,
    `version=${documentVersion}`,
    `want=${sha256}`,
    'log() { echo "comfyui-model-sync user data: $*" >&2; }',
    'files=$(mktemp)',
    "trap 'rm -f \"$files\"' EXIT",
    // SSM returns the content as a JSON string; the installer is the one command of its one step.
    'fetch() {',
    `aws ssm get-document --region ${p.region} --name "$doc" --document-version "$version" --query Content --output json |`,
    'python3 -c \'import json,sys; sys.stdout.write(json.loads(json.load(sys.stdin))["mainSteps"][0]["inputs"]["runCommand"][0])\' > "$files"',
    '}',
    // The instance role may not be usable yet right after launch (IAM and SSM are eventually consistent).
    'attempt=1',
    'until fetch; do',
    `if [ "$attempt" -ge ${NODE_FILES_FETCH_ATTEMPTS} ]; then log "FAILED to read SSM document $doc version $version after $attempt attempts; model sync is NOT installed"; exit 1; fi`,
    'log "reading SSM document $doc version $version failed (attempt $attempt), retrying in $((2 ** attempt))s"',
    'sleep $((2 ** attempt))',
    'attempt=$((attempt + 1))',
    'done',
    'got=$(sha256sum "$files" | cut -d" " -f1)',
    'if [ "$got" != "$want" ]; then log "REFUSED SSM document $doc version $version: sha256 $got, user data expects $want; model sync is NOT installed"; exit 1; fi',
    'bash "$files"',
    `cat > ${NODE_ENV_FILE} <<'COMFYUI_MODEL_SYNC_ENV'`,
    env,
    'COMFYUI_MODEL_SYNC_ENV',
    `chmod 0644 ${NODE_ENV_FILE}`,
    // Waits for the fstab mount of the models file system (nofail, so not before local-fs.target).
    heredoc(`${UNIT_DIR}/${MOUNT_UNIT}.d/models-dir.conf`, '0644', `[Unit]\nRequiresMountsFor=${p.modelsDir}\n`).trimEnd(),
    heredoc(`${UNIT_DIR}/${RECONCILE_TIMER}.d/interval.conf`, '0644', `[Timer]\nOnUnitActiveSec=\nOnUnitActiveSec=${p.reconcileIntervalMinutes}min\n`).trimEnd(),
    'systemctl daemon-reload',
    `systemctl enable --now --no-block ${MOUNT_UNIT} ${RECONCILE_TIMER}`,
    `systemctl start --no-block ${INITIAL_UNIT}`,
    'log "installed $doc version $version (sha256 $got)"',
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
