/**
 * Runs the shared tools on charts/comfyui for the chart tests: helm from
 * .tools/bin, kubernetes-validate from .tools/venv, kubeconform with the
 * TargetGroupBinding schema that scripts/install-tools.sh (group `schemas`)
 * converts from the load balancer controller's CRD.
 */
import { execFile } from 'child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseAllDocuments, stringify } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const CHART = join(ROOT, 'charts', 'comfyui');
export const CI_DIR = join(CHART, 'ci');
export const HELM = join(ROOT, '.tools', 'bin', 'helm');
export const KUBECONFORM = join(ROOT, '.tools', 'bin', 'kubeconform');
export const KUBERNETES_VALIDATE = join(ROOT, '.tools', 'venv', 'bin', 'kubernetes-validate');
export const CRD_SCHEMAS = join(ROOT, '.tools', 'schemas', 'crds');
/** KEDA CRD schemas (scripts/install-tools.sh, group `keda`). */
export const KEDA_SCHEMAS = join(ROOT, '.tools', 'schemas', 'keda');
/** kubeconform -schema-location values for every CRD the chart renders. */
export const CRD_SCHEMA_LOCATIONS = [CRD_SCHEMAS, KEDA_SCHEMAS].map((dir) => `${dir}/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`);
/** Kinds validated against CRD schemas (kubeconform) instead of the Kubernetes OpenAPI. */
export const CRD_KINDS = new Set(['TargetGroupBinding', 'ScaledObject', 'TriggerAuthentication']);

/** Fails with the command to run when a tool is missing (never skips). */
export function requireTools(): void {
  const missing = [HELM, KUBECONFORM, KUBERNETES_VALIDATE, join(CRD_SCHEMAS, 'elbv2.k8s.aws', 'targetgroupbinding_v1beta1.json'), join(KEDA_SCHEMAS, 'keda.sh', 'scaledobject_v1alpha1.json')].filter((p) => !existsSync(p));
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`make tools\` (scripts/install-tools.sh go python schemas keda)`);
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command without a shell; resolves with its exit code and output. */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      // execFile reports the exit status as a numeric `code` (a string code means it did not run).
      const status: unknown = error ? (error as { code?: unknown }).code : 0;
      const code = typeof status === 'number' ? status : 1;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

/** A Kubernetes object as rendered. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string>; [key: string]: any };

let tempDir: string | undefined;
/** A per-run scratch directory. */
export function scratchDir(): string {
  tempDir ??= mkdtempSync(join(tmpdir(), 'comfyui-chart-'));
  return tempDir;
}

let counter = 0;
/** Writes a values object to a temporary YAML file and returns its path. */
export function valuesFile(values: unknown): string {
  counter += 1;
  const path = join(scratchDir(), `values-${counter}.yaml`);
  writeFileSync(path, stringify(values));
  return path;
}

/** `helm template` arguments for values files and/or inline value objects. */
function templateArgs(sources: readonly (string | object)[], release: string, namespace: string): string[] {
  const args = ['template', release, CHART, '--namespace', namespace];
  for (const source of sources) args.push('-f', typeof source === 'string' ? source : valuesFile(source));
  return args;
}

/** Renders the chart; rejects with helm's message when rendering fails. */
export async function render(sources: readonly (string | object)[], opts: { release?: string; namespace?: string } = {}): Promise<{ objects: K8sObject[]; yaml: string }> {
  const result = await run(HELM, templateArgs(sources, opts.release ?? 'comfyui', opts.namespace ?? 'comfyui'));
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const objects = parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
  return { objects, yaml: result.stdout };
}

/** Renders the chart expecting a failure; resolves with helm's error output. */
export async function renderError(sources: readonly (string | object)[]): Promise<string> {
  const result = await run(HELM, templateArgs(sources, 'comfyui', 'comfyui'));
  if (result.code === 0) throw new Error('helm template succeeded but a failure was expected');
  return result.stderr;
}

/** Objects of one kind. */
export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The single object of a kind (throws unless exactly one). */
export function one(objects: readonly K8sObject[], kind: string): K8sObject {
  const found = ofKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

/** The required values (as in ci/default-values.yaml) plus overrides. */
export const DEFAULT_VALUES = join(CI_DIR, 'default-values.yaml');
