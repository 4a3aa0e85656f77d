/**
 * The jobs worker: a sidecar next to ComfyUI that takes one job at a time
 * from the SQS jobs queue, runs it on the local ComfyUI through the same
 * ComfyClient the CLI uses, and records the result.
 *
 * One job, happy path, 5 AWS calls: ReceiveMessage, UpdateItem (claim),
 * UpdateItem (finish with output keys), PutEvents, DeleteMessage. Metrics are
 * aggregated and sent with one PutMetricData per interval, not per job. A job
 * longer than the heartbeat adds UpdateItem + ChangeMessageVisibility per beat.
 *
 * Rules:
 * - a job is only taken while the local ComfyUI queue is empty;
 * - every state change is a conditional write (store.ts): a duplicate
 *   delivery of a running job is put back until its lease ends, one of a
 *   finished job is deleted unrun, and only the lease holder reports;
 * - poison jobs (ComfyUI rejects the workflow, or it fails while running)
 *   fail at once with ComfyUI's message; transient failures (ComfyUI
 *   unreachable, 5xx, timeout, an interrupt by someone else) are retried with
 *   backoff until maxAttempts, then the job is failed and its message moved
 *   to the dead-letter queue;
 * - stop() (SIGTERM): no new jobs; the running one may finish within
 *   handBackAfterMs, else it is interrupted and handed back (state queued,
 *   visibility 0) for another replica; the attempt stays counted.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, type Message, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { ComfyClient } from '../client';
import { ComfyError, ExecutionError, PromptRejectedError, TimeoutError } from '../errors';
import type { ApiWorkflow } from '../workflow';
import { parseWorkflow } from '../workflow';
import type { JobsAws } from './aws';
import { JobErrorKind, JobMessage, JobRecord, outputKeys, parseJobMessage, routeOutputs, workflowDigest } from './model';
import { JobStore, TransitionRefused, isTerminal } from './store';
import { JOBS_METRIC_NAMESPACE, JOBS_METRICS, JOB_EVENT_SOURCE, JOB_EVENT_TYPES } from './names';

export { JOBS_METRIC_NAMESPACE, JOBS_METRICS, JOB_EVENT_SOURCE, JOB_EVENT_TYPES };

/** Settings of a worker; durations in milliseconds. */
export interface JobsWorkerOptions {
  readonly aws: JobsAws;
  /** Jobs queue URL. */
  readonly queueUrl: string;
  /** Dead-letter queue URL (exhausted and unusable messages go there). */
  readonly deadLetterQueueUrl: string;
  /** Jobs table. */
  readonly tableName: string;
  /** Outputs bucket (large workflows are read from it). */
  readonly outputsBucket: string;
  /** Key prefix of ComfyUI's output mount in the bucket ('' or ending in '/'). */
  readonly outputsPrefix: string;
  /** EventBridge bus of job events. */
  readonly eventBusName: string;
  /** EKS cluster name (metric dimension ClusterName). */
  readonly clusterName: string;
  /** Local ComfyUI, e.g. http://127.0.0.1:8188. */
  readonly comfyUrl: string;
  /** This worker's id in the table (the pod name). */
  readonly workerId: string;
  /** Attempts (runs started) before a transiently failing job fails and goes to the DLQ. Default 3. */
  readonly maxAttempts?: number;
  /** Visibility (and lease) granted per receive and per heartbeat. Default 120 s. */
  readonly visibilityMs?: number;
  /** Heartbeat interval: lease + visibility renewal, cancel check. Default visibility / 4. */
  readonly heartbeatMs?: number;
  /** After stop(), how long the running job may still finish before it is handed back. Default 90 s (Spot gives 120 s). */
  readonly handBackAfterMs?: number;
  /** A job running longer fails as transient (retried). Default 2 h. */
  readonly jobTimeoutMs?: number;
  /** Long-poll wait of ReceiveMessage, in seconds. Default 20. */
  readonly receiveWaitSeconds?: number;
  /** Delay between local queue checks while ComfyUI is busy with other work. Default 2 s. */
  readonly busyPollMs?: number;
  /** First retry delay (visibility after a transient failure), doubling per attempt. Default 30 s. */
  readonly retryDelayMs?: number;
  /** PutMetricData interval. Default 60 s. */
  readonly metricsIntervalMs?: number;
  /** Timeout of each ComfyUI request. Default 30 s. */
  readonly comfyRequestTimeoutMs?: number;
  /** /history polling while ComfyUI's progress socket is down. Default 1 s. */
  readonly comfyPollMs?: number;
  /** Log line sink (JSON lines). Default: stdout. */
  readonly log?: (entry: Record<string, unknown>) => void;
}

