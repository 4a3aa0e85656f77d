/**
 * The Terraform-managed SSM Command document GPU nodes run for one model:
 * `comfyui-model-sync copy|delete KEY`.
 *
 * Why no S3 key can inject a command: both parameters use
 * `interpolationType: ENV_VAR`, so SSM Agent hands their values to the script
 * as the environment variables `SSM_action` and `SSM_key` and the command
 * text itself never contains a `{{ }}` placeholder. The shell expands
 * `"$SSM_key"` inside double quotes to exactly one argument and never parses
 * its contents as code, so `$(...)`, backticks, `;` and quotes in a key are
 * just characters of a file name. On top of that, SSM checks `action` against
 * allowedValues and `key` against an allowedPattern (the Lambda's own rules)
 * before the command leaves the service, and the node script re-validates.
 * An agent older than 3.3.2746.0 does not set the variables: the script then
 * refuses to run rather than fall back to placeholder interpolation.
 */
import { SsmDocument } from '@cdktf/provider-aws/lib/ssm-document';
import { Construct } from 'constructs';
import { ssmKeyAllowedPattern } from '../../lambdas/model-sync/keys';

export interface ModelSyncDocumentProps {
  /** Document name. */
  readonly name: string;
  /** Model folders a key must start with (config.models.prefixes). */
  readonly prefixes: readonly string[];
  /** Absolute path of the node-side sync command (nodeModelPaths(config).syncCommand). */
  readonly syncCommand: string;
  /** Seconds one copy/delete may run on a node. */
  readonly executionTimeoutSeconds: number;
}

/** The document content as an object (exported for tests, which run its script). */
export function modelSyncDocumentContent(props: Omit<ModelSyncDocumentProps, 'name'>): Record<string, unknown> {
  if (!/^\/[A-Za-z0-9_./-]+$/.test(props.syncCommand)) throw new Error(`syncCommand must be an absolute path of safe characters, got ${JSON.stringify(props.syncCommand)}`);
  return {
    schemaVersion: '2.2',
    description: 'Copies a model from the models bucket onto this GPU node, or deletes it (ComfyUI model sync).',
    parameters: {
      action: {
        type: 'String',
        description: 'copy: download the key to the node; delete: remove it from the node.',
        allowedValues: ['copy', 'delete'],
        interpolationType: 'ENV_VAR',
      },
      key: {
        type: 'String',
        description: 'Object key in the models bucket, <folder>/<path>. Passed to the script as $SSM_key, never interpolated into the command text.',
        allowedPattern: ssmKeyAllowedPattern(props.prefixes),
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
            'if ! printenv SSM_action >/dev/null || ! printenv SSM_key >/dev/null; then echo "model-sync: SSM Agent did not set SSM_action/SSM_key (needs 3.3.2746.0 or later); refusing to run" >&2; exit 64; fi',
            `exec ${props.syncCommand} "$SSM_action" "$SSM_key"`,
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
