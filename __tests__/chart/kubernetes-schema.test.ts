/**
 * Every object the chart renders (each ci values file and a few toggles) is
 * validated offline and strictly (unknown fields rejected): core kinds with
 * kubernetes-validate against the OpenAPI schema of the configured cluster
 * version, the TargetGroupBinding with kubeconform against the CRD schema of
 * the load balancer controller (scripts/install-tools.sh, group `schemas`).
 */
import { readdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { stringify } from 'yaml';
import { testConfig } from '../helpers/config';
import { CI_DIR, CRD_KINDS, CRD_SCHEMA_LOCATIONS, DEFAULT_VALUES, K8sObject, KUBECONFORM, KUBERNETES_VALIDATE, render, requireTools, run, scratchDir } from './helm';

const KUBERNETES_VERSION = testConfig().cluster.kubernetesVersion;

const ciCases = readdirSync(CI_DIR)
  .filter((f) => f.endsWith('-values.yaml'))
  .map((f) => ({ name: f, sources: [join(CI_DIR, f)] as (string | object)[] }));
const toggleCases = [
  { name: 'writable-inputs-no-pdb', sources: [DEFAULT_VALUES, { s3: { inputs: { writable: true } }, podDisruptionBudget: { enabled: false } }] },
  { name: 'ingress-http-no-sidecar', sources: [join(CI_DIR, 'ingress-values.yaml'), { exposure: { ingress: { certificateArn: '', host: '' } }, videoSync: { enabled: false } }] },
  { name: 'extra-rules-affinity', sources: [DEFAULT_VALUES, {
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot'] }] } }] } },
    networkPolicy: { extraEgress: [{ to: [{ ipBlock: { cidr: '10.2.0.0/16' } }], ports: [{ port: 5432, protocol: 'TCP' }] }] },
    priorityClassName: 'gpu-workloads',
    imagePullSecrets: [{ name: 'registry' }],
  }] },
];

interface Split { core: string[]; crd: string[]; coreCount: number; crdCount: number }
let split: Split;

function writeDocs(file: string, objects: K8sObject[]): string {
  const path = join(scratchDir(), file);
  writeFileSync(path, objects.map((o) => `---\n${stringify(o)}`).join(''));
  return path;
}

beforeAll(async () => {
  requireTools();
  const cases = [...ciCases, ...toggleCases];
  const renders = await Promise.all(cases.map((c) => render(c.sources)));
  split = { core: [], crd: [], coreCount: 0, crdCount: 0 };
  renders.forEach(({ objects }, i) => {
    const core = objects.filter((o) => !CRD_KINDS.has(o.kind));
    const crd = objects.filter((o) => CRD_KINDS.has(o.kind));
    split.core.push(writeDocs(`core-${cases[i].name.replace(/\.yaml$/, '')}.yaml`, core));
    split.coreCount += core.length;
    if (crd.length > 0) {
      split.crd.push(writeDocs(`crd-${cases[i].name.replace(/\.yaml$/, '')}.yaml`, crd));
      split.crdCount += crd.length;
    }
  });
});

/** kubernetes-validate output: one line per object, ERROR/WARN/INFO. */
async function kubernetesValidate(files: string[]) {
  const result = await run(KUBERNETES_VALIDATE, ['--strict', '-k', KUBERNETES_VERSION, ...files]);
  const lines = (result.stdout + result.stderr).split('\n').filter((l) => l.trim() !== '');
  return { code: result.code, passed: lines.filter((l) => /^INFO .* passed for resource /.test(l)), problems: lines.filter((l) => /^(ERROR|WARN)/.test(l)) };
}

async function kubeconform(files: string[]) {
  const result = await run(KUBECONFORM, ['-strict', '-summary', '-output', 'json', ...CRD_SCHEMA_LOCATIONS.flatMap((l) => ['-schema-location', l]), ...files]);
  return { code: result.code, report: JSON.parse(result.stdout) as { resources?: { msg?: string }[]; summary: { valid: number; invalid: number; errors: number; skipped: number } } };
}

describe(`Kubernetes ${KUBERNETES_VERSION} OpenAPI schema (strict)`, () => {
  it('accepts every rendered core object; none is skipped for want of a schema', async () => {
    const { code, passed, problems } = await kubernetesValidate(split.core);
    expect(problems).toEqual([]);
    expect(code).toBe(0);
    expect(passed).toHaveLength(split.coreCount);
    expect(split.coreCount).toBeGreaterThan(60);
  });

  it('rejects an unknown field (the validation is strict)', async () => {
    const { objects } = await render([DEFAULT_VALUES]);
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    deployment.spec.template.spec.containers[0].gpuCount = 1;
    const { code, problems } = await kubernetesValidate([writeDocs('bad-deployment.yaml', [deployment])]);
    expect(code).not.toBe(0);
    expect(problems.join('\n')).toMatch(/'gpuCount' was unexpected/);
  });
});

describe('CRD schemas: TargetGroupBinding (AWS Load Balancer Controller), ScaledObject and TriggerAuthentication (KEDA) (strict)', () => {
  it('accepts every rendered custom resource', async () => {
    const { code, report } = await kubeconform(split.crd);
    expect(report.summary).toEqual({ valid: split.crdCount, invalid: 0, errors: 0, skipped: 0 });
    expect(code).toBe(0);
    expect(split.crdCount).toBeGreaterThanOrEqual(5);
  });

  it('rejects an unknown spec field and a wrong targetType', async () => {
    const { objects } = await render([DEFAULT_VALUES]);
    const tgb = objects.find((o) => o.kind === 'TargetGroupBinding')!;
    const unknownField = { ...tgb, spec: { ...tgb.spec, targetGroupArn: tgb.spec.targetGroupARN } };
    const badType = { ...tgb, metadata: { ...tgb.metadata, name: 'bad-type' }, spec: { ...tgb.spec, targetType: 'pod' } };
    const { code, report } = await kubeconform([writeDocs('bad-tgb.yaml', [unknownField, badType])]);
    expect(code).not.toBe(0);
    expect(report.summary.invalid).toBe(2);
    const messages = (report.resources ?? []).map((r) => r.msg ?? '').join('\n');
    expect(messages).toContain("additional properties 'targetGroupArn' not allowed");
    expect(messages).toMatch(/targetType/);
  });
});
