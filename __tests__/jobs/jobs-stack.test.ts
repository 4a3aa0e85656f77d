/**
 * The jobs stack: queue + DLQ + alarm, table, bus, key, worker repository and
 * the three least-privilege policies; and how the app stack uses them.
 */
import { CloudwatchEventBus } from '@cdktf/provider-aws/lib/cloudwatch-event-bus';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { AppStack } from '../../stacks/app-stack';
import { JobsStack } from '../../stacks/jobs-stack';
import { testConfig } from '../helpers/config';
import { FAKE_CLUSTER, FAKE_EDGE, FAKE_JOBS, FAKE_NETWORK, FAKE_STORAGE } from '../helpers/fake-outputs';

function synthJobs(input: ConfigInput = {}) {
  const app = Testing.app();
  const stack = new JobsStack(app, 'jobs', { config: testConfig(input), storage: FAKE_STORAGE });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}

/** Statements of the policy document whose construct id starts with `prefix`. */
function statements(parsed: any, prefix: string): any[] {
  const docs = parsed.data.aws_iam_policy_document;
  const key = Object.keys(docs).find((k) => k.startsWith(prefix));
  if (!key) throw new Error(`no policy document ${prefix}: ${Object.keys(docs).join(', ')}`);
  return docs[key].statement;
}

const actionsOf = (st: any[]) => st.flatMap((s) => s.actions).sort();

describe('JobsStack', () => {
  const { stack, synth, parsed } = synthJobs();

  it('encrypts both queues with the jobs KMS key (rotated) and dead-letters after maxAttempts + slack', () => {
    const queues = Object.values(parsed.resource.aws_sqs_queue) as any[];
    expect(queues).toHaveLength(2);
    for (const q of queues) {
      expect(q.kms_master_key_id).toMatch(/^\$\{aws_kms_key\.Key_[A-F0-9]+\.arn\}$/);
      expect(q.sqs_managed_sse_enabled).toBeUndefined();
    }
    expect(synth).toHaveResourceWithProperties(SqsQueue, {
      name: 'comfyui-dev-jobs',
      visibility_timeout_seconds: 120,
      message_retention_seconds: 14 * 86_400,
      receive_wait_time_seconds: 20,
      redrive_policy: expect.stringMatching(/"maxReceiveCount" = 6/),
    });
    expect(synth).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
  });

  it('alarms as soon as one job waits in the DLQ', () => {
    expect(synth).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'comfyui-dev-jobs-dlq-not-empty',
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: expect.stringMatching(/aws_sqs_queue\.Queue_DeadLetterQueue_/) },
      threshold: 0,
      comparison_operator: 'GreaterThanThreshold',
    });
  });

  it('alarm actions come from config', () => {
    const topic = 'arn:aws:sns:us-west-2:123456789012:ops';
    expect(synthJobs({ jobs: { alarmActions: [topic] } }).synth).toHaveResourceWithProperties(CloudwatchMetricAlarm, { alarm_actions: [topic], ok_actions: [topic] });
  });

  it('denies non-TLS access to both queues', () => {
    for (const prefix of ['Queue_QueuePolicyDocument', 'Queue_DeadLetterQueuePolicyDocument']) {
      expect(statements(parsed, prefix)).toEqual([expect.objectContaining({ effect: 'Deny', actions: ['sqs:*'], condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }] })]);
    }
  });

  it('keeps jobs in an on-demand table with a state index, TTL, PITR, KMS encryption and deletion protection', () => {
    expect(synth).toHaveResourceWithProperties(DynamodbTable, {
      name: 'comfyui-dev-jobs',
      billing_mode: 'PAY_PER_REQUEST',
      hash_key: 'id',
      global_secondary_index: [{ name: 'by-state', hash_key: 'state', range_key: 'createdAt', projection_type: 'ALL' }],
      ttl: { attribute_name: 'expiresAt', enabled: true },
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true, kms_key_arn: expect.stringMatching(/aws_kms_key\.Key_[A-F0-9]+\.arn/) },
      deletion_protection_enabled: true,
    });
  });

  it('turns the table\'s deletion protection off only when jobs.deletionProtection is false (the documented teardown step)', () => {
    // GIVEN the operator's first teardown step WHEN synthesized THEN the table may be deleted; the default keeps it protected.
    const { synth: teardown } = synthJobs({ jobs: { deletionProtection: false } });
    expect(teardown).toHaveResourceWithProperties(DynamodbTable, { name: 'comfyui-dev-jobs', deletion_protection_enabled: false });
    expect(testConfig().jobs.deletionProtection).toBe(true);
  });

  it('has its own event bus and an immutable, scanned, encrypted worker repository', () => {
    expect(synth).toHaveResourceWithProperties(CloudwatchEventBus, { name: 'comfyui-dev-jobs' });
    expect(synth).toHaveResourceWithProperties(EcrRepository, { name: 'comfyui-dev/jobs-worker', image_tag_mutability: 'IMMUTABLE', image_scanning_configuration: { scan_on_push: true } });
  });

  it('worker policy: consume the queue, DLQ send only, item updates, its bus, metrics only in ComfyUI/Jobs, the key only through SQS', () => {
    const st = statements(parsed, 'Policies_WorkerDocument');
    expect(actionsOf(st)).toEqual(
      ['cloudwatch:PutMetricData', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'events:PutEvents', 'kms:Decrypt', 'kms:GenerateDataKey', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'].sort(),
    );
    const by = (sid: string) => st.find((s) => s.sid === sid);
    expect(by('PublishJobMetrics').condition).toEqual([{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: ['ComfyUI/Jobs'] }]);
    expect(by('DeadLetterJobs').resources).toEqual([expect.stringMatching(/Queue_DeadLetterQueue_.*\.arn/)]);
    expect(by('ConsumeJobs').resources).toEqual([expect.stringMatching(/aws_sqs_queue\.Queue_[A-F0-9]+\.arn/)]);
    expect(by('JobsKeyThroughSqs').condition).toEqual([{ test: 'StringEquals', variable: 'kms:ViaService', values: ['sqs.us-west-2.amazonaws.com'] }]);
    for (const s of st) if (s.sid !== 'PublishJobMetrics') expect(s.resources).not.toContain('*');
  });

  it('client policy: submit, manage records, and only jobs/ objects of the outputs bucket', () => {
    const st = statements(parsed, 'Policies_ClientDocument');
    expect(st.find((s) => s.sid === 'JobWorkflowsAndOutputs')).toMatchObject({ actions: ['s3:PutObject', 's3:GetObject'], resources: [`${FAKE_STORAGE.outputsBucket.arn}/jobs/*`] });
    expect(st.find((s) => s.sid === 'SubmitJobs').actions).not.toContain('sqs:ReceiveMessage');
    expect(st.find((s) => s.sid === 'ManageJobRecords').resources).toEqual([expect.stringMatching(/aws_dynamodb_table/), expect.stringMatching(/\/index\/\*$/)]);
    expect(statements(parsed, 'Policies_ScalerDocument')).toEqual([expect.objectContaining({ actions: ['sqs:GetQueueAttributes'], resources: [expect.stringMatching(/aws_sqs_queue\.Queue_[A-F0-9]+\.arn/)] })]);
    expect(synth).toHaveResourceWithProperties(IamPolicy, { name: 'comfyui-dev-jobs-scaler' });
  });

  it('exports the queue ARN for KEDA and everything the client needs as jobs_client', () => {
    expect(stack.outputs.queueArn).toBeDefined();
    expect(Object.keys(parsed.output)).toEqual(expect.arrayContaining(['jobs_client', 'jobs_client_policy_arn', 'jobs_worker_image_repository_url']));
    expect(parsed.output.jobs_client.value).toMatchObject({ region: 'us-west-2', outputsBucket: FAKE_STORAGE.outputsBucket.name, outputsPrefix: '' });
  });

  it('rejects a bad maxAttempts with the field named', () => {
    expect(() => testConfig({ jobs: { maxAttempts: 0 } })).toThrow(/jobs\.maxAttempts/);
  });

  it('matches the snapshot', () => {
    expect(synth).toMatchSnapshot();
  });
});

