/**
 * The rendered GPU NodePools and EC2NodeClass against the Karpenter v1 CRD
 * schemas of the pinned Karpenter version. The manifests are what the local
 * chart renders (`helm template`) from the values the cluster-addons stack
 * passes; the CRDs come from the Go module github.com/aws/karpenter-provider-aws
 * (pkg/apis/crds), downloaded by `scripts/install-tools.sh crds` into .tools/.
 */
import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { parseAllDocuments } from 'yaml';
import { ConfigInput } from '../../config';
import { testConfig } from '../helpers/config';
import { CelRule, compileCrdSchema, crdSchema } from './crd-schema';
import { fakeUserData, releasesByName, synthAddons } from './fixtures';

const ROOT = resolve(__dirname, '../..');
const HELM = join(ROOT, '.tools/bin/helm');
const CHART = join(ROOT, 'charts/karpenter-gpu-pool');
const VERSION = testConfig().karpenter.version;
const CRD_DIR = join(ROOT, `.tools/karpenter-crds/v${VERSION}`);
const CRD_FILES = { NodePool: 'karpenter.sh_nodepools.yaml', EC2NodeClass: 'karpenter.k8s.aws_ec2nodeclasses.yaml' } as const;

const haveCrds = Object.values(CRD_FILES).every((f) => existsSync(join(CRD_DIR, f)));
const haveHelm = existsSync(HELM);
if (!haveCrds) {
  console.warn(`SKIPPED: Karpenter CRD validation; no CRDs at ${CRD_DIR}. Run scripts/install-tools.sh crds (needs go and the Go module proxy).`);
}
if (!haveHelm) console.warn(`SKIPPED: chart rendering; no helm at ${HELM}. Run scripts/install-tools.sh go.`);

/** Renders the chart with the values the stack passes to helm_release. */
function renderFromStack(input: ConfigInput = {}): any[] {
  const release = releasesByName(synthAddons(input).parsed)['karpenter-gpu-pool'];
  return helmTemplate(release.values[0]);
}

function helmTemplate(valuesJson: string): any[] {
  const dir = mkdtempSync(join(tmpdir(), 'gpu-pool-'));
  writeFileSync(join(dir, 'values.json'), valuesJson);
  const out = execFileSync(HELM, ['template', 'karpenter-gpu-pool', CHART, '--namespace', 'kube-system', '-f', join(dir, 'values.json')], { encoding: 'utf8' });
  return parseAllDocuments(out)
    .map((d) => d.toJS())
    .filter((d) => d !== null);
}

