/**
 * The node side of model sync, delivered outside the user data: a
 * Terraform-managed SSM Command document whose one step is the installer of
 * /usr/local/bin/comfyui-model-sync and its systemd units (scripts/node/,
 * comment lines stripped). GPU nodes read it at boot with ssm:GetDocument on
 * exactly this document, pinned to the version Terraform wrote, and run it
 * only when its sha256 equals the one embedded in their user data
 * (node-user-data.ts; why and how in docs/model-sync.md).
 *
 * Why not in the user data: EC2 caps user data at 16 KiB, Karpenter's
 * NodeConfig takes about 3 KiB of it, and the script alone outgrew the rest
 * even gzipped. An SSM document holds up to 64 KB, is versioned (a node booted
 * with an older user data still reads the version it expects), encrypted at
 * rest by SSM, and needs no bucket of its own. As a Command document it can
 * also be sent to running nodes to reinstall the files.
 *
 * Terraform reads `${` and `%{` in the content as template syntax; the script
 * is full of `${...}`, so the content is escaped (`$${`, `%%{`) and Terraform
 * writes it to SSM unescaped.
 */
import { createHash } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { SsmDocument } from '@cdktf/provider-aws/lib/ssm-document';
import { Construct } from 'constructs';
import { NODE_SYNC_COMMAND } from '../../config/naming';

/** systemd unit directory on the node. */
export const UNIT_DIR = '/etc/systemd/system';
/** The unit that mounts the models disk before the kubelet (a drop-in adds RequiresMountsFor). */
export const MOUNT_UNIT = 'comfyui-model-sync-mount.service';
/** The first full sync after boot. */
export const INITIAL_UNIT = 'comfyui-model-sync-initial.service';
/** The reconcile timer (a drop-in sets its interval). */
export const RECONCILE_TIMER = 'comfyui-model-sync-reconcile.timer';
/** Delimiter of the quoted heredocs that write files. */
export const HEREDOC_END = 'COMFYUI_MODEL_SYNC_EOF';

/**
 * Files installed from scripts/node/, by their path on the node. The command
 * goes where config/naming.ts says (nodeModelPaths().syncCommand, which the
 * model-sync SSM document runs); the units' ExecStart lines are checked against it.
 */
const NODE_FILES: ReadonlyArray<{ readonly source: string; readonly target: string; readonly mode: string }> = [
  { source: 'comfyui-model-sync', target: NODE_SYNC_COMMAND, mode: '0755' },
  { source: MOUNT_UNIT, target: `${UNIT_DIR}/${MOUNT_UNIT}`, mode: '0644' },
  { source: INITIAL_UNIT, target: `${UNIT_DIR}/${INITIAL_UNIT}`, mode: '0644' },
  { source: 'comfyui-model-sync-reconcile.service', target: `${UNIT_DIR}/comfyui-model-sync-reconcile.service`, mode: '0644' },
  { source: RECONCILE_TIMER, target: `${UNIT_DIR}/${RECONCILE_TIMER}`, mode: '0644' },
];

/** Name of the document's one step. */
const STEP_NAME = 'installNodeFiles';

