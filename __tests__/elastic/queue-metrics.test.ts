/**
 * charts/comfyui/files/queue-metrics.py, the queue-depth publisher sidecar,
 * run with python3 against local fakes of ComfyUI (/queue, /history), the
 * Pod Identity credentials endpoint and CloudWatch: the metric contract
 * (names, units, dimensions), the per-period aggregate, prompt durations,
 * and a SigV4 signature that an independent implementation (@smithy/signature-v4)
 * reproduces.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { spawn } from 'child_process';
import { mkdtempSync, writeFileSync } from 'fs';
import { createServer, IncomingMessage, Server } from 'http';
import { AddressInfo } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';

const SCRIPT = join(__dirname, '../../charts/comfyui/files/queue-metrics.py');
const CREDENTIALS = { AccessKeyId: 'ASIAEXAMPLEEXAMPLE', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', Token: 'session-token-example', Expiration: '2099-01-01T00:00:00Z' };

interface Received { path: string; headers: IncomingMessage['headers']; body: string }

function listen(handler: (req: IncomingMessage, body: string) => { status?: number; json?: unknown }): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body });
      const answer = handler(req, body);
      res.writeHead(answer.status ?? 200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer.json ?? {}));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received })));
}

/** Metric datums of a PutMetricData form body. */
function datums(body: string) {
  const params = new URLSearchParams(body);
  const out: { name: string; unit: string; value: number; dims: Record<string, string>; timestamp: string }[] = [];
  for (let i = 1; params.has(`MetricData.member.${i}.MetricName`); i += 1) {
    const p = `MetricData.member.${i}`;
    const dims: Record<string, string> = {};
    for (let j = 1; params.has(`${p}.Dimensions.member.${j}.Name`); j += 1) dims[params.get(`${p}.Dimensions.member.${j}.Name`)!] = params.get(`${p}.Dimensions.member.${j}.Value`)!;
    out.push({ name: params.get(`${p}.MetricName`)!, unit: params.get(`${p}.Unit`)!, value: Number(params.get(`${p}.Value`)), dims, timestamp: params.get(`${p}.Timestamp`)! });
  }
  return { namespace: params.get('Namespace'), action: params.get('Action'), datums: out };
}

let servers: Server[] = [];
afterEach(() => {
  servers.forEach((s) => s.close());
  servers = [];
});

