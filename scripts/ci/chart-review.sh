#!/usr/bin/env bash
# Chart review for a pull request: `helm lint` of every chart under charts/,
# and the diff of the manifests each chart renders at the base ref and now,
# as Markdown (job summary and PR comment). A chart's ci/scan-values.yaml,
# when present, supplies the values it needs to render (same as make scan).
# Exit 1 when a chart fails to lint or render.
#
# Usage: scripts/ci/chart-review.sh BASE_REF [OUTPUT_FILE]   (default chart-review.md)
set -euo pipefail

BASE_REF="${1:?usage: $0 BASE_REF [OUTPUT_FILE]}"
OUTPUT="${2:-chart-review.md}"
ROOT="$(git rev-parse --show-toplevel)"
# helm pinned by scripts/install-tools.sh, next to this script's checkout.
PROJECT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="$PROJECT/.tools/bin:$PATH"
command -v helm >/dev/null || { echo "chart-review: helm not found; run scripts/install-tools.sh go" >&2; exit 1; }
git -C "$ROOT" rev-parse --verify --quiet "$BASE_REF^{commit}" >/dev/null || { echo "chart-review: unknown base ref $BASE_REF (fetch it first)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/base" "$work/base-rendered" "$work/head-rendered"
# The charts as they are on the base ref (none if charts/ did not exist there).
if git -C "$ROOT" cat-file -e "$BASE_REF:charts" 2>/dev/null; then
  git -C "$ROOT" archive "$BASE_REF" charts | tar -x -C "$work/base"
fi

render() { # chart-dir output-file
  local chart="$1" out="$2" name values=()
  name="$(basename "$chart")"
  [[ -f "$chart/ci/scan-values.yaml" ]] && values=(-f "$chart/ci/scan-values.yaml")
  helm template "$name" "$chart" --namespace "$name" "${values[@]}" >"$out"
}

mapfile -t names < <(
  for chart_yaml in "$ROOT"/charts/*/Chart.yaml "$work"/base/charts/*/Chart.yaml; do
    [[ -f "$chart_yaml" ]] && basename "$(dirname "$chart_yaml")"
  done | sort -u
)

failed=0
fence="\`\`\`"
{
  echo "### Helm charts"
  echo
  [[ ${#names[@]} -gt 0 ]] || echo "No charts under charts/."
  for name in "${names[@]}"; do
    head_chart="$ROOT/charts/$name"
    base_chart="$work/base/charts/$name"
    head_out="$work/head-rendered/$name.yaml"
    base_out="$work/base-rendered/$name.yaml"
    : >"$head_out"
    : >"$base_out"
    echo "#### \`$name\`"
    echo
    if [[ -d "$head_chart" ]]; then
      values=()
      [[ -f "$head_chart/ci/scan-values.yaml" ]] && values=(--values "$head_chart/ci/scan-values.yaml")
      if lint="$(helm lint "$head_chart" "${values[@]}" 2>&1)"; then
        echo "helm lint: passed"
      else
        failed=1
        printf 'helm lint: **failed**\n\n%s\n%s\n%s\n' "$fence" "$lint" "$fence"
      fi
      if ! render_error="$(render "$head_chart" "$head_out" 2>&1)"; then
        failed=1
        printf '\nhelm template: **failed**\n\n%s\n%s\n%s\n' "$fence" "$render_error" "$fence"
      fi
    else
      echo "Chart removed."
    fi
    if [[ -d "$base_chart" ]]; then
      render "$base_chart" "$base_out" 2>/dev/null || echo "(the base version does not render; diff against empty)"
    fi
    echo
    if diff_text="$(diff -u --label "$BASE_REF" --label "this PR" "$base_out" "$head_out")"; then
      echo "Rendered manifests: no changes."
    else
      printf '<details><summary>Rendered manifest diff (%s lines)</summary>\n\n%sdiff\n%s\n%s\n</details>\n' "$(wc -l <<<"$diff_text")" "$fence" "${diff_text:0:50000}" "$fence"
    fi
    echo
  done
} >"$OUTPUT"
[[ -z "${GITHUB_STEP_SUMMARY:-}" ]] || cat "$OUTPUT" >>"$GITHUB_STEP_SUMMARY"
cat "$OUTPUT"
exit "$failed"
