/**
 * The edge wake function (lambdas/wake): one wake message and one
 * WakeRequests metric per call, the browser page or the API JSON, always
 * 503 + Retry-After, never anything from its environment in the body.
 */
import { createWakeHandler, FunctionUrlEvent, wakeMetricLine } from '../../lambdas/wake/handler';
import { wantsJson } from '../../lambdas/wake/page';
import { WAKE_VIEWER_RESPONSE_CODE } from '../../lambdas/wake/viewer-response';
import { FakeKeyValueStore, loadCloudFrontFunction } from '../edge/cloudfront-function-sandbox';

const NOW = new Date('2026-12-07T09:00:00Z');
const SECRET_LOOKING = { queue: 'https://sqs.us-west-2.amazonaws.com/123456789012/comfyui-dev-wake', cluster: 'comfyui-dev-secret-cluster' };

function setup(sendFails = false) {
  const sent: string[] = [];
  const logs: string[] = [];
  const handler = createWakeHandler({
    send: async (body) => {
      if (sendFails) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      sent.push(body);
    },
    log: (line) => logs.push(line),
    clusterName: SECRET_LOOKING.cluster,
    retryAfterSeconds: 10,
    now: () => NOW,
  });
  return { handler, sent, logs };
}
const event = (path: string, accept?: string, method = 'GET'): FunctionUrlEvent => ({ rawPath: path, headers: accept ? { accept } : {}, requestContext: { http: { method } } });

describe('browser (the 503 error page of the distribution)', () => {
  it('answers the "Starting a GPU for you" page (200 to CloudFront, which sends it as 503), Retry-After, no caching, and signals the wake queue once', async () => {
    const { handler, sent } = setup();
    const res = await handler(event('/_wake/page', 'text/html,application/xhtml+xml'));
    // An origin 503 would be replaced by the distribution's 503 error page; the error response sets 503 for the viewer.
    expect(res.statusCode).toBe(200);
    expect(res.headers).toEqual(expect.objectContaining({ 'retry-after': '10', 'cache-control': 'no-store', 'content-type': 'text/html; charset=utf-8' }));
    expect(res.body).toContain('<title>Starting a GPU for you</title>');
    expect(res.body).toContain('<meta http-equiv="refresh" content="10">');
    expect(res.body).toMatch(/id="elapsed"/);
    expect(res.body).toContain('location.reload()');
    expect(sent).toEqual([JSON.stringify({ requestedAt: NOW.toISOString(), method: 'GET' })]);
  });

  it('carries nothing from the environment (no queue URL, cluster name or account)', async () => {
    const { handler } = setup();
    for (const path of ['/_wake/page', '/_wake/status']) {
      const { body } = await handler(event(path));
      expect(body).not.toContain(SECRET_LOOKING.cluster);
      expect(body).not.toContain('123456789012');
      expect(body).not.toContain('sqs');
    }
  });

  it('HEAD gets the headers without a body', async () => {
    const { handler } = setup();
    const res = await handler(event('/_wake/page', undefined, 'HEAD'));
    expect(res.headers['retry-after']).toBe('10');
    expect(res.body).toBe('');
  });
});

describe('API clients', () => {
  it('/_wake/status answers 503 + Retry-After + JSON (the viewer-response function sets the 503)', async () => {
    const { handler, sent } = setup();
    const res = await handler(event('/_wake/status'));
    expect(res.statusCode).toBe(200);
    const viewer = await viewerResponse({ statusCode: res.statusCode, statusDescription: 'OK', headers: { 'retry-after': { value: res.headers['retry-after'] } } });
    expect(viewer).toEqual({ statusCode: 503, statusDescription: 'Service Unavailable', headers: { 'retry-after': { value: '10' } } });
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['retry-after']).toBe('10');
    expect(JSON.parse(res.body)).toEqual({ status: 'waking', message: expect.stringContaining('Retry after'), retryAfterSeconds: 10, requestedAt: NOW.toISOString() });
    expect(sent).toHaveLength(1);
  });

  it('chooses JSON for the status path or a JSON-only Accept header', () => {
    expect(wantsJson('/_wake/status', undefined)).toBe(true);
    expect(wantsJson('/_wake/page', 'application/json')).toBe(true);
    expect(wantsJson('/_wake/page', 'text/html,application/json;q=0.9')).toBe(false);
    expect(wantsJson('/_wake/page', undefined)).toBe(false);
  });
});

async function viewerResponse(response: Record<string, unknown>) {
  const { handler } = loadCloudFrontFunction(WAKE_VIEWER_RESPONSE_CODE, new FakeKeyValueStore('none')) as unknown as { handler: (e: unknown) => unknown };
  return handler({ version: '1.0', context: { eventType: 'viewer-response' }, viewer: { ip: '198.51.100.7' }, request: { method: 'GET', uri: '/_wake/status', headers: {}, cookies: {}, querystring: {} }, response });
}

describe('the /_wake/* viewer-response function (CloudFront Functions runtime)', () => {
  it('turns the 200 of the wake function into 503, keeping headers', async () => {
    expect(await viewerResponse({ statusCode: 200, statusDescription: 'OK', headers: { 'retry-after': { value: '10' } } })).toMatchObject({ statusCode: 503, headers: { 'retry-after': { value: '10' } } });
  });
  it('leaves other statuses alone (a failing origin stays visible)', async () => {
    expect(await viewerResponse({ statusCode: 502, statusDescription: 'Bad Gateway', headers: {} })).toMatchObject({ statusCode: 502 });
  });
});

describe('metric and failure handling', () => {
  it('counts WakeRequests under {ClusterName} in ComfyUI/Serving (Embedded Metric Format)', async () => {
    const { handler, logs } = setup();
    await handler(event('/_wake/page'));
    expect(logs).toEqual([wakeMetricLine(SECRET_LOOKING.cluster, NOW)]);
    expect(JSON.parse(logs[0])).toEqual({
      _aws: { Timestamp: NOW.getTime(), CloudWatchMetrics: [{ Namespace: 'ComfyUI/Serving', Dimensions: [['ClusterName']], Metrics: [{ Name: 'WakeRequests', Unit: 'Count' }] }] },
      ClusterName: SECRET_LOOKING.cluster,
      WakeRequests: 1,
    });
  });

  it('still serves the page when the queue refuses, and logs the error class only', async () => {
    const { handler, logs } = setup(true);
    const res = await handler(event('/_wake/page'));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Starting a GPU for you');
    expect(logs).toEqual([JSON.stringify({ level: 'error', message: 'wake signal failed', error: 'ThrottlingException' })]);
  });
});
