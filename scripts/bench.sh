#!/usr/bin/env bash
# Measures `make synth` (warm) against a baseline of the same app run through
# ts-node (type-checking on, the cdktf template's default `npx ts-node main.ts`),
# RUNS times each, and writes median wall time and peak RSS of both, and their
# ratio, into the synth section of docs/benchmarks.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-5}"
DOC="docs/benchmarks.md"
export CHECKPOINT_DISABLE=1
export PATH="$ROOT/node_modules/.bin:$PATH"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

# measure LABEL COMMAND...: appends "wall_seconds max_rss_kb" per run to $SCRATCH/LABEL
measure() {
  local label="$1"; shift
  for ((i = 1; i <= RUNS; i++)); do
    /usr/bin/time -f '%e %M' -o "$SCRATCH/run" "$@" >/dev/null 2>"$SCRATCH/stderr" || {
      cat "$SCRATCH/stderr" >&2
      echo "bench: '$*' failed" >&2
      exit 1
    }
    local wall rss
    read -r wall rss <"$SCRATCH/run"
    echo "$wall $rss" >>"$SCRATCH/$label"
    printf '[bench] %-8s run %d/%d: %s s, %s KB\n' "$label" "$i" "$RUNS" "$wall" "$rss"
  done
}

# median of column N of a file
median() { cut -d' ' -f"$2" "$1" | sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }
peak() { cut -d' ' -f2 "$1" | sort -n | tail -1; }

make -s synth >/dev/null # warm-up: installs what is missing, fills the OS cache
measure synth make -s synth
measure ts-node env CDKTF_OUTDIR="$SCRATCH/ts-node.out" ts-node --project tsconfig.json -O '{"noEmit":false}' main.ts

synth_wall="$(median "$SCRATCH/synth" 1)"
synth_rss_mb=$(( $(peak "$SCRATCH/synth") / 1024 ))
base_wall="$(median "$SCRATCH/ts-node" 1)"
base_rss_mb=$(( $(peak "$SCRATCH/ts-node") / 1024 ))
ratio="$(awk -v a="$base_wall" -v b="$synth_wall" 'BEGIN {printf "%.1f", a / b}')"
stacks="$(node -e "console.log(Object.keys(require('./cdktf.out/manifest.json').stacks).length)")"
resources="$(node scripts/resource-counts.mjs | tail -1 | awk '{print $3}')"

section="$SCRATCH/section.md"
cat >"$section" <<MD
<!-- synth-bench:start (written by scripts/bench.sh; do not edit by hand) -->
## Synth: \`make synth\` vs ts-node baseline

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Node.js $(node --version), $RUNS warm runs each; $stacks stacks, $resources resources.

| | median wall | peak RSS |
|---|---|---|
| \`make synth\` (esbuild bundle + node, deep imports) | ${synth_wall} s | ${synth_rss_mb} MB |
| baseline: \`ts-node main.ts\` (type-checks on every run) | ${base_wall} s | ${base_rss_mb} MB |
| ratio (baseline / ours) | ${ratio}x | |

Targets: <= 5 s median wall and <= 600 MB peak RSS for the full synth.
Reproduce: \`make bench\` (RUNS=5 by default).
<!-- synth-bench:end -->
MD

mkdir -p docs
[[ -f "$DOC" ]] || printf '# Benchmarks\n\nFigures measured on this project'"'"'s CI-class machine. Each section says how to reproduce it.\n\n' >"$DOC"
if grep -q '<!-- synth-bench:start' "$DOC"; then
  awk -v f="$section" '
    /<!-- synth-bench:start/ { while ((getline line < f) > 0) print line; skip = 1; next }
    /<!-- synth-bench:end/ { skip = 0; next }
    !skip { print }' "$DOC" >"$SCRATCH/doc" && cp "$SCRATCH/doc" "$DOC"
else
  { printf '\n'; cat "$section"; } >>"$DOC"
fi
cat "$section"
