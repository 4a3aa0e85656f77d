import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SsmDocument } from '@cdktf/provider-aws/lib/ssm-document';
import { App, Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { ModelSyncStack } from '../../stacks/model-sync-stack';
import { StorageOutputs } from '../../stacks/contracts';
import { testConfig } from '../helpers/config';

const STORAGE: StorageOutputs = {
  modelsBucket: { name: 'comfyui-dev-models-123456789012-us-west-2', arn: 'arn:aws:s3:::comfyui-dev-models-123456789012-us-west-2' },
  outputsBucket: { name: 'outputs', arn: 'arn:aws:s3:::outputs' },
  inputsBucket: { name: 'inputs', arn: 'arn:aws:s3:::inputs' },
  logsBucket: { name: 'logs', arn: 'arn:aws:s3:::logs' },
  dataKeyArn: 'arn:aws:kms:us-west-2:123456789012:key/abc',
};

function synthModelSync(input: ConfigInput = {}) {
  const app = Testing.app();
  const stack = new ModelSyncStack(app, 'model-sync', { config: testConfig(input), storage: STORAGE });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}

/** The IAM statements of the Lambda's permissions policy document. */
function lambdaStatements(parsed: any): any[] {
  const docs = parsed.data.aws_iam_policy_document;
  return docs[Object.keys(docs).find((k) => k.startsWith('Function_Permissions'))!].statement;
}

describe('ModelSyncStack', () => {
  const { stack, synth, parsed } = synthModelSync();

  it('sends create and remove events of the models bucket to the queue, after the queue policy exists', () => {
    expect(synth).toHaveResourceWithProperties(S3BucketNotification, {
      bucket: STORAGE.modelsBucket.name,
      queue: [{ id: 'model-sync', queue_arn: expect.stringMatching(/^\$\{aws_sqs_queue\.Queue_[A-Z0-9]+\.arn\}$/), events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] }],
      depends_on: [expect.stringMatching(/^aws_sqs_queue_policy\.Queue_QueuePolicy_/)],
    });
  });

  it('encrypts both queues, dead-letters after maxReceiveCount and sizes the visibility timeout from the function timeout', () => {
    const queues = Object.values(parsed.resource.aws_sqs_queue) as any[];
    expect(queues).toHaveLength(2);
    for (const q of queues) expect(q.sqs_managed_sse_enabled).toBe(true);
    expect(synth).toHaveResourceWithProperties(SqsQueue, {
      name: 'comfyui-dev-model-sync',
      visibility_timeout_seconds: 6 * 60 + 5,
      redrive_policy: expect.stringMatching(/"maxReceiveCount" = 5/),
    });
    expect(synth).toHaveResourceWithProperties(SqsQueue, { name: 'comfyui-dev-model-sync-dlq', message_retention_seconds: 1209600 });
    const custom = synthModelSync({ models: { syncLambda: { timeoutSeconds: 120, maxBatchingWindowSeconds: 10, maxReceiveCount: 3 } } }).synth;
    expect(custom).toHaveResourceWithProperties(SqsQueue, { visibility_timeout_seconds: 730, redrive_policy: expect.stringMatching(/"maxReceiveCount" = 3/) });
  });

  it('lets only S3, for the models bucket and account, send; denies non-TLS on both queues', () => {
    const docs = parsed.data.aws_iam_policy_document;
    const queueDoc = docs[Object.keys(docs).find((k) => k.startsWith('Queue_QueuePolicyDocument'))!];
    const allow = queueDoc.statement.find((s: any) => s.sid === 'AllowModelsBucketNotifications');
    expect(allow).toMatchObject({ effect: 'Allow', actions: ['sqs:SendMessage'], principals: [{ type: 'Service', identifiers: ['s3.amazonaws.com'] }] });
    expect(allow.condition).toEqual([
      { test: 'ArnEquals', variable: 'aws:SourceArn', values: [STORAGE.modelsBucket.arn] },
      { test: 'StringEquals', variable: 'aws:SourceAccount', values: ['${data.aws_caller_identity.Account.account_id}'] },
    ]);
    const tlsDenies = Object.values(docs).filter((d: any) => d.statement.some((s: any) => s.sid === 'DenyInsecureTransport' && s.effect === 'Deny'));
    expect(tlsDenies).toHaveLength(2);
    expect(Object.keys(parsed.resource.aws_sqs_queue_policy)).toHaveLength(2);
    const redriveAllow = Object.values(parsed.resource.aws_sqs_queue_redrive_allow_policy)[0] as any;
    expect(redriveAllow.redrive_allow_policy).toMatch(/"redrivePermission" = "byQueue"/);
  });

  it('maps the queue to the function with partial batch responses and the configured batching', () => {
    expect(synth).toHaveResourceWithProperties(LambdaEventSourceMapping, {
      batch_size: 100,
      maximum_batching_window_in_seconds: 5,
      function_response_types: ['ReportBatchItemFailures'],
      scaling_config: { maximum_concurrency: 2 },
      depends_on: [expect.stringMatching(/^aws_iam_role_policy\./)],
    });
  });

  it('passes models.allowedExtensions to the Lambda and the document pattern (issue 18 item 5)', () => {
    const { parsed: safetensorsOnly } = synthModelSync({ models: { allowedExtensions: ['.safetensors'] } });
    const fn = Object.values(safetensorsOnly.resource.aws_lambda_function)[0] as any;
    expect(fn.environment.variables.MODEL_EXTENSIONS).toBe('.safetensors');
    const content = JSON.parse((Object.values(safetensorsOnly.resource.aws_ssm_document)[0] as any).content);
    const pattern = new RegExp(content.parameters.changes.allowedPattern);
    expect(pattern.test('copy 1 checkpoints/model.safetensors')).toBe(true);
    expect(pattern.test('copy 1 checkpoints/model.ckpt')).toBe(false);
  });

  it('runs the bundled handler on Node.js 22 with settings from the config', () => {
    expect(synth).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'comfyui-dev-model-sync',
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      architectures: ['arm64'],
      timeout: 60,
      filename: expect.stringMatching(/^assets\/Function_Code_[A-Z0-9]+\/[A-F0-9]{32}\/archive\.zip$/),
      source_code_hash: stack.syncFunction.bundle.sha256,
      logging_config: { log_format: 'Text', log_group: expect.stringMatching(/aws_cloudwatch_log_group\.Function_LogGroup/) },
      environment: {
        variables: expect.objectContaining({
          MODELS_BUCKET: STORAGE.modelsBucket.name,
          TARGET_TAG_KEY: 'comfyui-model-sync',
          TARGET_TAG_VALUE: 'comfyui-dev',
          COMMAND_MAX_CONCURRENCY: '100%',
          COMMAND_MAX_ERRORS: '25%',
          COMMAND_DELIVERY_TIMEOUT_SECONDS: '600',
          MODEL_PREFIXES: expect.stringMatching(/^checkpoints,loras,vae,/),
        }),
      },
    });
    expect(synth).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/lambda/comfyui-dev-model-sync', retention_in_days: 30 });
  });

  it('traces every invocation with X-Ray, allowed to write trace segments and nothing else of X-Ray', () => {
    expect(synth).toHaveResourceWithProperties(LambdaFunction, { function_name: 'comfyui-dev-model-sync', tracing_config: { mode: 'Active' } });
    const xray = lambdaStatements(parsed).filter((s) => (s.actions as string[]).some((a) => a.startsWith('xray:')));
    expect(xray).toEqual([{ sid: 'WriteTraces', effect: 'Allow', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }]);
  });

  it('encrypts the three model-sync log groups with models.syncLambda.logKmsKeyArn when set, with the CloudWatch Logs default otherwise', () => {
    const groups = (p: any) => Object.values(p.resource.aws_cloudwatch_log_group) as any[];
    expect(groups(parsed)).toHaveLength(3);
    for (const g of groups(parsed)) expect(g.kms_key_id).toBeUndefined();
    const key = 'arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const encrypted = synthModelSync({ models: { syncLambda: { logKmsKeyArn: key } } }).parsed;
    expect(groups(encrypted).map((g) => [g.name, g.kms_key_id]).sort()).toEqual([
      ['/aws/events/comfyui-dev-model-sync-node-failures', key],
      ['/aws/lambda/comfyui-dev-model-sync', key],
      ['/aws/ssm/comfyui-dev-model-sync', key],
    ]);
  });

  it('grants SendCommand on the document and on this cluster’s tagged instances only, and nothing with wildcards', () => {
    const statements = lambdaStatements(parsed);
    expect(statements.find((s) => s.sid === 'SendModelSyncDocument')).toEqual({
      sid: 'SendModelSyncDocument',
      effect: 'Allow',
      actions: ['ssm:SendCommand'],
      resources: [expect.stringMatching(/^\$\{aws_ssm_document\.Document_[A-Z0-9]+\.arn\}$/)],
    });
    expect(statements.find((s) => s.sid === 'SendToThisClustersGpuNodesOnly')).toEqual({
      sid: 'SendToThisClustersGpuNodesOnly',
      effect: 'Allow',
      actions: ['ssm:SendCommand'],
      resources: [expect.stringMatching(/^arn:\$\{data\.aws_partition\.\w+\.partition\}:ec2:us-west-2:\$\{data\.aws_caller_identity\.Account\.account_id\}:instance\/\*$/)],
      condition: [{ test: 'StringEquals', variable: 'ssm:resourceTag/comfyui-model-sync', values: ['comfyui-dev'] }],
    });
    expect(statements.find((s) => s.sid === 'CheckKeyExistsAfterVersionDelete')).toMatchObject({ actions: ['s3:ListBucket'], resources: [STORAGE.modelsBucket.arn] });
    expect(statements.find((s) => s.sid === 'ConsumeModelSyncQueue').actions).toEqual(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']);
    expect(statements.find((s) => s.sid === 'WriteOwnLogs').resources).toEqual([expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.Function_LogGroup_[A-Z0-9]+\.arn\}:\*$/)]);
    const actions = statements.flatMap((s) => s.actions as string[]);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(actions).not.toContain('ssm:ListCommandInvocations');
    expect(actions.some((a) => a.startsWith('s3:Get') || a.startsWith('kms:'))).toBe(false);
  });

  it('manages the Command document with typed, ENV_VAR-interpolated parameters', () => {
    expect(synth).toHaveResourceWithProperties(SsmDocument, { name: 'comfyui-dev-model-sync', document_type: 'Command', document_format: 'JSON', target_type: '/AWS::EC2::Instance' });
    const content = JSON.parse((Object.values(parsed.resource.aws_ssm_document)[0] as any).content);
    expect(content.schemaVersion).toBe('2.2');
    expect(Object.keys(content.parameters)).toEqual(['changes']);
    expect(content.parameters.changes.interpolationType).toBe('ENV_VAR');
    expect(content.parameters.changes.allowedPattern).toMatch(/^\^\(\?:\(\?:copy\|delete\) \[0-9\]\{1,12\} /);
    expect(content.mainSteps[0].inputs.runCommand[2]).toBe('exec /usr/local/bin/comfyui-model-sync apply "$SSM_changes"');
    expect(content.mainSteps[0].inputs.timeoutSeconds).toBe('3600');
  });

  it('alarms on DLQ depth, function errors, failed node commands and objects a node cannot sync', () => {
    const alarms = Object.values(parsed.resource.aws_cloudwatch_metric_alarm) as any[];
    expect(alarms.map((a) => a.alarm_name).sort()).toEqual([
      'comfyui-dev-model-sync-dlq-not-empty',
      'comfyui-dev-model-sync-errors',
      'comfyui-dev-model-sync-node-command-failures',
      'comfyui-dev-model-sync-unsyncable-objects',
    ]);
    // Issue 15 item 2: the nodes' ComfyUI/ModelSync metric, worst node of the cluster.
    expect(synth).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'comfyui-dev-model-sync-unsyncable-objects',
      namespace: 'ComfyUI/ModelSync',
      metric_name: 'UnsyncableObjects',
      dimensions: { ClusterName: 'comfyui-dev' },
      statistic: 'Maximum',
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
    });
    expect(synth).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'comfyui-dev-model-sync-dlq-not-empty',
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: expect.stringMatching(/aws_sqs_queue\.Queue_DeadLetterQueue_[A-Z0-9]+\.name/) },
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
    });
    expect(synth).toHaveResourceWithProperties(CloudwatchEventRule, { name: 'comfyui-dev-model-sync-node-failures' });
    const rule = Object.values(parsed.resource.aws_cloudwatch_event_rule)[0] as any;
    expect(JSON.parse(rule.event_pattern)).toEqual({
      source: ['aws.ssm'],
      'detail-type': ['EC2 Command Invocation Status-change Notification'],
      detail: { 'document-name': [expect.stringMatching(/aws_ssm_document/)], status: ['Failed', 'TimedOut'] },
    });
    expect(synth).toHaveResourceWithProperties(CloudwatchLogGroup, { name: '/aws/ssm/comfyui-dev-model-sync', retention_in_days: 30 });
    const withTopic = synthModelSync({ models: { syncLambda: { alarmActions: ['arn:aws:sns:us-west-2:123456789012:ops'] } } }).parsed;
    for (const a of Object.values(withTopic.resource.aws_cloudwatch_metric_alarm) as any[]) expect(a.alarm_actions).toEqual(['arn:aws:sns:us-west-2:123456789012:ops']);
  });

  it('exposes typed outputs', () => {
    expect(Object.keys(stack.outputs).sort()).toEqual(['commandLogGroupArn', 'deadLetterQueueArn', 'documentArn', 'documentName', 'queueArn']);
  });

  it('matches the reviewed snapshot', () => {
    expect(synth).toMatchSnapshot();
  });
});