/** The CEL rules ajv cannot run, checked by hand for the fields this project sets. */
function celChecks(obj: any, rules: CelRule[]): string[] {
  const problems: string[] = [];
  if (obj.kind === 'EC2NodeClass') {
    if (('role' in obj.spec) === ('instanceProfile' in obj.spec)) problems.push("must specify exactly one of ['role', 'instanceProfile']");
    const restricted = rules.map((r) => /restricted tag matching (\S+)/.exec(r.message ?? '')?.[1]).filter((t): t is string => !!t);
    expect(restricted.length).toBeGreaterThanOrEqual(5);
    for (const key of Object.keys(obj.spec.tags ?? {})) {
      if (restricted.some((r) => key === r || (r.endsWith('/') && key.startsWith(r)))) problems.push(`restricted tag ${key}`);
      if (key === '' || obj.spec.tags[key] === '') problems.push('empty tag keys or values');
    }
    const alias = obj.spec.amiSelectorTerms.find((t: any) => t.alias)?.alias;
    if (alias && obj.spec.amiSelectorTerms.length !== 1) problems.push('alias must be the only amiSelectorTerm');
    if (alias && !/^[a-zA-Z0-9]+@.+$/.test(alias)) problems.push('alias format');
  }
  if (obj.kind === 'NodePool') {
    // The allowed karpenter.k8s.aws labels, read from the CRD's own rule.
    const domainRule = rules.find((r) => r.rule.includes('karpenter.k8s.aws/instance-family') && r.rule.startsWith('self in'));
    expect(domainRule).toBeDefined();
    const allowed = [...domainRule!.rule.matchAll(/"(karpenter\.k8s\.aws\/[a-z-]+)"/g)].map((m) => m[1]);
    for (const r of obj.spec.template.spec.requirements) {
      if (r.key.startsWith('karpenter.k8s.aws/') && !allowed.includes(r.key)) problems.push(`label domain karpenter.k8s.aws is restricted: ${r.key}`);
      if (r.key === 'karpenter.sh/nodepool' || r.key === 'kubernetes.io/hostname') problems.push(`label ${r.key} is restricted`);
      if (r.operator === 'In' && !(r.values?.length > 0)) problems.push(`${r.key}: In needs values`);
      if (['Gt', 'Lt'].includes(r.operator) && !(r.values?.length === 1 && /^\d+$/.test(r.values[0]))) problems.push(`${r.key}: ${r.operator} needs one non-negative integer`);
    }
    for (const key of Object.keys(obj.spec.template.metadata?.labels ?? {})) {
      if (/^([^/]+\.)?(karpenter\.sh|karpenter\.k8s\.aws)\//.test(key) || key === 'kubernetes.io/hostname') problems.push(`restricted label ${key}`);
    }
    for (const b of obj.spec.disruption?.budgets ?? []) if ('schedule' in b !== 'duration' in b) problems.push("'schedule' must be set with 'duration'");
  }
  return problems;
}

const describeCrds = haveCrds && haveHelm ? describe : describe.skip;

describeCrds(`rendered GPU NodePools and EC2NodeClass against the Karpenter v${VERSION} CRDs`, () => {
  const crds = Object.fromEntries(
    Object.entries(CRD_FILES).map(([kind, file]) => {
      const c = crdSchema(readFileSync(join(CRD_DIR, file), 'utf8'), 'v1');
      expect(c.kind).toBe(kind);
      return [kind, { ...c, validate: compileCrdSchema(c.schema) }];
    }),
  ) as Record<keyof typeof CRD_FILES, ReturnType<typeof crdSchema> & { validate: ReturnType<typeof compileCrdSchema> }>;

  function validate(obj: any): string[] {
    const crd = crds[obj.kind as keyof typeof CRD_FILES];
    if (!crd) return [`unexpected kind ${obj.kind}`];
    const errors: string[] = [];
    if (obj.apiVersion !== `${crd.group}/v1`) errors.push(`apiVersion ${obj.apiVersion}`);
    if (!crd.validate(obj)) errors.push(...crd.validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
    return [...errors, ...celChecks(obj, crd.rules)];
  }

  it.each<[string, ConfigInput]>([
    ['the default config', {}],
    ['no On-Demand fallback, wider GPU range, more families', { karpenter: { gpu: { onDemandFallback: { enabled: false }, instanceFamilies: ['g5', 'g6', 'g6e', 'g7e', 'p5'], maxGpus: 8 } } }],
  ])('GIVEN %s THEN every rendered object is valid', (_, input) => {
    const objects = renderFromStack(input);
    const kinds = objects.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'EC2NodeClass')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'NodePool').length).toBeGreaterThanOrEqual(1);
    for (const obj of objects) expect({ name: obj.metadata.name, errors: validate(obj) }).toEqual({ name: obj.metadata.name, errors: [] });
  });

  it('renders the user data decoded, byte for byte', () => {
    const nodeClass = renderFromStack().find((o) => o.kind === 'EC2NodeClass');
    expect(nodeClass.spec.userData).toBe(fakeUserData);
  });

  it('renders exactly the typed objects the stack built', () => {
    const values = JSON.parse(releasesByName(synthAddons().parsed)['karpenter-gpu-pool'].values[0]);
    const objects = renderFromStack();
    const pools = objects.filter((o) => o.kind === 'NodePool');
    expect(pools.map((p) => p.spec)).toEqual(values.nodePools.map((p: any) => p.spec));
    const { userData, ...spec } = objects.find((o) => o.kind === 'EC2NodeClass').spec;
    expect(userData).toBeDefined();
    expect(spec).toEqual(values.nodeClass.spec);
  });

  describe('rejects what the API server would reject', () => {
    const objects = renderFromStack();
    const pool = () => structuredClone(objects.find((o) => o.kind === 'NodePool'));
    const nodeClass = () => structuredClone(objects.find((o) => o.kind === 'EC2NodeClass'));

    it('an unknown field in a NodePool (misspelt requirements)', () => {
      const bad = pool();
      bad.spec.template.spec.requirement = bad.spec.template.spec.requirements;
      expect(validate(bad).join('\n')).toContain('must NOT have additional properties {"additionalProperty":"requirement"}');
    });

    it('an unknown field at the top of a NodePool spec', () => {
      const bad = pool();
      bad.spec.consolidation = { enabled: true };
      expect(validate(bad).join('\n')).toContain('{"additionalProperty":"consolidation"}');
    });

    it('an unknown field in the EC2NodeClass metadata options', () => {
      const bad = nodeClass();
      bad.spec.metadataOptions.httpPutResponseHopLimt = 1;
      expect(validate(bad).join('\n')).toContain('{"additionalProperty":"httpPutResponseHopLimt"}');
    });

    it('an invalid operator, volume type and budget', () => {
      const badPool = pool();
      badPool.spec.template.spec.requirements[0].operator = 'GreaterThan';
      badPool.spec.disruption.budgets = [{ nodes: 'one' }];
      const errors = validate(badPool).join('\n');
      expect(errors).toContain('/spec/template/spec/requirements/0/operator must be equal to one of the allowed values');
      expect(errors).toContain('/spec/disruption/budgets/0/nodes must match pattern');
      const badClass = nodeClass();
      badClass.spec.blockDeviceMappings[0].ebs.volumeType = 'ssd';
      expect(validate(badClass).join('\n')).toContain('/spec/blockDeviceMappings/0/ebs/volumeType must be equal to one of the allowed values');
    });

    it('both role and instanceProfile, and a restricted tag (CEL rules)', () => {
      const bad = nodeClass();
      bad.spec.role = 'comfyui-dev-gpu-node';
      bad.spec.tags['kubernetes.io/cluster/comfyui-dev'] = 'owned';
      const errors = validate(bad);
      expect(errors).toContain("must specify exactly one of ['role', 'instanceProfile']");
      expect(errors).toContain('restricted tag kubernetes.io/cluster/comfyui-dev');
    });
  });
});

describe('CRD and chart plumbing', () => {
  it('downloads the CRDs of the Karpenter version the config pins', () => {
    const script = readFileSync(join(ROOT, 'scripts/install-tools.sh'), 'utf8');
    expect(script).toContain(`KARPENTER_CRDS_VERSION=${VERSION}\n`);
  });

  (haveHelm ? it : it.skip)('rejects chart values that do not match values.schema.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpu-pool-bad-'));
    writeFileSync(join(dir, 'values.json'), JSON.stringify({ nodeClass: { name: 'gpu', spec: {}, userData: '' }, nodePools: [], extra: 1 }));
    const run = spawnSync(HELM, ['template', 'x', CHART, '-f', join(dir, 'values.json')], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(run.stderr).toMatch(/nodePools/);
    expect(run.stderr).toMatch(/extra/);
  });

  (haveHelm ? it : it.skip)('passes helm lint with the stack values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpu-pool-lint-'));
    writeFileSync(join(dir, 'values.json'), releasesByName(synthAddons().parsed)['karpenter-gpu-pool'].values[0]);
    const run = spawnSync(HELM, ['lint', '--strict', CHART, '-f', join(dir, 'values.json')], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
  });
});
