/**
 * `make e2e`: the synthesized stacks applied to moto and destroyed again, the
 * model-sync path driven through the deployment, and the charts plus every
 * in-cluster resource of the stacks server-side applied to a real
 * kube-apiserver. Writes the per-stack figures into docs/verification.md.
 *
 * Usage: node scripts/run-ts.mjs scripts/e2e/main.ts [OUTDIR]   (default cdktf.out)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AwsResult, runAwsSide } from './aws';
import { readGaps, staleGaps } from './gaps';
import { applyInCluster, evaluatedInCluster, InClusterReport } from './in-cluster';
import { ApiServer, applyChartCases, celRejections, ChartCase, installCrds, startApiServer } from './kube';
import { prepareStacks, readStacks } from './stacks';
import { ROOT } from './terraform';

const VERIFICATION_DOC = join(ROOT, 'docs', 'verification.md');
const START = '<!-- e2e-results:start (written by make e2e; do not edit by hand) -->';
const END = '<!-- e2e-results:end -->';

interface KubeResult {
  readonly crds: string[];
  readonly charts: ChartCase[];
  readonly cel: string[];
  readonly stacks: InClusterReport[];
}

/** The generated section of docs/verification.md (deterministic: counts and names, no timings). */
export function resultsSection(aws: AwsResult, kube: KubeResult): string {
  const lines = [
    START,
    '### Last `make e2e` run',
    '',
    '| stack | applied to moto | skipped: moto gap | skipped: references a skipped resource | in-cluster resources (API server) |',
    '|---|---|---|---|---|',
  ];
  for (const s of aws.stacks) {
    const gapTypes = [...new Set(s.gapSkipped.map((a) => a.split('.')[0]))];
    const inCluster = kube.stacks.find((k) => k.stack === s.name);
    const applied = inCluster?.applied.length ?? 0;
    const remote = inCluster?.remote.length ?? 0;
    lines.push(
      `| ${s.name} | ${s.created} of ${s.planned} | ${s.gapSkipped.length}${gapTypes.length ? ` (${gapTypes.map((t) => `\`${t}\``).join(', ')})` : ''} | ${s.dependentSkipped.length}${s.dependentSkipped.length ? ` (${s.dependentSkipped.map((d) => `\`${d.split(' ')[0]}\``).join(', ')})` : ''} | ${s.inCluster === 0 ? '-' : `${applied} applied${remote ? `, ${remote} remote chart(s) listed` : ''}`} |`,
    );
  }
  const total = aws.stacks.reduce((a, s) => a + s.created, 0);
  const planned = aws.stacks.reduce((a, s) => a + s.planned, 0);
  lines.push('', `${total} of ${planned} AWS resources created and destroyed again; model sync: ${aws.modelSync}.`, '');
  lines.push(`Kubernetes: ${kube.crds.length} CRDs installed; ${kube.charts.map((c) => `charts/${c.chart} ci/${c.values} (${c.objects} objects)`).join(', ')} server-side applied.`, '');
  lines.push('Rejected by CEL rules, as they must be:', '', ...kube.cel.map((c) => `- ${c}`), '');
  const remote = kube.stacks.flatMap((k) => k.remote.map((r) => `- ${k.stack}: \`${r.address}\` (${r.chart})`));
  if (remote.length) lines.push('Releases of remote charts (not fetchable here; their values are type-checked at synth):', '', ...remote, '');
  lines.push(END);
  return lines.join('\n');
}

function writeResults(section: string): void {
  const doc = readFileSync(VERIFICATION_DOC, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < 0) throw new Error(`${VERIFICATION_DOC} lacks the ${START} ... ${END} markers`);
  const next = `${doc.slice(0, start)}${section}${doc.slice(end + END.length)}`;
  if (next !== doc) {
    writeFileSync(VERIFICATION_DOC, next);
    process.stdout.write('[e2e] docs/verification.md updated with this run\'s figures (commit it)\n');
  }
}

async function main(outdir: string): Promise<number> {
  const started = Date.now();
  const stacks = readStacks(outdir);
  const gaps = readGaps();
  const types = new Set(stacks.flatMap((s) => Object.keys(s.tf.resource ?? {})));
  const stale = staleGaps(gaps, types);
  if (stale.length > 0) throw new Error(`scripts/e2e/moto-gaps.yaml lists ${stale.join(', ')}, which no synthesized stack uses: remove the entries`);

  const workDir = mkdtempSync(join(tmpdir(), 'e2e-stacks-'));
  let server: ApiServer | undefined;
  try {
    const prepared = prepareStacks(stacks, { workDir, gaps: new Set(gaps.keys()) });
    const kubeReady = (async () => {
      server = await startApiServer();
      const crds = await installCrds(server);
      const charts = await applyChartCases(server);
      const cel = await celRejections(server);
      process.stdout.write(`[e2e kube] ${crds.length} CRDs; ${charts.length} chart cases applied (${charts.reduce((a, c) => a + c.objects, 0)} objects); ${cel.length} CEL rejections seen\n`);
      return { crds, charts, cel };
    })();
    // An early failure of the Kubernetes side must not wait for the AWS side.
    kubeReady.catch(() => undefined);
    const inClusterReports: InClusterReport[] = [];
    const aws = await runAwsSide(prepared, async (env) => {
      await kubeReady;
      for (const stack of prepared.filter((p) => p.inCluster.length > 0)) {
        const report = await applyInCluster(server!, stack, await evaluatedInCluster(stack, env));
        process.stdout.write(`[e2e kube] ${stack.name}: ${report.applied.map((a) => `${a.address} (${a.objects} objects)`).join(', ') || 'nothing local'}${report.remote.length ? `; remote charts not fetchable here: ${report.remote.map((r) => r.chart).join(', ')}` : ''}\n`);
        inClusterReports.push(report);
      }
    });
    const kube = { ...(await kubeReady), stacks: inClusterReports };
    writeResults(resultsSection(aws, kube));
    process.stdout.write(`[e2e] passed in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    return 0;
  } finally {
    await (server as ApiServer | undefined)?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main(process.argv[2] ?? 'cdktf.out').then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`[e2e] FAILED: ${error.message}\n`);
    process.exit(1);
  },
);
