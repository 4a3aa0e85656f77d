/**
 * The in-cluster resources of the synthesized stacks (helm_release,
 * kubernetes_*), with exactly the configuration the stacks pass them as
 * Terraform evaluated it against the moto deployment, turned into manifests:
 * local charts rendered by helm, kubernetes_* resources converted to objects.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { isAbsolute, join } from 'path';
import { stringify } from 'yaml';
import type { PreparedStack } from './stacks';
import { ROOT, terraform } from './terraform';
import { ApiServer, ensureNamespace, helmTemplate, KARPENTER_VERSION, serverSideApply } from './kube';

/**
 * Charts the stacks install from remote repositories whose source at the same
 * release the Go module proxy serves (scripts/install-tools.sh crds): rendered
 * from there. Other remote charts are listed as not fetchable.
 */
export const REMOTE_CHART_SOURCES: readonly { readonly repository: string; readonly chart: string; readonly version: string; readonly dir: string }[] = ['karpenter', 'karpenter-crd'].map((chart) => ({
  repository: 'oci://public.ecr.aws/karpenter',
  chart,
  version: KARPENTER_VERSION,
  dir: join(ROOT, '.tools', 'karpenter-charts', `v${KARPENTER_VERSION}`, chart),
}));

/** kubernetes_<name>_v1 -> apiVersion and kind. Add a line when a stack uses a new kubernetes_* type. */
export const KUBERNETES_KINDS: Readonly<Record<string, readonly [string, string]>> = {
  kubernetes_namespace_v1: ['v1', 'Namespace'],
  kubernetes_config_map_v1: ['v1', 'ConfigMap'],
  kubernetes_secret_v1: ['v1', 'Secret'],
  kubernetes_service_account_v1: ['v1', 'ServiceAccount'],
  kubernetes_storage_class_v1: ['storage.k8s.io/v1', 'StorageClass'],
  kubernetes_cluster_role_v1: ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  kubernetes_cluster_role_binding_v1: ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
};

const camel = (key: string): string => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Terraform's schema shape (snake_case, single blocks as one-element lists) -> Kubernetes object fields. */
export function toKubernetesFields(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => toKubernetesFields(v, key));
    return ['metadata', 'spec'].includes(key) && items.length === 1 ? items[0] : items;
  }
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null || (Array.isArray(v) && v.length === 0)) continue;
    // labels/annotations/data keep their keys as written.
    out[camel(k)] = ['labels', 'annotations', 'data', 'binary_data', 'string_data'].includes(k) ? v : toKubernetesFields(v, k);
  }
  return out;
}

/** The object a kubernetes_* resource manages. */
export function kubernetesManifest(type: string, config: Record<string, unknown>): Record<string, unknown> {
  if (type === 'kubernetes_manifest') return config.manifest as Record<string, unknown>;
  const kind = KUBERNETES_KINDS[type];
  if (!kind) throw new Error(`no converter for ${type}: add its apiVersion and kind to KUBERNETES_KINDS in scripts/e2e/in-cluster.ts`);
  const fields = toKubernetesFields(config) as Record<string, unknown>;
  delete fields.waitForDefaultServiceAccount;
  return { apiVersion: kind[0], kind: kind[1], ...fields };
}

export interface InClusterReport {
  readonly stack: string;
  /** address -> what happened. */
  readonly applied: { readonly address: string; readonly objects: number; readonly detail: string }[];
  /** Releases of charts from remote repositories (cannot be fetched here). */
  readonly remote: { readonly address: string; readonly chart: string }[];
}

interface HelmReleaseConfig {
  chart: string;
  name: string;
  namespace?: string;
  repository?: string;
  version?: string;
  values?: string[];
  set?: { name: string; value: string; type?: string }[];
  set_sensitive?: { name: string; value: string; type?: string }[];
  create_namespace?: boolean;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * moto names a queue by the endpoint it was reached at (http://127.0.0.1:<port>/<account>/<name>);
 * SQS returns https://sqs.<region>.amazonaws.com/<account>/<name>, the only form the chart's schema
 * accepts. The values the stacks pass are given SQS's form, everything else stays as evaluated.
 */
export function awsQueueUrls<T>(value: T, endpoint: string, region: string): T {
  const queueUrl = new RegExp(`${escapeRegExp(endpoint.replace(/\/+$/, ''))}/([0-9]{12})/([A-Za-z0-9_-]{1,80})(?![A-Za-z0-9_/-])`, 'g');
  const convert = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(queueUrl, `https://sqs.${region}.amazonaws.com/$1/$2`);
    if (Array.isArray(v)) return v.map(convert);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, convert(x)]));
    return v;
  };
  return convert(value) as T;
}