describe('model-sync config', () => {
  it('refuses a batch over 10 without a batching window, naming the field', () => {
    expect(() => testConfig({ models: { syncLambda: { batchSize: 50, maxBatchingWindowSeconds: 0 } } })).toThrow(
      'models.syncLambda.maxBatchingWindowSeconds: must be at least 1 when batchSize is above 10',
    );
    expect(() => testConfig({ models: { syncLambda: { batchSize: 10, maxBatchingWindowSeconds: 0 } } })).not.toThrow();
  });

  it.each([
    [{ commandMaxConcurrency: '0' }, 'models.syncLambda.commandMaxConcurrency: must be a node count or a percentage'],
    [{ commandMaxErrors: '150%' }, 'models.syncLambda.commandMaxErrors: must be a node count or a percentage'],
    [{ alarmActions: ['arn:aws:sqs:us-west-2:123456789012:q'] }, 'models.syncLambda.alarmActions.0: must be an SNS topic ARN'],
    [{ logKmsKeyArn: 'alias/logs' }, 'models.syncLambda.logKmsKeyArn: must be a KMS key ARN'],
  ])('names the field of a bad value %j', (syncLambda, message) => {
    expect(() => testConfig({ models: { syncLambda } })).toThrow(message);
  });
});

describe('Lambda bundle', () => {
  it('is deterministic: two synths give the same archive bytes and the same source hash', () => {
    const runs = [0, 1].map(() => {
      const outdir = mkdtempSync(join(tmpdir(), 'model-sync-synth-'));
      const app = new App({ outdir });
      const stack = new ModelSyncStack(app, 'model-sync', { config: testConfig(), storage: STORAGE });
      app.synth();
      const tf = JSON.parse(readFileSync(join(outdir, 'stacks/model-sync/cdk.tf.json'), 'utf8'));
      const fn = Object.values(tf.resource.aws_lambda_function)[0] as any;
      const zipPath = join(outdir, 'stacks/model-sync', fn.filename);
      return { outdir, hash: fn.source_code_hash as string, zipPath, zip: readFileSync(zipPath), bundle: stack.syncFunction.bundle };
    });
    const cleanUp = () => runs.forEach((r) => rmSync(r.outdir, { recursive: true, force: true }));
    try {
      expect(runs[0].hash).toBe(runs[1].hash);
      expect(createHash('sha256').update(runs[0].zip).digest('hex')).toBe(createHash('sha256').update(runs[1].zip).digest('hex'));
      // The archive holds index.js only (no source map, no partial files), and the bundle stays small.
      const names = execFileSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', runs[0].zipPath], { encoding: 'utf8' });
      expect(names.trim().split('\n')).toEqual(['index.js']);
      expect(runs[0].bundle.bytes).toBeLessThan(600 * 1024);
    } finally {
      cleanUp();
    }
  });
});
