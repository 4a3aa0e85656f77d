/**
 * scripts/scan.sh end to end, with the real scanners (make tools) on
 * fixtures: a stack with an unprotected bucket and a chart with a privileged
 * container that needs its ci/scan-values.yaml to render. One run checks all
 * four scanner paths, a suppression, a stale entry and the failing exit.
 */
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { App, TerraformStack } from 'cdktf';
import { testConfig } from '../helpers/config';

const ROOT = resolve(__dirname, '../..');
const REASON = 'fixture finding accepted by the scan-script test';

/** Synthesizes a one-bucket stack as Terraform JSON or, with hcl, as HCL (cdktf reads SYNTH_HCL_OUTPUT when a stack is created). */
function synthFixture(outdir: string, hcl: boolean): void {
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = hcl ? 'true' : 'false';
  try {
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'fixture-dev-storage');
    new AwsProvider(stack, 'aws', { region: 'us-west-2' });
    new S3Bucket(stack, 'Naked', { bucket: 'naked' });
    app.synth();
  } finally {
    if (previous === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = previous;
  }
}

function writeChart(chartsDir: string): void {
  const chart = join(chartsDir, 'fixture');
  mkdirSync(join(chart, 'templates'), { recursive: true });
  mkdirSync(join(chart, 'ci'));
  // kubeVersion like the project's charts: trivy renders with its own default (v1.20) unless told otherwise.
  writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: fixture\nversion: 0.1.0\nkubeVersion: ">=1.29.0-0"\n');
  writeFileSync(join(chart, 'values.yaml'), 'replicas: 1\n');
  writeFileSync(join(chart, 'ci', 'scan-values.yaml'), 'image: nginx:1.27\n');
  writeFileSync(
    join(chart, 'templates', 'deployment.yaml'),
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: {{ .Release.Name }}',
      '  namespace: {{ .Release.Namespace }}',
      'spec:',
      '  replicas: {{ .Values.replicas }}',
      '  selector: {matchLabels: {app: web}}',
      '  template:',
      '    metadata: {labels: {app: web}}',
      '    spec:',
      '      containers:',
      '        - name: web',
      '          image: {{ required "image is required" .Values.image }}',
      '          securityContext: {privileged: true}',
      '',
    ].join('\n'),
  );
}

describe('scripts/scan.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scan-fixture-'));
  const reports = join(dir, 'reports');
  let run: ReturnType<typeof spawnSync>;
  let stdout = '';

  beforeAll(() => {
    synthFixture(join(dir, 'json'), false);
    synthFixture(join(dir, 'hcl'), true);
    writeChart(join(dir, 'charts'));
    writeFileSync(
      join(dir, 'baseline.yaml'),
      [
        'suppressions:',
        `  - {tool: checkov, check: CKV_AWS_21, target: "*-storage", resource: "aws_s3_bucket.Naked", reason: "${REASON}"}`,
        `  - {tool: trivy, check: AVD-AWS-0088, target: "*-storage", resource: "aws_s3_bucket.Naked", reason: "${REASON}"}`,
        `  - {tool: checkov, check: CKV_K8S_16, target: fixture, resource: "Deployment.fixture.fixture", reason: "${REASON}"}`,
        `  - {tool: checkov, check: CKV_AWS_999, target: "*-storage", resource: "aws_s3_bucket.Removed", reason: "${REASON}"}`,
        '',
      ].join('\n'),
    );
    run = spawnSync('bash', [join(ROOT, 'scripts/scan.sh'), join(dir, 'json')], {
      cwd: ROOT,
      env: { ...process.env, CHARTS_DIR: join(dir, 'charts'), SECURITY_BASELINE: join(dir, 'baseline.yaml'), SCAN_HCL_DIR: join(dir, 'hcl'), SCAN_REPORT_DIR: reports },
      encoding: 'utf8',
    });
    stdout = String(run.stdout);
  });

  it('fails on findings that are not in the baseline and lists them', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    expect(stdout).toMatch(/New findings \(fix them, or add them to .*baseline\.yaml with a reason\):/);
    expect(stdout).toMatch(/^ {2}checkov CKV_AWS_144 fixture-dev-storage aws_s3_bucket\.Naked: /m);
    expect(stdout).toMatch(/^ {2}checkov CKV_K8S_\d+ fixture Deployment\.fixture\.fixture: /m);
    expect(stdout).toMatch(/^ {2}trivy AVD-KSV-0017 fixture templates\/deployment\.yaml: /m);
  });

  it('prints passed, failed, suppressed and new counts for every scanner, suppressing listed findings', () => {
    const row = (tool: string, scope: string) => {
      const m = new RegExp(`^${tool} +${scope} +(\\d+) +(\\d+) +(\\d+) +(\\d+)$`, 'm').exec(stdout);
      expect(m).not.toBeNull();
      const [passed, failed, suppressed, added] = m!.slice(1).map(Number);
      expect(passed).toBeGreaterThan(0);
      expect(failed).toBe(suppressed + added);
      return { suppressed, added };
    };
    expect(row('checkov', 'terraform').suppressed).toBe(1);
    expect(row('checkov', 'kubernetes').suppressed).toBe(1);
    expect(row('trivy', 'terraform').suppressed).toBe(1);
    expect(row('trivy', 'kubernetes')).toEqual({ suppressed: 0, added: expect.any(Number) });
  });

  it('renders the charts for the platform default Kubernetes version', () => {
    const script = readFileSync(join(ROOT, 'scripts/scan.sh'), 'utf8');
    expect(script).toContain(`KUBE_VERSION="\${SCAN_KUBE_VERSION:-${testConfig().cluster.kubernetesVersion}.0}"`);
  });

  it('reports stale baseline entries', () => {
    expect(stdout).toMatch(/Stale baseline entries .*:\n {2}checkov CKV_AWS_999 \*-storage aws_s3_bucket\.Removed/);
  });

  it('renders charts with their ci/scan-values.yaml, keeps the raw reports and times each step', () => {
    expect(stdout).toMatch(/\[scan\] helm template fixture \.\.\. done \(\d+\.\d s\)/);
    for (const report of ['checkov-terraform.json', 'checkov-kubernetes.json', 'trivy-terraform.json', 'trivy-chart-fixture.json']) {
      expect(() => JSON.parse(readFileSync(join(reports, report), 'utf8'))).not.toThrow();
    }
    expect(stdout).toMatch(/\[scan\] total \d+\.\d s/);
  });
});
