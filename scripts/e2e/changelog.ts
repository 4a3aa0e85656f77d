/**
 * The AWS provider built here is newer than the release the stacks pin. This
 * reads the provider's CHANGELOG (shipped in the Go module, copied next to the
 * build) for the releases after the pin and picks the entries that remove,
 * deprecate or change an argument of a type the stacks use, and flags those
 * whose argument the stacks actually set.
 */

/** One CHANGELOG bullet about a type we use. */
export interface ChangelogEntry {
  readonly version: string;
  readonly section: string;
  readonly subject: string;
  readonly text: string;
  /** Backticked names in the entry that the stacks set on that type. */
  readonly argumentsWeSet: string[];
}

const compare = (a: string, b: string): number => {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i += 1) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
};

const CHANGE = /\b(remov|deprecat|renam|no longer|now required|breaking|changes? (the )?default|must now)/i;

/**
 * Entries of releases newer than `pinned` about `resource/<type>` or
 * `data-source/<type>` for the given types that remove/deprecate/change
 * something (or sit under BREAKING CHANGES). `argumentsSet` maps
 * `resource/<type>` to the argument paths the stacks set.
 */
export function relevantChanges(changelog: string, pinned: string, argumentsSet: ReadonlyMap<string, ReadonlySet<string>>): ChangelogEntry[] {
  const entries: ChangelogEntry[] = [];
  let version = '';
  let section = '';
  for (const line of changelog.split('\n')) {
    const v = /^## (\d+\.\d+\.\d+)/.exec(line);
    if (v) {
      version = v[1];
      continue;
    }
    const s = /^([A-Z][A-Z ]+):\s*$/.exec(line);
    if (s) {
      section = s[1];
      continue;
    }
    if (!version || compare(version, pinned) <= 0) continue;
    const m = /^\* ((?:resource|data-source)\/aws_[a-z0-9_]+): (.*)$/.exec(line);
    if (!m || !argumentsSet.has(m[1])) continue;
    if (section !== 'BREAKING CHANGES' && !CHANGE.test(m[2])) continue;
    const set = argumentsSet.get(m[1])!;
    // "Deprecates `a` in favor of `b`": only `a` is affected.
    const named = [...m[2].split(/in favou?r of/i)[0].matchAll(/`([a-z0-9_.]+)`/g)].map((n) => n[1]);
    entries.push({ version, section, subject: m[1], text: m[2].replace(/ \(\[#\d+\]\([^)]*\)\)/g, ''), argumentsWeSet: named.filter((n) => set.has(n) || set.has(n.split('.')[0])) });
  }
  return entries;
}

/** `resource/<type>` and `data-source/<type>` -> argument paths set in the synthesized stacks (and attributes read from them). */
export function argumentsOf(stacks: readonly { tf: { resource?: Record<string, Record<string, unknown>>; data?: Record<string, Record<string, unknown>> } }[], allText: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const walk = (value: unknown, prefix: string, into: Set<string>): void => {
    if (Array.isArray(value)) return value.forEach((v) => walk(v, prefix, into));
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === '//') continue;
      const path = prefix ? `${prefix}.${k}` : k;
      into.add(path);
      walk(v, path, into);
    }
  };
  for (const stack of stacks) {
    for (const [kind, blocks] of [['resource', stack.tf.resource ?? {}], ['data-source', stack.tf.data ?? {}]] as const) {
      for (const [type, byName] of Object.entries(blocks)) {
        if (!type.startsWith('aws_')) continue;
        const key = `${kind}/${type}`;
        const set = out.get(key) ?? new Set<string>();
        walk(byName, '', set);
        // Strip the resource name level: paths are relative to the resource body.
        const relative = new Set([...set].map((p) => p.split('.').slice(1).join('.')).filter(Boolean));
        // Attributes read from the type elsewhere (`aws_partition.X.id`) count as used too.
        const prefix = kind === 'data-source' ? `data.${type}.` : `${type}.`;
        for (const m of allText.matchAll(new RegExp(`${prefix.replace(/\./g, '\\.')}[A-Za-z0-9_-]+\\.([a-z0-9_]+)`, 'g'))) relative.add(m[1]);
        out.set(key, relative);
      }
    }
  }
  return out;
}

/** Entries that break the stacks: breaking or removing something they set. */
export const blocking = (entries: readonly ChangelogEntry[]): ChangelogEntry[] =>
  entries.filter((e) => e.argumentsWeSet.length > 0 && (e.section === 'BREAKING CHANGES' || /\b(remov|renam|no longer|now required|must now)/i.test(e.text)) && !/Resource Identity/.test(e.text));