type Outcome = 'succeeded' | 'failed' | 'cancelled' | 'retried' | 'handed-back' | 'dead-lettered' | 'skipped' | 'lost';

/** What happened to one received message (tests and the benchmark read these). */
export interface JobReport {
  readonly jobId?: string;
  readonly outcome: Outcome;
  /** Milliseconds from receive to done; of that, waiting for ComfyUI, and waiting for AWS calls. */
  readonly totalMs: number;
  readonly comfyMs: number;
  readonly awsMs: number;
}

class LostLease extends Error {}

export class JobsWorker {
  readonly store: JobStore;
  /** Reports of every handled message, in order. */
  readonly reports: JobReport[] = [];
  private readonly o: Required<Omit<JobsWorkerOptions, 'log'>> & Pick<JobsWorkerOptions, 'log'>;
  private readonly comfy: ComfyClient;
  private stopping = false;
  private stopAt = 0;
  private readonly stopController = new AbortController();
  private loop?: Promise<void>;
  private metrics: MetricDatum[] = [];
  private metricsTimer?: NodeJS.Timeout;
  private readonly wake = new Set<() => void>();

  constructor(options: JobsWorkerOptions) {
    const visibilityMs = options.visibilityMs ?? 120_000;
    this.o = {
      maxAttempts: 3,
      heartbeatMs: Math.floor(visibilityMs / 4),
      handBackAfterMs: 90_000,
      jobTimeoutMs: 2 * 3_600_000,
      receiveWaitSeconds: 20,
      busyPollMs: 2_000,
      retryDelayMs: 30_000,
      metricsIntervalMs: 60_000,
      comfyRequestTimeoutMs: 30_000,
      comfyPollMs: 1_000,
      ...options,
      visibilityMs,
    };
    if (this.o.heartbeatMs >= visibilityMs) throw new Error(`heartbeat (${this.o.heartbeatMs} ms) must be shorter than the visibility timeout (${visibilityMs} ms)`);
    this.store = new JobStore(options.aws.dynamodb, options.tableName);
    this.comfy = new ComfyClient({
      url: options.comfyUrl,
      requestTimeoutMs: this.o.comfyRequestTimeoutMs,
      pollIntervalMs: this.o.comfyPollMs,
      userAgent: 'comfyui-eks-jobs-worker/0.1',
      retries: 1,
    });
  }

  /** Starts the loop (resolves when it has stopped). */
  start(): Promise<void> {
    this.metricsTimer = setInterval(() => void this.flushMetrics(), this.o.metricsIntervalMs);
    this.metricsTimer.unref();
    this.loop = this.run().finally(async () => {
      clearInterval(this.metricsTimer);
      await this.flushMetrics();
      this.comfy.close();
    });
    return this.loop;
  }

  /** SIGTERM: take no new job; the running one finishes within handBackAfterMs or is handed back. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.stopAt = Date.now();
      this.log({ event: 'stopping', handBackAfterMs: this.o.handBackAfterMs });
      this.stopController.abort();
      for (const w of this.wake) w();
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    this.log({ event: 'started', queue: this.o.queueUrl, comfy: this.o.comfyUrl, worker: this.o.workerId });
    // Completion from ComfyUI's progress socket (no polling delay); the client falls back to /history while it is down.
    await this.comfy.connect().catch((err: unknown) => this.log({ event: 'comfyui-socket-failed', error: describe(err) }));
    while (!this.stopping) {
      try {
        if (await this.comfyBusy()) {
          await this.pause(this.o.busyPollMs);
          continue;
        }
        const res = await this.o.aws.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.o.queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: this.o.receiveWaitSeconds,
            VisibilityTimeout: Math.ceil(this.o.visibilityMs / 1000),
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: this.stopController.signal },
        );
        const message = res.Messages?.[0];
        if (message) {
          this.reports.push(
            await this.handle(message).catch((err: unknown) => {
              if (!(err instanceof TransitionRefused)) throw err;
              // The lease passed to another worker while this one was recording a failure: it reports, not us.
              this.log({ event: 'lease-lost', error: describe(err) });
              return { outcome: 'lost' as const, totalMs: 0, comfyMs: 0, awsMs: 0 };
            }),
          );
        }
      } catch (err) {
        if (this.stopping) break;
        this.log({ event: 'loop-error', error: describe(err) });
        await this.pause(Math.min(this.o.busyPollMs * 5, 10_000));
      }
    }
    this.log({ event: 'stopped' });
  }

  /** True while the local ComfyUI runs or queues anything (an interactive user, or it is not up yet). */
  private async comfyBusy(): Promise<boolean> {
    try {
      return (await this.comfy.queueRemaining()) > 0;
    } catch (err) {
      this.log({ event: 'comfyui-unavailable', error: describe(err) });
      return true;
    }
  }

