// Runs a TypeScript entry point: bundles it with esbuild (packages stay
// external, no type-check) into .build/ and executes it with the given args.
import { build } from 'esbuild';
import { spawnSync } from 'child_process';
import { basename } from 'path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: node scripts/run-ts.mjs ENTRY.ts [ARGS...]\n');
  process.exit(2);
}
const outfile = `.build/run/${basename(entry, '.ts')}.js`;
await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', sourcemap: 'inline', logLevel: 'warning' });
const run = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
