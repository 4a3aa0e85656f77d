import { existsSync, readdirSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

const ROOT = join(__dirname, '../..');
const docs = ['README.md', 'charts/comfyui/README.md', 'examples/workflows/README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('documentation links', () => {
  it.each(docs.filter((d) => existsSync(join(ROOT, d))))('%s links only to files that exist', (doc) => {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    const targets = [...text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));
    const missing = targets.filter((t) => !existsSync(join(ROOT, dirname(doc), t)));
    expect(missing).toEqual([]);
  });
});