  private async handle(message: Message): Promise<JobReport> {
    const received = Date.now();
    const awsAtReceive = this.o.aws.awsMs;
    let comfyMs = 0;
    const report = (outcome: Outcome, jobId?: string): JobReport => ({ jobId, outcome, totalMs: Date.now() - received, comfyMs, awsMs: this.o.aws.awsMs - awsAtReceive });
    const receipt = message.ReceiptHandle as string;

    let job: JobMessage;
    try {
      job = parseJobMessage(message.Body ?? '');
    } catch (err) {
      // Not a job anyone can run: keep it for inspection in the DLQ, never retry it.
      await this.deadLetter(message, `unusable message: ${(err as Error).message}`);
      this.log({ event: 'dead-lettered', messageId: message.MessageId, reason: (err as Error).message });
      return report('dead-lettered');
    }

    let record: JobRecord;
    try {
      record = await this.store.claim(job.jobId, { worker: this.o.workerId, leaseUntil: Date.now() + this.o.visibilityMs, digest: job.digest });
    } catch (err) {
      if (!(err instanceof TransitionRefused)) throw err;
      if (isTerminal(err.current)) {
        // Finished or cancelled (a duplicate delivery, or cancelled while queued): drop the message unrun.
        await this.deleteMessage(receipt);
        this.log({ event: 'skipped', jobId: job.jobId, state: err.current?.state });
        return report('skipped', job.jobId);
      }
      // Another worker holds it: look again when its lease would have run out.
      const waitMs = Math.max(1_000, (err.current?.leaseUntil ?? Date.now()) - Date.now() + 1_000);
      await this.setVisibility(receipt, Math.min(waitMs, 43_200_000));
      this.log({ event: 'duplicate', jobId: job.jobId, holder: err.current?.worker });
      return report('skipped', job.jobId);
    }
    this.log({ event: 'claimed', jobId: job.jobId, attempt: record.attempts });

    let promptId: string | undefined;
    let cancelling = false;
    const attempt = new AbortController();
    const beat = setInterval(() => {
      void (async () => {
        try {
          const leaseUntil = Date.now() + this.o.visibilityMs;
          const current = await this.store.heartbeat(job.jobId, { worker: this.o.workerId, leaseUntil, promptId });
          await this.setVisibility(receipt, this.o.visibilityMs);
          if (current.cancelRequested && !cancelling && promptId) {
            cancelling = true;
            this.log({ event: 'cancel-requested', jobId: job.jobId });
            await this.comfy.cancel(promptId);
          }
        } catch (err) {
          if (err instanceof TransitionRefused) {
            attempt.abort(new LostLease(`lease lost: job is ${err.current?.state} held by ${err.current?.worker}`));
          } else this.log({ event: 'heartbeat-error', jobId: job.jobId, error: describe(err) });
        }
      })();
    }, this.o.heartbeatMs);

    // On stop: let the job finish within handBackAfterMs, then abort it.
    const onStop = (): void => {
      const left = Math.max(0, this.stopAt + this.o.handBackAfterMs - Date.now());
      setTimeout(() => attempt.abort(new HandBack()), left).unref();
    };
    if (this.stopping) onStop();
    else this.stopController.signal.addEventListener('abort', onStop, { once: true });

    try {
      const workflow = await this.loadWorkflow(job);
      const routed = routeOutputs(workflow, job.jobId).workflow;
      const started = Date.now();
      try {
        const submitted = await this.comfy.submit(routed, { comfyui_eks_job: job.jobId });
        promptId = submitted.promptId;
        const result = await this.comfy.waitForCompletion(submitted.promptId, { timeoutMs: this.o.jobTimeoutMs, signal: attempt.signal });
        comfyMs = Date.now() - started;
        const keys = outputKeys(result.files, this.o.outputsPrefix);
        const done = await this.store.finish(job.jobId, { worker: this.o.workerId, state: 'succeeded', outputKeys: keys, promptId });
        // Recorded: the event and the delete are independent now (one round trip, not two).
        await Promise.all([this.publish('succeeded', done), this.deleteMessage(receipt)]);
        this.metric(JOBS_METRICS.succeeded, 1, 'Count');
        this.metric(JOBS_METRICS.duration, comfyMs / 1000, 'Seconds');
        this.log({ event: 'succeeded', jobId: job.jobId, outputs: keys.length, comfyMs });
        return report('succeeded', job.jobId);
      } finally {
        comfyMs ||= Date.now() - started;
      }
    } catch (err) {
      const reason = attempt.signal.aborted ? attempt.signal.reason : err;
      // A refused write means another worker holds the job now: never report it from here.
      if (reason instanceof LostLease || err instanceof TransitionRefused) {
        if (promptId) await this.comfy.cancel(promptId).catch(() => undefined);
        this.log({ event: 'lease-lost', jobId: job.jobId, error: describe(reason) });
        return report('lost', job.jobId);
      }
      if (reason instanceof HandBack) {
        if (promptId) await this.comfy.cancel(promptId).catch((e: unknown) => this.log({ event: 'interrupt-failed', jobId: job.jobId, error: describe(e) }));
        return report(await this.retryOrFail(job, message, record, 'handed back: the worker stopped (SIGTERM) before the job finished', 0, true), job.jobId);
      }
      if (cancelling && err instanceof ExecutionError && err.interrupted) {
        const done = await this.store.finish(job.jobId, { worker: this.o.workerId, state: 'cancelled', error: 'cancelled while running (jobs cancel)', promptId });
        await this.publish('cancelled', done);
        await this.deleteMessage(receipt);
        this.log({ event: 'cancelled', jobId: job.jobId });
        return report('cancelled', job.jobId);
      }
      const poison = poisonKind(err);
      if (poison) {
        const done = await this.store.finish(job.jobId, { worker: this.o.workerId, state: 'failed', error: describe(err), errorKind: poison, promptId });
        await this.publish('failed', done);
        await this.deleteMessage(receipt);
        this.metric(JOBS_METRICS.failed, 1, 'Count');
        this.log({ event: 'failed', jobId: job.jobId, kind: poison, error: describe(err) });
        return report('failed', job.jobId);
      }
      // A timed-out or failed wait may leave the prompt in ComfyUI; it must not keep the GPU busy.
      if (promptId) await this.comfy.cancel(promptId).catch(() => undefined);
      const delay = Math.min(this.o.retryDelayMs * 2 ** (record.attempts - 1), 900_000);
      return report(await this.retryOrFail(job, message, record, describe(err), delay, false), job.jobId);
    } finally {
      clearInterval(beat);
      this.stopController.signal.removeEventListener('abort', onStop);
    }
  }

