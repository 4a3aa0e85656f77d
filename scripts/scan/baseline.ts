/**
 * The security scan baseline and the comparison of scanner results against
 * it. Every finding of checkov or trivy must either be fixed or be listed in
 * config/security-baseline.yaml with the check id, the stack or chart, the
 * resource, and a written reason. Anything else fails the build; entries
 * that no longer match anything are reported as stale.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** Scanner tools the baseline knows. */
export const TOOLS = ['checkov', 'trivy'] as const;
export type Tool = (typeof TOOLS)[number];

/** What a scanner looked at: synthesized Terraform stacks or rendered Kubernetes manifests. */
export type Scope = 'terraform' | 'kubernetes';

/** Reasons shorter than this do not tell a reviewer why a check does not apply. */
export const MIN_REASON_LENGTH = 30;

const glob = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .refine((v) => v.replace(/\*/g, '').length > 0, `${what} must name something; a bare "*" would suppress the check everywhere`);

export const suppressionSchema = z
  .object({
    tool: z.enum(TOOLS).describe('Scanner that reports the check.'),
    check: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a check id such as CKV_AWS_144 or AVD-AWS-0090').describe('Check id (checkov check_id, trivy AVDID).'),
    target: glob('target').describe('Stack id (e.g. *-storage) or chart name; * matches any characters, {a,b} either alternative.'),
    resource: glob('resource').describe('Resource address (aws_s3_bucket.LogsBucket_*), Kind.namespace.name, or chart template path; * matches any characters.'),
    reason: z.string().refine((r) => r.trim().length >= MIN_REASON_LENGTH, `must explain why the check does not apply, in at least ${MIN_REASON_LENGTH} characters`),
  })
  .strict();

export const baselineSchema = z.object({ suppressions: z.array(suppressionSchema).default([]) }).strict();

export type Suppression = z.output<typeof suppressionSchema>;
export type Baseline = z.output<typeof baselineSchema>;

