import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { loadConfig } from '../../config';
import { renderConfigDocs } from '../../scripts/gen-config-docs';

const ROOT = join(__dirname, '../..');

describe('docs/configuration.md', () => {
  it('is generated from the current schema (run `make docs` after changing config/schema.ts)', () => {
    expect(readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8')).toBe(renderConfigDocs());
  });

  it('documents every field with a description', () => {
    const rows = renderConfigDocs().split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.length).toBeGreaterThan(40);
    const undocumented = rows.filter((r) => /\| *\|$/.test(r.trim())).map((r) => r.split('|')[1].trim());
    expect(undocumented).toEqual([]);
  });
});

describe('config/examples', () => {
  it.each(readdirSync(join(ROOT, 'config/examples')))('%s is a valid override file', (file) => {
    const result = loadConfig({ COMFYUI_CONFIG: join(ROOT, 'config/examples', file) });
    expect(result.ok ? [] : result.errors).toEqual([]);
  });
});