  /** A transient failure or a hand-back: queued again with a delay, or, at maxAttempts, failed and dead-lettered. */
  private async retryOrFail(job: JobMessage, message: Message, record: JobRecord, error: string, delayMs: number, handedBack: boolean): Promise<Outcome> {
    const receipt = message.ReceiptHandle as string;
    if (record.attempts >= this.o.maxAttempts) {
      const text = `gave up after ${record.attempts} attempt(s): ${error}`;
      const done = await this.store.finish(job.jobId, { worker: this.o.workerId, state: 'failed', error: text, errorKind: 'exhausted' });
      await this.publish('failed', done);
      await this.deadLetter(message, text);
      this.metric(JOBS_METRICS.failed, 1, 'Count');
      this.log({ event: 'dead-lettered', jobId: job.jobId, attempts: record.attempts, error });
      return 'dead-lettered';
    }
    await this.store.release(job.jobId, { worker: this.o.workerId, error });
    await this.setVisibility(receipt, delayMs);
    this.metric(JOBS_METRICS.retried, 1, 'Count');
    this.log({ event: handedBack ? 'handed-back' : 'retry', jobId: job.jobId, attempt: record.attempts, delayMs, error });
    return handedBack ? 'handed-back' : 'retried';
  }

  private async loadWorkflow(job: JobMessage): Promise<ApiWorkflow> {
    let text: string;
    if (job.workflow) text = JSON.stringify(job.workflow);
    else {
      const res = await this.o.aws.s3.send(new GetObjectCommand({ Bucket: this.o.outputsBucket, Key: job.workflowKey }));
      text = await (res.Body as { transformToString(): Promise<string> }).transformToString();
    }
    if (workflowDigest(text) !== job.digest) throw new InvalidJob(`workflow digest mismatch: expected ${job.digest}, got ${workflowDigest(text)}`);
    try {
      return parseWorkflow(text, `job ${job.jobId}`);
    } catch (err) {
      throw new InvalidJob((err as Error).message);
    }
  }

