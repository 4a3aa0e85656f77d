/**
 * Compares scanner reports with the baseline and prints the per-tool counts.
 * Run by scripts/scan.sh (bundled to .build/scan-report.js):
 *
 *   node .build/scan-report.js --baseline config/security-baseline.yaml \
 *     checkov:terraform:FILE checkov:kubernetes:FILE trivy:terraform:FILE trivy:kubernetes@CHART:FILE ...
 *
 * Exit 0 when every finding is in the baseline, 1 when there are new
 * findings, 2 on bad input (unreadable report or baseline).
 */
import { readFileSync } from 'fs';
import { compare, formatReport, parseBaseline, readCheckov, readTrivy, ScanResult, Scope } from './baseline';

const INPUT = /^(checkov|trivy):(terraform|kubernetes)(?:@([A-Za-z0-9._-]+))?:(.+)$/;

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${what}: cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what}: ${path} is not JSON (did the scanner crash? first line: ${JSON.stringify(text.split('\n')[0].slice(0, 200))})`);
  }
}

/** Merges results of the same tool and scope (e.g. trivy run once per chart) into one row. */
function merge(results: ScanResult[]): ScanResult[] {
  const byKey = new Map<string, ScanResult>();
  for (const r of results) {
    const key = `${r.tool}:${r.scope}`;
    const prev = byKey.get(key);
    byKey.set(key, prev ? { ...prev, passed: prev.passed + r.passed, findings: [...prev.findings, ...r.findings] } : r);
  }
  return [...byKey.values()];
}

export function run(argv: string[]): { code: number; output: string } {
  let baselineFile = 'config/security-baseline.yaml';
  const results: ScanResult[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--baseline') {
      baselineFile = argv[++i] ?? '';
      continue;
    }
    const m = INPUT.exec(argv[i]);
    if (!m) throw new Error(`unknown argument ${JSON.stringify(argv[i])}: expected --baseline FILE or TOOL:SCOPE[@CHART]:FILE`);
    const [, tool, scope, chart, file] = m;
    const json = readJson(file, `${tool} ${scope}`);
    results.push(tool === 'checkov' ? readCheckov(json, scope as Scope) : readTrivy(json, scope as Scope, chart));
  }
  const baseline = parseBaseline(readFileSync(baselineFile, 'utf8'), baselineFile);
  const comparison = compare(merge(results), baseline);
  return { code: comparison.newFindings.length > 0 ? 1 : 0, output: formatReport(comparison, baselineFile) };
}

if (require.main === module) {
  try {
    const { code, output } = run(process.argv.slice(2));
    process.stdout.write(`${output}\n`);
    process.exitCode = code;
  } catch (e) {
    process.stderr.write(`scan report: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
