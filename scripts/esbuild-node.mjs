// esbuild options shared by every bundle of the project's own TypeScript that
// runs on this machine's Node.js (the synth app, scripts, the API client):
// one file, packages left external and loaded from node_modules (provider
// classes by deep path only), no type-check (`make typecheck` does that).
export const NODE_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'inline',
};
