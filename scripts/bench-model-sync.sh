#!/usr/bin/env bash
# Model-sync benchmarks (bundle size, 100-record batch time against moto,
# SSM calls per batch vs node count); writes the model-sync section of docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Packages stay external: the script loads the SDK and esbuild from node_modules.
node_modules/.bin/esbuild scripts/bench-model-sync.ts --bundle --platform=node --target=node20 --format=cjs \
  --packages=external --log-level=warning --outfile=.build/bench-model-sync.js
node .build/bench-model-sync.js
