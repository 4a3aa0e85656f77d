/**
 * The committed list of resource types moto lacks (moto-gaps.yaml) and the
 * checks that keep it honest: no stale entries, and a clear instruction when
 * a type not on the list fails.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';

export const GAPS_FILE = join(__dirname, '..', '..', 'scripts', 'e2e', 'moto-gaps.yaml');

/** type -> what moto lacks. */
export function readGaps(file = GAPS_FILE): Map<string, string> {
  const raw = parse(readFileSync(file, 'utf8')) as unknown;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: expected a map of <terraform type>: <reason>`);
  const gaps = new Map<string, string>();
  for (const [type, reason] of Object.entries(raw as Record<string, unknown>)) {
    if (!/^aws_[a-z0-9_]+(\.[a-z0-9_.[\]]+)?$/.test(type)) throw new Error(`${file}: ${type}: not an aws_* resource type (or <type>.<attribute reference>)`);
    if (typeof reason !== 'string' || reason.trim().length < 10) throw new Error(`${file}: ${type}: explain what moto lacks (a sentence)`);
    gaps.set(type, reason.trim());
  }
  return gaps;
}

/** Entries that no synthesized stack uses any more. */
export function staleGaps(gaps: ReadonlyMap<string, string>, synthesizedTypes: ReadonlySet<string>): string[] {
  return [...gaps.keys()].filter((t) => !synthesizedTypes.has(t.split('.')[0]));
}

/** The message for a resource that moto failed on and the list does not excuse. */
export function newGapMessage(stack: string, address: string, error: string): string {
  const type = address.replace(/^data\./, '').split('.')[0];
  return [
    `moto could not apply ${address} (type ${type}) in stack ${stack}:`,
    ...error
      .trim()
      .split('\n')
      .slice(0, 12)
      .map((l) => `    ${l}`),
    `  If the configuration is right and moto does not implement what ${type} needs, add one line to scripts/e2e/moto-gaps.yaml:`,
    `    ${type}: <what moto lacks, e.g. "moto has no ... API (Create...)"> (moto <version>)`,
    '  Otherwise fix the resource: moto applies the rest of the stack.',
  ].join('\n');
}
