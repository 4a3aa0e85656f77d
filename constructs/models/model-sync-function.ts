/**
 * The model-sync Lambda: bundled from lambdas/model-sync during synth, fed by
 * the model-sync queue with partial batch responses, logging to a log group
 * with retention, alarmed on errors, and allowed exactly what it does:
 *
 * - ssm:SendCommand with the model-sync document, on EC2 instances carrying
 *   the GPU node tag of this cluster (two statements: the tag condition would
 *   never match the untagged document);
 * - s3:ListBucket on the models bucket (does a key still exist after a
 *   version delete?), no object read;
 * - receive/delete on its queue; write to its own log group;
 * - X-Ray trace segments (active tracing: one trace per batch, showing
 *   where an invocation spent its time).
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/model-sync/settings';
import { lambdaExecutionRole } from '../identity/lambda-execution-role';
import { bundleLambda, LambdaBundle } from './lambda-bundle';
import { occurrenceAlarm } from './occurrence-alarm';

export interface ModelSyncFunctionProps {
  /** Function name. */
  readonly functionName: string;
  /** Region (instance ARNs in the policy). */
  readonly region: string;
  /** Account id (token). */
  readonly accountId: string;
  /** AWS partition of the instance ARNs. */
  readonly partition: string;
  /** Models bucket name and ARN. */
  readonly bucket: { readonly name: string; readonly arn: string };
  /** Model folders (config.models.prefixes). */
  readonly prefixes: readonly string[];
  /** File extensions a model key must end with (config.models.allowedExtensions). */
  readonly extensions: readonly string[];
  /** Queue feeding the function. */
  readonly queue: { readonly arn: string };
  /** The SSM document the function sends. */
  readonly document: { readonly name: string; readonly arn: string };
  /** EC2 tag selecting this cluster's GPU nodes (gpuNodeTag(config)). */
  readonly targetTag: { readonly key: string; readonly value: string };
  /** Log group receiving command output from the nodes. */
  readonly commandLogGroupName: string;
  /** SSM MaxConcurrency. */
  readonly commandMaxConcurrency: string;
  /** SSM MaxErrors. */
  readonly commandMaxErrors: string;
  /** SSM TimeoutSeconds (delivery). */
  readonly commandDeliveryTimeoutSeconds: number;
  /** SendCommand calls in flight per invocation. */
  readonly dispatchConcurrency: number;
  /** Function timeout in seconds. */
  readonly timeoutSeconds: number;
  /** Function memory in MB. */
  readonly memoryMb: number;
  /** SQS records per invocation. */
  readonly batchSize: number;
  /** Seconds SQS gathers a batch. */
  readonly maxBatchingWindowSeconds: number;
  /** Most batches processed at once. */
  readonly maxConcurrentBatches: number;
  /** Retention of the function's log group in days. */
  readonly logRetentionDays: number;
  /** KMS key ARN encrypting the function's log group. Default: CloudWatch Logs default encryption. */
  readonly logKmsKeyArn?: string;
  /** SNS topics notified by the errors alarm. Default: none. */
  readonly alarmActions?: readonly string[];
}

/** Runtime of the function; the bundle targets the same Node.js version. */
export const MODEL_SYNC_RUNTIME = { runtime: 'nodejs22.x', esbuildTarget: 'node22' } as const;

/** The function's entry point, relative to the project root. */
export const MODEL_SYNC_ENTRY = 'lambdas/model-sync/handler.ts';