async function runPublisher(queueStates: { running: number; pending: number }[], iterations: number) {
  let poll = 0;
  const comfy = await listen((req) => {
    if (req.url?.startsWith('/history/')) {
      const id = decodeURIComponent(req.url.slice('/history/'.length));
      return { json: { [id]: { status: { status_str: 'success', messages: [['execution_start', { prompt_id: id, timestamp: 1_000_000 }], ['execution_success', { prompt_id: id, timestamp: 1_012_500 }]] } } } };
    }
    const state = queueStates[Math.min(poll, queueStates.length - 1)];
    poll += 1;
    const entry = (n: number) => [n, `prompt-${n}`, {}, {}, []];
    return { json: { queue_running: Array.from({ length: state.running }, (_, i) => entry(poll * 100 + i)), queue_pending: Array.from({ length: state.pending }, (_, i) => entry(poll * 1000 + i)) } };
  });
  const credentials = await listen(() => ({ json: CREDENTIALS }));
  const cloudwatch = await listen(() => ({ json: {} }));
  servers.push(comfy.server, credentials.server, cloudwatch.server);
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'pod-identity-')), 'token');
  writeFileSync(tokenFile, 'pod-identity-token\n');
  const child = spawn('python3', [SCRIPT], {
    env: {
      PATH: process.env.PATH,
      COMFYUI_URL: comfy.url,
      CLUSTER_NAME: 'comfyui-dev',
      POD_NAME: 'comfyui-7d9f-abcde',
      AWS_REGION: 'us-west-2',
      CLOUDWATCH_ENDPOINT: `${cloudwatch.url}/`,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${credentials.url}/v1/credentials`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      QUEUE_METRICS_INTERVAL_SECONDS: '0.4',
      QUEUE_METRICS_AGGREGATE_SECONDS: '1',
      QUEUE_METRICS_ITERATIONS: String(iterations),
    },
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr, cloudwatch: cloudwatch.received, credentials: credentials.received };
}

it('publishes the ComfyUI/Serving contract: per-pod and aggregate queue series, prompt durations', async () => {
  const states = [{ running: 1, pending: 2 }, { running: 1, pending: 3 }, { running: 1, pending: 1 }, { running: 0, pending: 0 }, { running: 0, pending: 0 }, { running: 0, pending: 0 }, { running: 0, pending: 0 }];
  const r = await runPublisher(states, 7);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const bodies = r.cloudwatch.map((q) => datums(q.body));
  expect(new Set(bodies.map((b) => `${b.action} ${b.namespace}`))).toEqual(new Set(['PutMetricData ComfyUI/Serving']));
  const all = bodies.flatMap((b) => b.datums);

  const perPod = all.filter((d) => d.dims.Pod);
  expect(perPod.filter((d) => d.name === 'QueuePending').map((d) => d.value)).toEqual([2, 3, 1, 0, 0, 0, 0]);
  expect(perPod.filter((d) => d.name === 'QueueRunning').map((d) => d.value)).toEqual([1, 1, 1, 0, 0, 0, 0]);
  for (const d of perPod) expect(d).toMatchObject({ unit: 'Count', dims: { ClusterName: 'comfyui-dev', Pod: 'comfyui-7d9f-abcde' } });

  // Aggregate {ClusterName}: one datapoint per metric per period, the highest value seen in it, stamped with the period start.
  const aggregate = all.filter((d) => ['QueueRunning', 'QueuePending'].includes(d.name) && !d.dims.Pod);
  expect(aggregate.length).toBeGreaterThanOrEqual(4);
  for (const d of aggregate) expect(d.dims).toEqual({ ClusterName: 'comfyui-dev' });
  for (const name of ['QueueRunning', 'QueuePending']) {
    const stamps = aggregate.filter((d) => d.name === name).map((d) => d.timestamp);
    expect(new Set(stamps).size).toBe(stamps.length);
  }
  expect(Math.max(...aggregate.filter((d) => d.name === 'QueuePending').map((d) => d.value))).toBe(3);

  // Prompts leaving the running queue: duration from the history timestamps (12.5 s).
  const durations = all.filter((d) => d.name === 'PromptDurationSeconds');
  expect(durations.length).toBeGreaterThanOrEqual(1);
  for (const d of durations) expect(d).toMatchObject({ unit: 'Seconds', value: 12.5, dims: { ClusterName: 'comfyui-dev' } });

  // Pod Identity: the token file's content is the Authorization of the credentials request; one fetch serves every call.
  expect(r.credentials).toHaveLength(1);
  expect(r.credentials[0].headers.authorization).toBe('pod-identity-token');
}, 30_000);

it('signs with SigV4 exactly as the AWS SDK would (service monitoring, session token)', async () => {
  const r = await runPublisher([{ running: 0, pending: 1 }], 1);
  expect(r.code).toBe(0);
  const request = r.cloudwatch[0];
  const authorization = String(request.headers.authorization);
  expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEEXAMPLE\/\d{8}\/us-west-2\/monitoring\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
  expect(request.headers['x-amz-security-token']).toBe(CREDENTIALS.Token);
  const amzDate = String(request.headers['x-amz-date']);
  const signer = new SignatureV4({ service: 'monitoring', region: 'us-west-2', sha256: Sha256, credentials: { accessKeyId: CREDENTIALS.AccessKeyId, secretAccessKey: CREDENTIALS.SecretAccessKey, sessionToken: CREDENTIALS.Token }, applyChecksum: false });
  const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const signed = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', headers: { 'content-type': String(request.headers['content-type']), host: String(request.headers.host) }, body: request.body },
    { signingDate, unsignableHeaders: new Set(['user-agent']) },
  );
  expect(signed.headers.authorization).toBe(authorization);
}, 30_000);

it('keeps running when ComfyUI or CloudWatch is unavailable (logs, never exits)', async () => {
  const r = await (async () => {
    const cloudwatch = await listen(() => ({ status: 500, json: { error: 'boom' } }));
    servers.push(cloudwatch.server);
    const child = spawn('python3', [SCRIPT], {
      env: { PATH: process.env.PATH, COMFYUI_URL: 'http://127.0.0.1:9', CLUSTER_NAME: 'c', AWS_REGION: 'us-west-2', CLOUDWATCH_ENDPOINT: `${cloudwatch.url}/`, QUEUE_METRICS_INTERVAL_SECONDS: '0.1', QUEUE_METRICS_ITERATIONS: '2' },
    });
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stderr };
  })();
  expect(r.code).toBe(0);
  expect(r.stderr).toContain('queue-metrics: cannot read http://127.0.0.1:9/queue');
});