/** Parses the baseline YAML; errors name the entry and field. */
export function parseBaseline(text: string, file = 'config/security-baseline.yaml'): Baseline {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    throw new Error(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const result = baselineSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
      return `  ${path || '(root)'}: ${i.code === z.ZodIssueCode.unrecognized_keys ? `unknown key(s) ${i.keys.join(', ')}` : i.message}`;
    });
    throw new Error(`${file} is invalid:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** One failed check, normalised across tools. */
export interface Finding {
  readonly tool: Tool;
  readonly scope: Scope;
  /** checkov check_id or trivy AVDID. */
  readonly check: string;
  /** Stack id or chart name. */
  readonly target: string;
  /** Resource address, Kind.namespace.name, or template path. */
  readonly resource: string;
  /** The check's title. */
  readonly title: string;
}

/** Counts of one scanner run. */
export interface ScanResult {
  readonly tool: Tool;
  readonly scope: Scope;
  readonly passed: number;
  readonly findings: Finding[];
}

function firstSegment(path: string): string {
  return path.replace(/^\/+/, '').split('/')[0];
}

/**
 * checkov `-o json` output: one report object, a list of them (several
 * frameworks), or a bare summary when there was nothing to scan. Skipped
 * checks count as findings: a suppression belongs in the baseline, not in an
 * inline skip annotation.
 */
export function readCheckov(json: unknown, scope: Scope): ScanResult {
  const reports = (Array.isArray(json) ? json : [json]) as { results?: Record<string, unknown[]>; summary?: { passed?: number } }[];
  let passed = 0;
  const findings: Finding[] = [];
  for (const report of reports) {
    if (typeof report !== 'object' || report === null) throw new Error('checkov output is not a JSON report');
    passed += report.summary?.passed ?? 0;
    const failed = [...((report.results?.failed_checks ?? []) as Record<string, unknown>[]), ...((report.results?.skipped_checks ?? []) as Record<string, unknown>[])];
    for (const c of failed) {
      const file = String(c.file_path ?? '');
      findings.push({
        tool: 'checkov',
        scope,
        check: String(c.check_id),
        // Terraform: /<stack>/cdk.tf.json; Kubernetes: /<chart>.yaml (one rendered file per chart).
        target: scope === 'terraform' ? firstSegment(file) : firstSegment(file).replace(/\.ya?ml$/, ''),
        resource: String(c.resource ?? ''),
        title: String(c.check_name ?? ''),
      });
    }
  }
  return { tool: 'checkov', scope, passed, findings };
}

interface TrivyMisconfiguration {
  ID?: string;
  AVDID?: string;
  Title?: string;
  Status?: string;
  CauseMetadata?: { Resource?: string };
}

/**
 * trivy `config --format json` output. For Terraform the target is the stack
 * directory (first path segment) and the resource the Terraform address; for a
 * chart (`chart` given) the target is the chart and the resource the template.
 */
export function readTrivy(json: unknown, scope: Scope, chart?: string): ScanResult {
  const results = ((json as { Results?: unknown[] } | null)?.Results ?? []) as { Target?: string; MisconfSummary?: { Successes?: number }; Misconfigurations?: TrivyMisconfiguration[] }[];
  if (typeof json !== 'object' || json === null || !('SchemaVersion' in json)) throw new Error('trivy output is not a JSON report');
  // A chart always has templates: no result at all means trivy could not render
  // it (it logs why only outside --quiet) and checked nothing.
  if (chart !== undefined && results.length === 0) {
    throw new Error(`trivy scanned nothing in chart ${chart}: it could not render the chart (run trivy config --debug on it to see why)`);
  }
  let passed = 0;
  const findings: Finding[] = [];
  for (const result of results) {
    passed += result.MisconfSummary?.Successes ?? 0;
    for (const m of result.Misconfigurations ?? []) {
      if (m.Status !== 'FAIL') continue;
      const targetPath = String(result.Target ?? '');
      findings.push({
        tool: 'trivy',
        scope,
        check: String(m.AVDID || m.ID),
        target: chart ?? firstSegment(targetPath),
        resource: chart ? targetPath : String(m.CauseMetadata?.Resource || targetPath),
        title: String(m.Title ?? ''),
      });
    }
  }
  return { tool: 'trivy', scope, passed, findings };
}

/** `*` matches any characters; `{a,b}` matches either alternative. */
export function globMatch(pattern: string, value: string): boolean {
  const escape = (text: string) => text.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  const source = pattern
    .split(/(\{[^{}]*\})/)
    .map((part) => (/^\{[^{}]*\}$/.test(part) ? `(?:${part.slice(1, -1).split(',').map(escape).join('|')})` : escape(part)))
    .join('');
  return new RegExp(`^${source}$`).test(value);
}

/** True when the suppression covers the finding. */
export function suppresses(s: Suppression, f: Finding): boolean {
  return s.tool === f.tool && s.check === f.check && globMatch(s.target, f.target) && globMatch(s.resource, f.resource);
}

/** Per-tool counts and what is new or stale. */
export interface Comparison {
  readonly rows: { tool: Tool; scope: Scope; passed: number; failed: number; suppressed: number; new: number }[];
  readonly newFindings: Finding[];
  readonly stale: Suppression[];
}

export function compare(results: readonly ScanResult[], baseline: Baseline): Comparison {
  const used = new Set<Suppression>();
  const newFindings: Finding[] = [];
  const rows = results.map((r) => {
    let suppressed = 0;
    for (const f of r.findings) {
      const s = baseline.suppressions.find((entry) => suppresses(entry, f));
      if (s) {
        used.add(s);
        suppressed++;
      } else {
        newFindings.push(f);
      }
    }
    return { tool: r.tool, scope: r.scope, passed: r.passed, failed: r.findings.length, suppressed, new: r.findings.length - suppressed };
  });
  return { rows, newFindings, stale: baseline.suppressions.filter((s) => !used.has(s)) };
}

/** The text `make scan` prints. */
export function formatReport(comparison: Comparison, baselineFile: string): string {
  const lines: string[] = [];
  const header = ['tool', 'scope', 'passed', 'failed', 'suppressed', 'new'];
  const table = [header, ...comparison.rows.map((r) => [r.tool, r.scope, String(r.passed), String(r.failed), String(r.suppressed), String(r.new)])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) lines.push(row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
  if (comparison.newFindings.length > 0) {
    lines.push('', `New findings (fix them, or add them to ${baselineFile} with a reason):`);
    for (const f of comparison.newFindings) lines.push(`  ${f.tool} ${f.check} ${f.target} ${f.resource}: ${f.title}`);
  }
  if (comparison.stale.length > 0) {
    lines.push('', `Stale baseline entries (match no finding any more; remove them from ${baselineFile}):`);
    for (const s of comparison.stale) lines.push(`  ${s.tool} ${s.check} ${s.target} ${s.resource}`);
  }
  return lines.join('\n');
}
