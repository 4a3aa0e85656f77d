/**
 * Names the jobs worker and the jobs infrastructure must agree on, without
 * AWS SDK imports: the synth (constructs/jobs, stacks/jobs-stack.ts) loads this too.
 */

// contract: docs CloudWatch metric contract (ComfyUI/Jobs)
export const JOBS_METRIC_NAMESPACE = 'ComfyUI/Jobs';
// contract: docs CloudWatch metric contract (ComfyUI/Jobs)
export const JOBS_METRICS = { succeeded: 'JobsSucceeded', failed: 'JobsFailed', retried: 'JobsRetried', duration: 'JobDurationSeconds' } as const;

/** EventBridge `source` of job events, and their detail types. */
export const JOB_EVENT_SOURCE = 'comfyui.jobs';
export const JOB_EVENT_TYPES = { succeeded: 'Job Succeeded', failed: 'Job Failed', cancelled: 'Job Cancelled' } as const;
