/**
 * The Terraform-managed SSM Command document GPU nodes run for one batch of
 * model changes: `comfyui-model-sync apply CHANGES`, where CHANGES is one
 * line per key, `copy|delete <event-epoch-seconds> <key>`.
 *
 * Why no S3 key can inject a command: the parameter uses
 * `interpolationType: ENV_VAR`, so SSM Agent hands its value to the script as
 * the environment variable `SSM_changes` and the command text itself never
 * contains a `{{ }}` placeholder. The shell expands `"$SSM_changes"` inside
 * double quotes to exactly one argument and never parses its contents as
 * code, so `$(...)`, backticks, `;` and quotes in a key are just characters
 * of a file name. On top of that, SSM checks the value against an
 * allowedPattern (every line an action, a number and a key by the Lambda's own
 * rules; keys hold no line break, so lines cannot be forged) before the
 * command leaves the service, and the node script re-validates every key.
 * Keys cannot hold `{` or `}`, so SSM finds no `{{ssm:...}}` reference to
 * resolve in the value. An agent older than 3.3.2746.0 does not set the
 * variable: the script then refuses to run rather than fall back to
 * placeholder interpolation.
 */
import { SsmDocument } from '@cdktf/provider-aws/lib/ssm-document';
import { Construct } from 'constructs';
import { ssmKeyPattern } from '../../lambdas/model-sync/keys';

export interface ModelSyncDocumentProps {
  /** Document name. */
  readonly name: string;
  /** Model folders a key must start with (config.models.prefixes). */
  readonly prefixes: readonly string[];
  /** File extensions a key must end with (config.models.allowedExtensions). */
  readonly extensions: readonly string[];
  /** Absolute path of the node-side sync command (nodeModelPaths(config).syncCommand). */
  readonly syncCommand: string;
  /** Seconds one copy/delete may run on a node. */
  readonly executionTimeoutSeconds: number;
}

/**
 * The allowedPattern of `changes`: one or more lines `copy|delete <digits> <key>`
 * separated by `\n`, each key matching the Lambda's rules. Unanchored `$`
 * inside the group ends the last line; no look-arounds (Java and JavaScript agree).
 */
export function changesAllowedPattern(prefixes: readonly string[], extensions: readonly string[]): string {
  return `^(?:(?:copy|delete) [0-9]{1,12} ${ssmKeyPattern(prefixes, extensions)}(?:\n|$))+$`;
}

/** The document content as an object (exported for tests, which run its script). */
export function modelSyncDocumentContent(props: Omit<ModelSyncDocumentProps, 'name'>): Record<string, unknown> {
  if (!/^\/[A-Za-z0-9_./-]+$/.test(props.syncCommand)) throw new Error(`syncCommand must be an absolute path of safe characters, got ${JSON.stringify(props.syncCommand)}`);
  return {
    schemaVersion: '2.2',
    description: 'Copies models from the models bucket onto this GPU node, or deletes them (ComfyUI model sync).',
    parameters: {
      changes: {
        type: 'String',
        description: 'One line per model: copy|delete <S3 event time, epoch seconds> <key>. Passed to the script as $SSM_changes, never interpolated into the command text.',
        allowedPattern: changesAllowedPattern(props.prefixes, props.extensions),
        interpolationType: 'ENV_VAR',
      },
    },
    mainSteps: [
      {
        action: 'aws:runShellScript',
        name: 'syncModel',
        precondition: { StringEquals: ['platformType', 'Linux'] },
        inputs: {
          timeoutSeconds: String(props.executionTimeoutSeconds),
          runCommand: [
            'set -eu',
            // Agents before 3.3.2746.0 ignore interpolationType; never fall back to {{ }} placeholders.
            // (printenv rather than ${VAR+set}: Terraform would read "${" in the content as interpolation.)
            'if ! printenv SSM_changes >/dev/null; then echo "model-sync: SSM Agent did not set SSM_changes (needs 3.3.2746.0 or later); refusing to run" >&2; exit 64; fi',
            `exec ${props.syncCommand} apply "$SSM_changes"`,
          ],
        },
      },
    ],
  };
}

export class ModelSyncDocument extends Construct {
  /** Document name (SendCommand DocumentName). */
  public readonly name: string;
  /** Document ARN (the Lambda's ssm:SendCommand resource). */
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: ModelSyncDocumentProps) {
    super(scope, id);
    const document = new SsmDocument(this, 'Document', {
      name: props.name,
      documentType: 'Command',
      documentFormat: 'JSON',
      targetType: '/AWS::EC2::Instance',
      content: JSON.stringify(modelSyncDocumentContent(props), null, 2),
    });
    this.name = document.name;
    this.arn = document.arn;
  }
}