export class ModelSyncFunction extends Construct {
  /** The function. */
  public readonly function: LambdaFunction;
  /** The function's log group. */
  public readonly logGroup: CloudwatchLogGroup;
  /** The bundle deployed (size and hash, for tests and benchmarks). */
  public readonly bundle: LambdaBundle;
  /** Alarm: the function itself failed (not a single key). */
  public readonly errorsAlarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: ModelSyncFunctionProps) {
    super(scope, id);

    // The AWS SDK is bundled (tree-shaken, minified) rather than taken from the
    // runtime: the deployed code then runs exactly the SDK version the tests ran.
    this.bundle = bundleLambda({ entry: MODEL_SYNC_ENTRY, target: MODEL_SYNC_RUNTIME.esbuildTarget });
    const asset = new TerraformAsset(this, 'Code', { path: this.bundle.directory, type: AssetType.ARCHIVE });

    this.logGroup = new CloudwatchLogGroup(this, 'LogGroup', {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });

    const role = lambdaExecutionRole(this, {
      functionName: props.functionName,
      description: 'Model-sync Lambda: reads S3 events from SQS, sends the model-sync SSM document to GPU nodes',
      accountId: props.accountId,
    });

    const permissions = new DataAwsIamPolicyDocument(this, 'Permissions', {
      statement: [
        {
          sid: 'SendModelSyncDocument',
          effect: 'Allow',
          actions: ['ssm:SendCommand'],
          resources: [props.document.arn],
        },
        {
          sid: 'SendToThisClustersGpuNodesOnly',
          effect: 'Allow',
          actions: ['ssm:SendCommand'],
          resources: [`arn:${props.partition}:ec2:${props.region}:${props.accountId}:instance/*`],
          condition: [{ test: 'StringEquals', variable: `ssm:resourceTag/${props.targetTag.key}`, values: [props.targetTag.value] }],
        },
        {
          sid: 'CheckKeyExistsAfterVersionDelete',
          effect: 'Allow',
          actions: ['s3:ListBucket'],
          resources: [props.bucket.arn],
        },
        {
          sid: 'ConsumeModelSyncQueue',
          effect: 'Allow',
          actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
          resources: [props.queue.arn],
        },
        {
          sid: 'WriteOwnLogs',
          effect: 'Allow',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [`${this.logGroup.arn}:*`],
        },
        {
          // X-Ray has no resource-level permissions for these two calls.
          sid: 'WriteTraces',
          effect: 'Allow',
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        },
      ],
    });
    const policy = new IamRolePolicy(this, 'Policy', { name: 'model-sync', role: role.id, policy: permissions.json });

    this.function = new LambdaFunction(this, 'Function', {
      functionName: props.functionName,
      description: 'Tells every GPU node to copy or delete a model when the models bucket changes',
      role: role.arn,
      runtime: MODEL_SYNC_RUNTIME.runtime,
      // Plain JavaScript: Graviton is cheaper for the same work.
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: this.bundle.sha256,
      timeout: props.timeoutSeconds,
      memorySize: props.memoryMb,
      loggingConfig: { logFormat: 'Text', logGroup: this.logGroup.name },
      tracingConfig: { mode: 'Active' },
      environment: {
        variables: {
          [ENV.bucket]: props.bucket.name,
          [ENV.prefixes]: props.prefixes.join(','),
          [ENV.extensions]: props.extensions.join(','),
          [ENV.documentName]: props.document.name,
          [ENV.targetTagKey]: props.targetTag.key,
          [ENV.targetTagValue]: props.targetTag.value,
          [ENV.outputLogGroup]: props.commandLogGroupName,
          [ENV.maxConcurrency]: props.commandMaxConcurrency,
          [ENV.maxErrors]: props.commandMaxErrors,
          [ENV.deliveryTimeoutSeconds]: String(props.commandDeliveryTimeoutSeconds),
          [ENV.dispatchConcurrency]: String(props.dispatchConcurrency),
        },
      },
      // The log group must exist before the first invocation, or Lambda creates one without retention.
      dependsOn: [this.logGroup],
    });

    new LambdaEventSourceMapping(this, 'QueueSource', {
      eventSourceArn: props.queue.arn,
      functionName: this.function.arn,
      batchSize: props.batchSize,
      maximumBatchingWindowInSeconds: props.maxBatchingWindowSeconds,
      functionResponseTypes: ['ReportBatchItemFailures'],
      scalingConfig: { maximumConcurrency: props.maxConcurrentBatches },
      // Lambda checks the role may read the queue when the mapping is created.
      dependsOn: [policy],
    });

    this.errorsAlarm = occurrenceAlarm(this, 'ErrorsAlarm', {
      alarmName: `${props.functionName}-errors`,
      description: 'The model-sync Lambda failed as a whole (bad settings, crash, timeout); every message of those batches is retried.',
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      dimensions: { FunctionName: this.function.functionName },
      actions: props.alarmActions,
    });
  }
}
