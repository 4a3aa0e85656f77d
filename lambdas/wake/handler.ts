/**
 * The wake function, behind a Lambda function URL that only CloudFront can
 * call (origin access control). CloudFront calls it when the internal ALB
 * answers 503, which it does when ComfyUI has no registered replica: as the
 * distribution's custom error page for 503 (every method and path, including
 * POST /prompt), and directly for `/_wake/status` (API clients).
 *
 * Each call puts one message on the wake queue (KEDA's aws-sqs-queue trigger
 * activates the ScaledObject on it), counts a WakeRequests metric in the
 * Embedded Metric Format (a log line, no PutMetricData permission needed),
 * and answers with the page or the JSON body and Retry-After. The function
 * itself answers 200: CloudFront would replace an origin 503 with its error
 * page. Viewers still get 503: the custom error response sets it for the page,
 * the viewer-response function of `/_wake/*` (viewer-response.ts) for the rest.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_RETRY_AFTER_SECONDS, wakeJson, wakePage, wantsJson } from './page';

// contract: docs CloudWatch metric contract (ComfyUI/Serving)
export const SERVING_NAMESPACE = 'ComfyUI/Serving';
export const WAKE_REQUESTS_METRIC = 'WakeRequests';

/** Environment variables the function reads (set by constructs/edge/wake-endpoint.ts). */
export const WAKE_ENV = { queueUrl: 'WAKE_QUEUE_URL', clusterName: 'CLUSTER_NAME', retryAfterSeconds: 'RETRY_AFTER_SECONDS' } as const;

/** The parts of a function URL event (payload 2.0) the handler uses. */
export interface FunctionUrlEvent {
  readonly rawPath?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly requestContext?: { readonly http?: { readonly method?: string } };
}

export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface WakeDependencies {
  /** Sends one message to the wake queue. */
  readonly send: (body: string) => Promise<void>;
  /** Writes one log line (EMF metric or error). */
  readonly log: (line: string) => void;
  readonly clusterName: string;
  readonly retryAfterSeconds: number;
  readonly now?: () => Date;
}

/** The Embedded Metric Format line counting one wake request under {ClusterName}. */
export function wakeMetricLine(clusterName: string, now: Date): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [{ Namespace: SERVING_NAMESPACE, Dimensions: [['ClusterName']], Metrics: [{ Name: WAKE_REQUESTS_METRIC, Unit: 'Count' }] }],
    },
    ClusterName: clusterName,
    [WAKE_REQUESTS_METRIC]: 1,
  });
}

export function createWakeHandler(deps: WakeDependencies): (event: FunctionUrlEvent) => Promise<FunctionUrlResult> {
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const at = now();
    const path = event.rawPath ?? '/';
    const method = event.requestContext?.http?.method ?? 'GET';
    try {
      // Only what KEDA needs to see a message; no viewer data beyond the path kind.
      await deps.send(JSON.stringify({ requestedAt: at.toISOString(), method }));
      deps.log(wakeMetricLine(deps.clusterName, at));
    } catch (error) {
      // The page still goes out: it reloads itself, and the next reload signals again.
      deps.log(JSON.stringify({ level: 'error', message: 'wake signal failed', error: (error as Error).name }));
    }
    const retry = String(deps.retryAfterSeconds);
    const common = { 'retry-after': retry, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    const headers = event.headers ?? {};
    if (wantsJson(path, headers.accept)) {
      return { statusCode: 200, headers: { ...common, 'content-type': 'application/json' }, body: JSON.stringify(wakeJson(deps.retryAfterSeconds, at)) };
    }
    return { statusCode: 200, headers: { ...common, 'content-type': 'text/html; charset=utf-8' }, body: method === 'HEAD' ? '' : wakePage(deps.retryAfterSeconds) };
  };
}

function fromEnvironment(): (event: FunctionUrlEvent) => Promise<FunctionUrlResult> {
  const queueUrl = process.env[WAKE_ENV.queueUrl];
  const clusterName = process.env[WAKE_ENV.clusterName];
  if (!queueUrl || !clusterName) throw new Error(`${WAKE_ENV.queueUrl} and ${WAKE_ENV.clusterName} must be set`);
  const retry = Number(process.env[WAKE_ENV.retryAfterSeconds] ?? DEFAULT_RETRY_AFTER_SECONDS);
  const sqs = new SQSClient({});
  return createWakeHandler({
    send: async (body) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    },
    log: (line) => console.log(line),
    clusterName,
    retryAfterSeconds: Number.isInteger(retry) && retry > 0 ? retry : DEFAULT_RETRY_AFTER_SECONDS,
  });
}

let cached: ((event: FunctionUrlEvent) => Promise<FunctionUrlResult>) | undefined;
export const handler = async (event: FunctionUrlEvent): Promise<FunctionUrlResult> => {
  cached ??= fromEnvironment();
  return cached(event);
};
