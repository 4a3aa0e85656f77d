/**
 * Jobs stack: the AWS side of the batch jobs API (docs/jobs.md).
 *
 *   npm run comfy -- submit  --> DynamoDB jobs table (queued) + SQS jobs queue (KMS)
 *   worker sidecar in each ComfyUI pod --> ComfyUI on localhost --> outputs bucket jobs/<id>/
 *     --> table (succeeded|failed|cancelled) --> EventBridge jobs bus --> your rules
 *   maxAttempts transient failures --> DLQ (+ alarm)
 *
 * AWS-only, its own lifecycle: queued jobs and job records outlive app
 * releases and cluster rebuilds, so they do not live in the app stack (whose
 * destroy uninstalls ComfyUI). The app stack takes these outputs: it attaches
 * the worker policy to the ComfyUI Pod Identity role and passes the queue
 * and table to the chart.
 */
import { CloudwatchEventBus } from '@cdktf/provider-aws/lib/cloudwatch-event-bus';
import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { JOBS_METRIC_NAMESPACE } from '../cli/comfy/jobs/names';
import { JobsAccessPolicies } from '../constructs/jobs/jobs-access-policies';
import { JobsQueue } from '../constructs/jobs/jobs-queue';
import { JobsTable } from '../constructs/jobs/jobs-table';
import { ImageRepository } from '../constructs/app/image-repository';
import { DataKey } from '../constructs/storage/data-key';
import { JobsMetricSources, JobsOutputs, StorageOutputs } from './contracts';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface JobsStackProps extends PlatformStackProps {
  /** The outputs bucket (job outputs and large workflows under jobs/) and its key. */
  readonly storage: StorageOutputs;
}

export class JobsStack extends PlatformStack {
  /** Typed outputs for the app stack (and KEDA's identity). */
  public readonly outputs: JobsOutputs;
  /** What the observability stack watches: the jobs queue and its DLQ. */
  public readonly metricSources: JobsMetricSources;

  constructor(scope: Construct, id: string, props: JobsStackProps) {
    super(scope, id, props);
    const { config, storage } = props;
    const jobs = config.jobs;
    const name = `${this.prefix}-jobs`;

    const key = new DataKey(this, 'Key', {
      alias: `alias/${name}`,
      accountId: this.accountId,
      partition: this.partition,
      description: `Encrypts the jobs queues and table (alias/${name})`,
    });
    const queue = new JobsQueue(this, 'Queue', {
      name,
      kmsKeyArn: key.keyArn,
      maxAttempts: jobs.maxAttempts,
      visibilityTimeoutSeconds: jobs.visibilityTimeoutSeconds,
      messageRetentionDays: jobs.messageRetentionDays,
      alarmActions: jobs.alarmActions,
    });
    const table = new JobsTable(this, 'Table', { name, kmsKeyArn: key.keyArn, deletionProtection: jobs.deletionProtection });
    // A bus of its own: the worker may publish only here, and users hook rules (webhooks through API destinations) to it.
    const bus = new CloudwatchEventBus(this, 'EventBus', { name });
    const workerImages = new ImageRepository(this, 'WorkerImages', { name: `${this.prefix}/jobs-worker`, keepImages: config.app.ecrKeepImages });
    const policies = new JobsAccessPolicies(this, 'Policies', {
      namePrefix: name,
      region: config.region,
      queueArn: queue.queue.arn,
      deadLetterQueueArn: queue.deadLetterQueue.arn,
      tableArn: table.table.arn,
      eventBusArn: bus.arn,
      jobsKeyArn: key.keyArn,
      outputsBucket: storage.outputsBucket,
      dataKeyArn: storage.dataKeyArn,
      metricNamespace: JOBS_METRIC_NAMESPACE,
    });

    // `npm run comfy -- submit/jobs` reads this from `cdktf output --outputs-file` (cli/comfy/jobs/aws.ts).
    new TerraformOutput(this, 'jobs_client', {
      description: 'Where the batch jobs client submits and reads jobs (npm run comfy -- submit / jobs)',
      value: {
        region: config.region,
        queueUrl: queue.queue.url,
        deadLetterQueueUrl: queue.deadLetterQueue.url,
        tableName: table.table.name,
        outputsBucket: storage.outputsBucket.name,
        outputsPrefix: '',
        eventBusName: bus.name,
      },
    });
    new TerraformOutput(this, 'jobs_client_policy_arn', { value: policies.client.arn, description: 'Attach to the roles of people and pipelines that submit jobs' });
    new TerraformOutput(this, 'jobs_worker_image_repository_url', { value: workerImages.repositoryUrl, description: 'ECR repository to push the jobs worker image to (images/jobs-worker)' });

    this.outputs = {
      queueUrl: queue.queue.url,
      queueName: queue.queue.name,
      queueArn: queue.queue.arn,
      deadLetterQueueUrl: queue.deadLetterQueue.url,
      tableName: table.table.name,
      eventBusName: bus.name,
      workerImageRepositoryUrl: workerImages.repositoryUrl,
      workerPolicyArn: policies.worker.arn,
      clientPolicyArn: policies.client.arn,
      scalerPolicyArn: policies.scaler.arn,
    };
    this.metricSources = { queueName: queue.queue.name, deadLetterQueueName: queue.deadLetterQueue.name };
  }
}
