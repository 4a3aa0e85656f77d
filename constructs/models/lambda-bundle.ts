/**
 * Bundles a TypeScript Lambda entry point with esbuild during synth (no
 * network, no npm install) into a content-addressed directory under the OS
 * temp dir, independent of cdktf.out: the same sources give the same
 * directory, the same bytes and the same file times, so the zip cdktf makes
 * from it and the function's source hash only change when the code does.
 */
import { createHash } from 'crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join, resolve } from 'path';
import { buildSync } from 'esbuild';

/** A bundled function. */
export interface LambdaBundle {
  /** Directory holding `index.js` (the TerraformAsset source). */
  readonly directory: string;
  /** Base64 SHA-256 of index.js (the function's source_code_hash). */
  readonly sha256: string;
  /** Size of index.js in bytes. */
  readonly bytes: number;
}

/** How to bundle. */
export interface LambdaBundleOptions {
  /** Entry file, relative to the project root (e.g. lambdas/model-sync/handler.ts). */
  readonly entry: string;
  /** Node.js target of the runtime (e.g. node22). */
  readonly target: string;
  /** Packages left to the runtime instead of bundled (e.g. ['@aws-sdk/*']). Default: none. */
  readonly external?: readonly string[];
}

/** A fixed time for the bundle file, so archives of the same code are byte-identical. */
const FIXED_TIME = new Date('2000-01-01T00:00:00Z');

/** The project root: the nearest ancestor holding the entry (works from sources and from .build/). */
export function findProjectRoot(entry: string, start: string = __dirname): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, entry))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${entry} above ${start}: is the lambdas/ directory missing?`);
    dir = parent;
  }
}

/** Bundles `entry` (tree-shaken, minified, CommonJS) and returns where the result is. */
export function bundleLambda(options: LambdaBundleOptions): LambdaBundle {
  const root = findProjectRoot(options.entry);
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: [options.entry],
    bundle: true,
    platform: 'node',
    target: options.target,
    format: 'cjs',
    minify: true,
    // Sources are visible in the repository; a map would double the size.
    sourcemap: false,
    legalComments: 'none',
    // Prefer ES modules so unused SDK code is tree-shaken.
    mainFields: ['module', 'main'],
    external: [...(options.external ?? [])],
    write: false,
    logLevel: 'silent',
  });
  if (result.errors.length > 0) throw new Error(`bundling ${options.entry} failed: ${result.errors.map((e) => e.text).join('; ')}`);
  const code = result.outputFiles[0].contents;
  const sha256 = createHash('sha256').update(code).digest('base64');
  const hex = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const base = join(tmpdir(), 'comfyui-lambda-bundles');
  const directory = join(base, `${options.entry.replace(/[^A-Za-z0-9]+/g, '-')}-${hex}`);
  const file = join(directory, 'index.js');
  if (!existsSync(file) || !readFileSync(file).equals(Buffer.from(code))) {
    mkdirSync(directory, { recursive: true });
    // Write beside the directory, then rename: a parallel synth never zips a half-written file.
    const partial = join(base, `.${hex}-${process.pid}.partial`);
    writeFileSync(partial, code);
    renameSync(partial, file);
  }
  utimesSync(file, FIXED_TIME, FIXED_TIME);
  return { directory, sha256, bytes: code.length };
}
