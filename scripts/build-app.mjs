// Bundles main.ts and the project's own modules into .build/main.js with
// esbuild (no type-check: `make typecheck` does that). Packages stay external
// and load from node_modules, provider classes by deep path only.
import { build } from 'esbuild';

await build({
  entryPoints: ['main.ts'],
  outfile: '.build/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
