// Bundles main.ts and the project's own modules into .build/main.js with
// esbuild (no type-check: `make typecheck` does that).
import { build } from 'esbuild';
import { NODE_BUNDLE_OPTIONS } from './esbuild-node.mjs';

await build({ ...NODE_BUNDLE_OPTIONS, entryPoints: ['main.ts'], outfile: '.build/main.js', logLevel: 'warning' });
