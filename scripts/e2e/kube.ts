/**
 * Kubernetes side of `make e2e`: etcd and kube-apiserver (built by
 * scripts/install-tools.sh kube) on 127.0.0.1, the CRDs the charts need, the
 * charts server-side applied for each ci/*-values.yaml, a CEL rule seen to
 * reject a bad object, and (once the AWS side has evaluated them) every
 * in-cluster resource of the synthesized stacks.
 */
import { ChildProcess, spawn } from 'child_process';
import { generateKeyPairSync } from 'crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { freePort } from '../../__tests__/model-sync/moto';
import { runCommand, ROOT } from './terraform';

const TOOLS = join(ROOT, '.tools');
const BIN = join(TOOLS, 'bin');
const HELM = join(BIN, 'helm');

function envFile(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of readFileSync(join(ROOT, 'scripts', 'deploy-tools.env'), 'utf8').matchAll(/^([A-Z_]+)=(\S+)$/gm)) out[m[1]] = m[2];
  return out;
}
const VERSIONS = envFile();
export const KUBE_APISERVER = join(BIN, `kube-apiserver-${VERSIONS.KUBE_VERSION}`);
export const KUBECTL = join(BIN, `kubectl-${VERSIONS.KUBE_VERSION}`);
export const ETCD = join(BIN, `etcd-${VERSIONS.ETCD_VERSION}`);

const installerPin = (name: string): string => {
  const m = new RegExp(`^${name}=(\\S+)$`, 'm').exec(readFileSync(join(ROOT, 'scripts', 'install-tools.sh'), 'utf8'));
  if (!m) throw new Error(`scripts/install-tools.sh has no ${name}`);
  return m[1];
};

/** Karpenter release of the CRDs and charts in .tools (kept in step with the config's karpenter.version by a test). */
export const KARPENTER_VERSION = installerPin('KARPENTER_CRDS_VERSION');

/**
 * CRDs installed before anything is applied: one line per source (a
 * directory of CRD YAML files that scripts/install-tools.sh fills).
 */
export const CRD_SOURCES: readonly { readonly name: string; readonly dir: string }[] = [
  { name: 'Karpenter (NodePool, EC2NodeClass, NodeClaim)', dir: join(TOOLS, 'karpenter-crds', `v${KARPENTER_VERSION}`) },
  { name: 'AWS Load Balancer Controller (TargetGroupBinding)', dir: join(TOOLS, 'lbc-crds', installerPin('LBC_CRD_MODULE_VERSION')) },
  { name: 'KEDA (ScaledObject, TriggerAuthentication, ...)', dir: join(TOOLS, 'crds', 'keda', `v${installerPin('KEDA_VERSION')}`) },
];

function log(message: string): void {
  process.stdout.write(`[e2e kube] ${message}\n`);
}

function startProcess(binary: string, args: string[], logFile: string): ChildProcess {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-20000);
    writeFileSync(logFile, tail);
  });
  return child;
}