/** Reads the evaluated configuration of every in-cluster resource of a stack copy (applied against moto). */
export async function evaluatedInCluster(stack: PreparedStack, env: NodeJS.ProcessEnv): Promise<Map<string, Record<string, unknown>>> {
  const values = new Map<string, Record<string, unknown>>();
  if (stack.inCluster.length === 0) return values;
  const r = await terraform(stack.dir, ['output', '-json'], env);
  if (r.code !== 0) throw new Error(`terraform output in ${stack.name}: ${r.stderr}`);
  const outputs = JSON.parse(r.stdout) as Record<string, { value: Record<string, unknown> }>;
  for (const res of stack.inCluster) {
    if (!outputs[res.output]) throw new Error(`${stack.name}: no evaluated configuration for ${res.address}`);
    const endpoint = env.AWS_ENDPOINT_URL;
    const region = env.AWS_REGION;
    values.set(res.address, endpoint && region ? awsQueueUrls(outputs[res.output].value, endpoint, region) : outputs[res.output].value);
  }
  return values;
}

/** Renders and server-side applies a stack's in-cluster resources: kubernetes_* first (namespaces), then releases. */
export async function applyInCluster(server: ApiServer, stack: PreparedStack, evaluated: Map<string, Record<string, unknown>>): Promise<InClusterReport> {
  const report: InClusterReport = { stack: stack.name, applied: [], remote: [] };
  const ordered = [...stack.inCluster].sort((a, b) => Number(a.type === 'helm_release') - Number(b.type === 'helm_release'));
  for (const res of ordered) {
    const config = evaluated.get(res.address)!;
    if (res.type.startsWith('kubernetes_')) {
      const manifest = kubernetesManifest(res.type, config);
      const count = await serverSideApply(server, stringify(manifest), `${stack.name} ${res.address}`);
      report.applied.push({ address: res.address, objects: count, detail: `${String(manifest.kind)} ${String((manifest.metadata as { name?: string })?.name)}` });
      continue;
    }
    if (res.type !== 'helm_release') throw new Error(`${stack.name}: ${res.type} is neither a helm_release nor a kubernetes_* resource; teach scripts/e2e/in-cluster.ts to render it`);
    const release = config as unknown as HelmReleaseConfig;
    let chartDir = isAbsolute(release.chart) ? release.chart : join(stack.dir, release.chart);
    if (release.repository) {
      const source = REMOTE_CHART_SOURCES.find((c) => c.repository === release.repository && c.chart === release.chart && c.version === release.version);
      if (!source || !existsSync(join(source.dir, 'Chart.yaml'))) {
        report.remote.push({ address: res.address, chart: `${release.repository}/${release.chart}@${release.version ?? 'latest'}` });
        continue;
      }
      chartDir = source.dir;
    }
    const namespace = release.namespace ?? 'default';
    await ensureNamespace(server, namespace);
    const scratch = mkdtempSync(join(tmpdir(), 'e2e-release-'));
    const files = (release.values ?? []).map((v, i) => {
      const f = join(scratch, `values-${i}.yaml`);
      writeFileSync(f, v);
      return f;
    });
    const sets = [...(release.set ?? []), ...(release.set_sensitive ?? [])].map((s) => `${s.name}=${JSON.stringify(s.type === 'string' ? String(s.value) : parseSetValue(s.value))}`);
    const rendered = await helmTemplate(release.name, chartDir, namespace, files, sets);
    const count = await serverSideApply(server, rendered, `${stack.name} ${res.address} (chart ${release.chart})`, namespace);
    report.applied.push({ address: res.address, objects: count, detail: `release ${release.name} in ${namespace}, ${files.length} values document(s) as the stack passes them` });
  }
  return report;
}

function parseSetValue(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}