describe('AppStack with jobs', () => {
  const app = Testing.app();
  const stack = new AppStack(app, 'app', { config: testConfig(), cluster: FAKE_CLUSTER, storage: FAKE_STORAGE, edge: FAKE_EDGE, network: FAKE_NETWORK, jobs: FAKE_JOBS });
  const synth = Testing.synth(stack);
  const parsed = JSON.parse(synth);

  it('attaches the worker policy to the ComfyUI Pod Identity role (the worker is a sidecar of that pod)', () => {
    expect(synth).toHaveResourceWithProperties(IamRolePolicyAttachment, { policy_arn: FAKE_JOBS.workerPolicyArn, role: expect.stringMatching(/aws_iam_role\.Comfyui_Identity_Role_.*\.name/) });
  });

  it('passes queue, table, bus and worker repository to the chart, but leaves jobs.enabled to helm', () => {
    const values = parsed.output.chart_values.value;
    expect(values.jobs).toEqual({
      image: { repository: FAKE_JOBS.workerImageRepositoryUrl },
      region: 'us-west-2',
      clusterName: FAKE_CLUSTER.clusterName,
      queueUrl: FAKE_JOBS.queueUrl,
      queueName: FAKE_JOBS.queueName,
      deadLetterQueueUrl: FAKE_JOBS.deadLetterQueueUrl,
      tableName: FAKE_JOBS.tableName,
      eventBusName: FAKE_JOBS.eventBusName,
      maxAttempts: 3,
    });
  });
});
