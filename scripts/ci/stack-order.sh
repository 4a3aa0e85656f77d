#!/usr/bin/env bash
# Prints the stacks of a synthesized app in dependency order, one per line:
# every stack after the stacks it reads outputs from (cdktf records those
# cross-stack references as `dependencies` in manifest.json). Plans and
# deploys use this order, so adding a stack needs no edit here.
#
# Usage: scripts/ci/stack-order.sh [OUTDIR]   (default cdktf.out)
set -euo pipefail

MANIFEST="${1:-cdktf.out}/manifest.json"
[[ -f "$MANIFEST" ]] || { echo "stack-order: $MANIFEST not found: synthesize first" >&2; exit 1; }

mapfile -t names < <(jq -r '.stacks | keys_unsorted[]' "$MANIFEST")
declare -A deps placed
for name in "${names[@]}"; do
  deps[$name]="$(jq -r --arg n "$name" '.stacks[$n].dependencies // [] | join(" ")' "$MANIFEST")"
  for dep in ${deps[$name]}; do
    jq -e --arg d "$dep" '.stacks | has($d)' "$MANIFEST" >/dev/null || { echo "stack-order: $name depends on $dep, which is not in $MANIFEST" >&2; exit 1; }
  done
done

order=()
while [[ ${#order[@]} -lt ${#names[@]} ]]; do
  progressed=0
  for name in "${names[@]}"; do
    [[ -z "${placed[$name]:-}" ]] || continue
    ready=1
    for dep in ${deps[$name]}; do [[ -n "${placed[$dep]:-}" ]] || ready=0; done
    if [[ $ready -eq 1 ]]; then
      order+=("$name")
      placed[$name]=1
      progressed=1
    fi
  done
  if [[ $progressed -eq 0 ]]; then
    left=()
    for name in "${names[@]}"; do [[ -n "${placed[$name]:-}" ]] || left+=("$name"); done
    echo "stack-order: dependency cycle among ${left[*]}" >&2
    exit 1
  fi
done
printf '%s\n' "${order[@]}"
