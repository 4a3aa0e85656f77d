/**
 * Entry point of the jobs worker image (images/jobs-worker): reads its
 * settings from the environment the chart sets (charts/comfyui, jobs.*),
 * runs the worker, and turns SIGTERM into a graceful stop.
 */
import { hostname } from 'os';
import { JobsAws } from './aws';
import { JobsWorker, JobsWorkerOptions } from './worker';

/** Parses the worker's environment; throws one message listing every problem. */
export function workerOptionsFromEnv(env: Record<string, string | undefined>): Omit<JobsWorkerOptions, 'aws'> & { region: string } {
  const problems: string[] = [];
  const required = (name: string): string => {
    const v = env[name];
    if (!v) problems.push(`${name} is required`);
    return v ?? '';
  };
  const seconds = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback * 1000;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) problems.push(`${name} must be a whole number of seconds from ${min} to ${max}, got "${raw}"`);
    return Number(raw) * 1000;
  };
  const options = {
    region: required('AWS_REGION'),
    queueUrl: required('JOBS_QUEUE_URL'),
    deadLetterQueueUrl: required('JOBS_DEAD_LETTER_QUEUE_URL'),
    tableName: required('JOBS_TABLE'),
    outputsBucket: required('JOBS_OUTPUTS_BUCKET'),
    outputsPrefix: env.JOBS_OUTPUTS_PREFIX ?? '',
    eventBusName: required('JOBS_EVENT_BUS'),
    clusterName: required('JOBS_CLUSTER_NAME'),
    comfyUrl: env.COMFYUI_URL || 'http://127.0.0.1:8188',
    workerId: env.POD_NAME || hostname(),
    maxAttempts: seconds('JOBS_MAX_ATTEMPTS', 3, 1, 20) / 1000,
    visibilityMs: seconds('JOBS_VISIBILITY_SECONDS', 120, 30, 43_200),
    heartbeatMs: seconds('JOBS_HEARTBEAT_SECONDS', 30, 5, 10_800),
    handBackAfterMs: seconds('JOBS_HAND_BACK_AFTER_SECONDS', 90, 0, 86_400),
    jobTimeoutMs: seconds('JOBS_JOB_TIMEOUT_SECONDS', 7_200, 10, 86_400),
    receiveWaitSeconds: seconds('JOBS_RECEIVE_WAIT_SECONDS', 20, 0, 20) / 1000,
    metricsIntervalMs: seconds('JOBS_METRICS_INTERVAL_SECONDS', 60, 10, 3_600),
  };
  if (options.outputsPrefix !== '' && !options.outputsPrefix.endsWith('/')) problems.push(`JOBS_OUTPUTS_PREFIX must be empty or end with "/", got "${options.outputsPrefix}"`);
  if (options.heartbeatMs >= options.visibilityMs) problems.push(`JOBS_HEARTBEAT_SECONDS (${options.heartbeatMs / 1000}) must be below JOBS_VISIBILITY_SECONDS (${options.visibilityMs / 1000})`);
  if (problems.length > 0) throw new Error(`invalid jobs worker settings:\n  ${problems.join('\n  ')}`);
  return options;
}

if (require.main === module) {
  let worker: JobsWorker;
  try {
    const { region, ...options } = workerOptionsFromEnv(process.env);
    worker = new JobsWorker({ ...options, aws: new JobsAws({ region, endpoint: process.env.AWS_ENDPOINT_URL || undefined }) });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void worker.stop());
  worker.start().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`jobs worker crashed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
