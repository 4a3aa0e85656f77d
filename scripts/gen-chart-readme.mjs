// Writes the values table of charts/comfyui/README.md from the `# -- `
// comments in charts/comfyui/values.yaml (the helm-docs convention), between
// the values-table markers. A key with a `# -- ` comment is one row (its
// default shown whole); a mapping without one is expanded into its keys.
// Every leaf must be documented: an undocumented one is an error.
//
// Usage: node scripts/gen-chart-readme.mjs [--check]
//   --check  exit 1 when README.md is not up to date (used by the tests).
import { readFileSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';

const chartDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'charts', 'comfyui');
const START = '<!-- values-table:start -->';
const END = '<!-- values-table:end -->';

function description(comment) {
  const lines = (comment ?? '').split('\n').map((l) => l.trim());
  const at = lines.findIndex((l) => l.startsWith('-- '));
  if (at < 0) return undefined;
  const rest = lines.slice(at + 1).filter((l) => l !== '' && !l.startsWith('--'));
  return [lines[at].slice(3), ...rest].join(' ');
}

function typeOf(node) {
  if (isMap(node)) return 'object';
  if (isSeq(node)) return 'list';
  const v = node?.value;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

const cell = (text) => text.replace(/\|/g, '\\|');

function rows(map, prefix, out, undocumented) {
  for (const pair of map.items) {
    const key = `${prefix}${pair.key.value}`;
    const doc = description(pair.key.commentBefore ?? (pair === map.items[0] ? map.commentBefore : undefined));
    if (doc !== undefined) {
      out.push(`| \`${key}\` | ${typeOf(pair.value)} | \`${cell(JSON.stringify(pair.value?.toJSON?.() ?? pair.value?.value ?? null))}\` | ${cell(doc)} |`);
    } else if (isMap(pair.value) && pair.value.items.length > 0) {
      rows(pair.value, `${key}.`, out, undocumented);
    } else {
      undocumented.push(key);
    }
  }
}

const doc = parseDocument(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
const out = ['| Key | Type | Default | Description |', '|---|---|---|---|'];
const undocumented = [];
rows(doc.contents, '', out, undocumented);
if (undocumented.length > 0) {
  console.error(`values.yaml: no "# -- " description for: ${undocumented.join(', ')}`);
  process.exit(1);
}

const readmePath = join(chartDir, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start < 0 || end < start) {
  console.error(`${readmePath}: missing the ${START} / ${END} markers`);
  process.exit(1);
}
const updated = `${readme.slice(0, start + START.length)}\n${out.join('\n')}\n${readme.slice(end)}`;
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error(`${readmePath}: values table is out of date; run: node scripts/gen-chart-readme.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(readmePath, updated);
  console.log(`wrote ${out.length - 2} rows to ${readmePath}`);
}
