#!/usr/bin/env bash
# Batch jobs benchmarks (worker overhead per job against moto + the fake
# ComfyUI, submit -n 1000 throughput); writes the jobs section of docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# ts-node keeps module boundaries (a bundle would also start the fake ComfyUI's standalone server).
TS_NODE_TRANSPILE_ONLY=1 node -r ts-node/register scripts/bench-jobs.ts