  private async publish(kind: keyof typeof JOB_EVENT_TYPES, record: JobRecord): Promise<void> {
    const detail = {
      jobId: record.id,
      state: record.state,
      attempts: record.attempts,
      workflowDigest: record.workflowDigest,
      outputKeys: record.outputKeys ?? [],
      outputsBucket: this.o.outputsBucket,
      error: record.error,
      errorKind: record.errorKind,
      createdAt: record.createdAt,
      finishedAt: record.finishedAt,
      clusterName: this.o.clusterName,
    };
    try {
      const res = await this.o.aws.events.send(
        new PutEventsCommand({ Entries: [{ EventBusName: this.o.eventBusName, Source: JOB_EVENT_SOURCE, DetailType: JOB_EVENT_TYPES[kind], Resources: [], Detail: JSON.stringify(detail) }] }),
      );
      if ((res.FailedEntryCount ?? 0) > 0) this.log({ event: 'event-failed', jobId: record.id, error: res.Entries?.[0]?.ErrorMessage });
    } catch (err) {
      // The table is the record of truth; a lost notification must not re-run the job.
      this.log({ event: 'event-failed', jobId: record.id, error: describe(err) });
    }
  }

  private async deadLetter(message: Message, reason: string): Promise<void> {
    await this.o.aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.o.deadLetterQueueUrl,
        MessageBody: message.Body ?? '',
        MessageAttributes: { failure: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
      }),
    );
    await this.deleteMessage(message.ReceiptHandle as string);
  }

  private async deleteMessage(receipt: string): Promise<void> {
    await this.o.aws.sqs.send(new DeleteMessageCommand({ QueueUrl: this.o.queueUrl, ReceiptHandle: receipt }));
  }

  private async setVisibility(receipt: string, ms: number): Promise<void> {
    await this.o.aws.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.o.queueUrl, ReceiptHandle: receipt, VisibilityTimeout: Math.ceil(ms / 1000) }));
  }

  private metric(name: string, value: number, unit: 'Count' | 'Seconds'): void {
    this.metrics.push({ MetricName: name, Value: value, Unit: unit, Timestamp: new Date(), Dimensions: [{ Name: 'ClusterName', Value: this.o.clusterName }] });
  }

  /** One PutMetricData for everything since the last flush (at most 1000 values per call). */
  private async flushMetrics(): Promise<void> {
    const batch = this.metrics.splice(0, this.metrics.length);
    for (let i = 0; i < batch.length; i += 1000) {
      try {
        await this.o.aws.cloudwatch.send(new PutMetricDataCommand({ Namespace: JOBS_METRIC_NAMESPACE, MetricData: batch.slice(i, i + 1000) }));
      } catch (err) {
        this.log({ event: 'metrics-failed', error: describe(err) });
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.add(done);
    });
  }

  private log(entry: Record<string, unknown>): void {
    const line = { time: new Date().toISOString(), worker: this.o.workerId, ...entry };
    if (this.o.log) this.o.log(line);
    else process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

class HandBack extends Error {
  constructor() {
    super('hand-back deadline reached');
  }
}

/** The workflow itself is unusable (digest mismatch, not API format): fails at once like a rejected prompt. */
class InvalidJob extends Error {}

/** Failures that no retry can fix: ComfyUI rejected the workflow, or it failed while running. */
function poisonKind(err: unknown): JobErrorKind | undefined {
  if (err instanceof PromptRejectedError) return 'rejected';
  if (err instanceof InvalidJob) return 'invalid';
  if (err instanceof ExecutionError && !err.interrupted) return 'execution';
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof PromptRejectedError) {
    const nodes = err.nodeErrors.map((n) => `node ${n.nodeId} (${n.classType}): ${n.errors.map((e) => `${e.message}${e.details ? ` — ${e.details}` : ''}`).join('; ')}`);
    return [err.message, ...nodes].join('\n');
  }
  if (err instanceof TimeoutError || err instanceof ComfyError) return err.message;
  return err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
}