function stopProcess(child: ChildProcess | undefined): Promise<void> {
  return new Promise((done) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

export interface ApiServer {
  readonly kubeconfig: string;
  kubectl(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** etcd + kube-apiserver on 127.0.0.1 (token auth, RBAC, self-signed serving cert); resolves when /readyz answers. */
export async function startApiServer(timeoutMs = 90_000): Promise<ApiServer> {
  for (const bin of [KUBE_APISERVER, KUBECTL, ETCD]) if (!existsSync(bin)) throw new Error(`${bin} not found: run \`scripts/install-tools.sh kube\` (make tools)`);
  const dir = mkdtempSync(join(tmpdir(), 'e2e-kube-'));
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcd = startProcess(
    ETCD,
    [
      '--name=e2e',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=e2e=http://127.0.0.1:${peerPort}`,
      '--log-level=error',
    ],
    join(dir, 'etcd.log'),
  );
  const token = `e2e-${process.pid}-${Date.now()}`;
  writeFileSync(join(dir, 'tokens.csv'), `${token},e2e-admin,e2e-admin,"system:masters"\n`);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  writeFileSync(join(dir, 'sa.key'), privateKey);
  writeFileSync(join(dir, 'sa.pub'), publicKey);
  const apiserver = startProcess(
    KUBE_APISERVER,
    [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--v=0',
    ],
    join(dir, 'apiserver.log'),
  );
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'e2e', cluster: { server: `https://127.0.0.1:${apiPort}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'e2e', user: { token } }],
      contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'e2e' } }],
      'current-context': 'e2e',
    }),
  );
  const env = { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: kubeconfig, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' };
  const kubectl = (args: readonly string[], input?: string) => runCommand(KUBECTL, [...args], { env, input, timeoutMs: 120_000 });
  const stop = async () => {
    await stopProcess(apiserver);
    await stopProcess(etcd);
    rmSync(dir, { recursive: true, force: true });
  };
  const started = Date.now();
  for (;;) {
    if (apiserver.exitCode !== null || etcd.exitCode !== null) {
      const logs = ['apiserver.log', 'etcd.log'].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-3000) : '')).join('\n');
      await stop();
      throw new Error(`kube-apiserver or etcd exited:\n${logs}`);
    }
    const r = await kubectl(['get', '--raw', '/readyz']);
    if (r.code === 0 && r.stdout.trim() === 'ok') break;
    if (Date.now() - started > timeoutMs) {
      const logs = existsSync(join(dir, 'apiserver.log')) ? readFileSync(join(dir, 'apiserver.log'), 'utf8').slice(-3000) : '';
      await stop();
      throw new Error(`kube-apiserver not ready within ${timeoutMs} ms:\n${logs}`);
    }
    await new Promise((r2) => setTimeout(r2, 250));
  }
  log(`kube-apiserver ${VERSIONS.KUBE_VERSION} ready on https://127.0.0.1:${apiPort} in ${((Date.now() - started) / 1000).toFixed(1)} s (etcd ${VERSIONS.ETCD_VERSION})`);
  return { kubeconfig, kubectl, stop };
}

/** Server-side applies YAML documents; throws with kubectl's message. */
export async function serverSideApply(server: ApiServer, yaml: string, what: string, namespace?: string): Promise<number> {
  const docs = parseAllDocuments(yaml)
    .map((d) => d.toJS() as unknown)
    .filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object');
  if (docs.length === 0) return 0;
  const args = ['apply', '--server-side', '--field-manager=e2e', '--force-conflicts', '-f', '-'];
  if (namespace) args.push('-n', namespace);
  const r = await server.kubectl(args, docs.map((d) => stringify(d)).join('---\n'));
  if (r.code !== 0) throw new Error(`server-side apply of ${what} rejected:\n${r.stderr.trim()}`);
  return docs.length;
}

export async function ensureNamespace(server: ApiServer, name: string): Promise<void> {
  await serverSideApply(server, stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }), `namespace ${name}`);
}

/** Installs every CRD of CRD_SOURCES and waits until they are established. */
export async function installCrds(server: ApiServer): Promise<string[]> {
  const installed: string[] = [];
  for (const source of CRD_SOURCES) {
    if (!existsSync(source.dir)) throw new Error(`CRDs of ${source.name} not found at ${source.dir}: run \`make tools\``);
    const files = readdirSync(source.dir).filter((f) => f.endsWith('.yaml'));
    if (files.length === 0) throw new Error(`no CRD YAML in ${source.dir}`);
    for (const f of files) {
      await serverSideApply(server, readFileSync(join(source.dir, f), 'utf8'), `CRD ${f}`);
      installed.push(f.replace(/\.yaml$/, ''));
    }
  }
  const r = await server.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  if (r.code !== 0) throw new Error(`CRDs not established: ${r.stderr}`);
  return installed;
}

/** `helm template` of a local chart with values files; returns the manifests. */
export async function helmTemplate(release: string, chart: string, namespace: string, valuesFiles: readonly string[], sets: readonly string[] = []): Promise<string> {
  const args = ['template', release, chart, '--namespace', namespace];
  for (const f of valuesFiles) args.push('-f', f);
  for (const s of sets) args.push('--set-json', s);
  const r = await runCommand(HELM, args, { env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), HELM_CACHE_HOME: join(tmpdir(), 'e2e-helm-cache') } });
  if (r.code !== 0) throw new Error(`helm template ${chart} failed:\n${r.stderr}`);
  return r.stdout;
}

export interface ChartCase {
  readonly chart: string;
  readonly values: string;
  readonly objects: number;
}

/** Every ci/*-values.yaml of the two local charts, rendered and server-side applied in a namespace of its own. */
export async function applyChartCases(server: ApiServer): Promise<ChartCase[]> {
  const cases: ChartCase[] = [];
  for (const chart of ['comfyui', 'karpenter-gpu-pool']) {
    const chartDir = join(ROOT, 'charts', chart);
    for (const file of readdirSync(join(chartDir, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort()) {
      const namespace = `ci-${chart}-${file.replace(/-values\.yaml$/, '')}`.slice(0, 63);
      await ensureNamespace(server, namespace);
      const rendered = await helmTemplate(chart === 'comfyui' ? 'comfyui' : 'gpu-pool', chartDir, namespace, [join(chartDir, 'ci', file)]);
      const objects = await serverSideApply(server, rendered, `charts/${chart} with ci/${file}`, namespace);
      cases.push({ chart, values: file, objects });
    }
  }
  return cases;
}

/**
 * CEL rules are enforced: the EC2NodeClass and NodePool that
 * charts/karpenter-gpu-pool renders are accepted (applied above), and the same
 * objects with one field broken are rejected by the CRDs' x-kubernetes-validations.
 */
export async function celRejections(server: ApiServer): Promise<string[]> {
  const chartDir = join(ROOT, 'charts', 'karpenter-gpu-pool');
  const rendered = parseAllDocuments(await helmTemplate('cel', chartDir, 'default', [join(chartDir, 'ci', 'scan-values.yaml')])).map((d) => d.toJS() as Record<string, any>);
  const nodeClass = rendered.find((o) => o?.kind === 'EC2NodeClass');
  const nodePool = rendered.find((o) => o?.kind === 'NodePool');
  if (!nodeClass || !nodePool) throw new Error('charts/karpenter-gpu-pool rendered no EC2NodeClass/NodePool');
  const cases: { what: string; object: Record<string, any>; expect: RegExp }[] = [
    {
      what: 'EC2NodeClass with both an AMI alias and an AMI id in amiSelectorTerms',
      object: { ...nodeClass, metadata: { name: 'cel-bad-ami' }, spec: { ...nodeClass.spec, amiSelectorTerms: [{ alias: 'al2023@latest', id: 'ami-0123456789abcdef0' }] } },
      expect: /alias/i,
    },
    {
      what: 'NodePool whose template sets a label in the restricted karpenter.sh domain',
      object: { ...nodePool, metadata: { name: 'cel-bad-label' }, spec: { ...nodePool.spec, template: { ...nodePool.spec.template, metadata: { labels: { 'karpenter.sh/custom': 'x' } } } } },
      expect: /restricted/i,
    },
  ];
  const seen: string[] = [];
  for (const c of cases) {
    const r = await server.kubectl(['apply', '--server-side', '--field-manager=e2e', '-f', '-'], stringify(c.object));
    if (r.code === 0) throw new Error(`the API server accepted a ${c.what}: the CRD's CEL rule did not fire`);
    if (!c.expect.test(r.stderr)) throw new Error(`${c.what} was rejected, but not by the expected rule:\n${r.stderr}`);
    seen.push(`${c.what}: ${r.stderr.trim().split('\n').pop()}`);
  }
  return seen;
}

