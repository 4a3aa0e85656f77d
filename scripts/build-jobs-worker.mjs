// Bundles the jobs worker (cli/comfy/jobs/worker-main.ts) with its
// dependencies (AWS SDK clients, ws) into one minified file for
// images/jobs-worker: `node scripts/build-jobs-worker.mjs [OUTFILE]`.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = process.argv[2] ?? join(root, 'images', 'jobs-worker', 'dist', 'jobs-worker.js');

const result = await build({
  absWorkingDir: root,
  entryPoints: ['cli/comfy/jobs/worker-main.ts'],
  bundle: true,
  platform: 'node',
  // The image's Node.js major (images/jobs-worker/Dockerfile).
  target: 'node22',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  // Prefer ES modules so unused SDK code is tree-shaken.
  mainFields: ['module', 'main'],
  // ws's optional native speedups: absent, it uses its JavaScript fallback.
  external: ['bufferutil', 'utf-8-validate'],
  outfile,
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs)[0].bytes;
process.stdout.write(`wrote ${outfile} (${(bytes / 1024).toFixed(0)} KiB)\n`);