/** scripts/node of this project, from the sources (constructs/models) or the esbuild bundle (.build). */
function defaultScriptsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'scripts', 'node');
    if (existsSync(path.join(candidate, 'comfyui-model-sync'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`node files: scripts/node/comfyui-model-sync not found above ${__dirname}; pass scriptsDir`);
}

/**
 * Drops full-line `#` comments and blank lines; keeps the shebang. The node script has no heredoc or multi-line string whose lines
 * start with `#`; the tests run the stripped copy.
 */
export function stripComments(text: string): string {
  const lines = text.split('\n');
  const kept = lines.filter((line, i) => (i === 0 && line.startsWith('#!')) || !/^\s*(#.*)?$/.test(line));
  // Indentation means nothing to bash or systemd and costs bytes (the document holds up to 64 KB).
  return `${kept.map((line) => line.replace(/^[ \t]+/, '')).join('\n')}\n`;
}

/** A quoted heredoc writing `content` to `target`: the shell expands nothing in it. */
export function heredoc(target: string, mode: string, content: string): string {
  if (content.split('\n').includes(HEREDOC_END)) throw new Error(`node files: ${target} contains the line ${HEREDOC_END}`);
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return `cat > ${target} <<'${HEREDOC_END}'\n${body}${HEREDOC_END}\nchmod ${mode} ${target}\n`;
}

/** A unit file's content, refused when an ExecStart runs anything but the installed command. */
function checkedUnit(source: string, content: string): string {
  for (const line of content.split('\n').filter((l) => l.startsWith('ExecStart='))) {
    if (!line.startsWith(`ExecStart=${NODE_SYNC_COMMAND} `)) {
      throw new Error(`node files: ${source} runs ${JSON.stringify(line.slice('ExecStart='.length))}, not ${NODE_SYNC_COMMAND} (config/naming.ts NODE_SYNC_COMMAND)`);
    }
  }
  return content;
}

/**
 * The installer the document carries: writes the command and its units with
 * their modes, and creates the drop-in directories the user data fills.
 * Static (no props, no tokens), so its sha256 is known at synth.
 */
export function renderNodeFilesInstaller(scriptsDir: string = defaultScriptsDir()): string {
  return [
    'set -euo pipefail',
    `install -d -m 0755 ${path.posix.dirname(NODE_SYNC_COMMAND)} ${UNIT_DIR}/${MOUNT_UNIT}.d ${UNIT_DIR}/${RECONCILE_TIMER}.d`,
    ...NODE_FILES.map((f) => {
      const content = stripComments(readFileSync(path.join(scriptsDir, f.source), 'utf8'));
      return heredoc(f.target, f.mode, f.source.endsWith('.service') ? checkedUnit(f.source, content) : content);
    }),
  ].join('\n');
}

/** Hex sha256 of a UTF-8 string: what the user data checks the fetched installer against. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The document content (a Command document, schema 2.2) carrying `installer` as its one step. */
export function nodeFilesDocumentContent(installer: string): Record<string, unknown> {
  return {
    schemaVersion: '2.2',
    description: `Installs ${NODE_SYNC_COMMAND} and its systemd units (ComfyUI model sync). GPU nodes read it at boot and run it only if its sha256 matches their user data.`,
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: STEP_NAME,
        precondition: { StringEquals: ['platformType', 'Linux'] },
        // One element: the installer, byte for byte (the user data hashes exactly this string).
        inputs: { runCommand: [installer] },
      },
    ],
  };
}

/** The installer inside a document content as SSM returns it (the node does the same in Python). */
export function installerFromDocumentContent(content: string): string {
  return JSON.parse(content).mainSteps[0].inputs.runCommand[0];
}

/** Escapes Terraform template syntax so Terraform writes `text` verbatim. */
export function escapeTerraformTemplate(text: string): string {
  // Function replacers: in a replacement string, '$$' would mean one '$'.
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

export interface NodeFilesDocumentProps {
  /** Document name (config/naming.ts nodeFilesDocumentName); the user data names it too. */
  readonly name: string;
  /** Directory holding comfyui-model-sync and its units. Default: this project's scripts/node. */
  readonly scriptsDir?: string;
}

export class NodeFilesDocument extends Construct {
  /** Document name. */
  public readonly name: string;
  /** Document ARN (the node role's ssm:GetDocument resource). */
  public readonly arn: string;
  /** Document version Terraform wrote (the user data fetches this version). */
  public readonly version: string;
  /** Hex sha256 of the installer (the user data refuses anything else). */
  public readonly sha256: string;
  /** The installer the document carries. */
  public readonly installer: string;

  constructor(scope: Construct, id: string, props: NodeFilesDocumentProps) {
    super(scope, id);
    this.installer = renderNodeFilesInstaller(props.scriptsDir);
    this.sha256 = sha256Hex(this.installer);
    const document = new SsmDocument(this, 'Document', {
      name: props.name,
      documentType: 'Command',
      documentFormat: 'JSON',
      targetType: '/AWS::EC2::Instance',
      content: escapeTerraformTemplate(JSON.stringify(nodeFilesDocumentContent(this.installer), null, 2)),
    });
    this.name = props.name;
    this.arn = document.arn;
    this.version = document.documentVersion;
  }
}
