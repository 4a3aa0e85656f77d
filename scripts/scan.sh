#!/usr/bin/env bash
# Security scanners over everything the repository deploys, offline:
#   checkov --framework terraform_json  on every synthesized stack (cdk.tf.json)
#   checkov --framework kubernetes      on every chart under charts/, rendered by helm template
#   trivy config (embedded checks)      on the stacks (HCL rendering, see below) and every chart dir
# Findings are compared with config/security-baseline.yaml: anything not
# listed there fails (exit 1); stale entries are reported. Prints passed,
# failed, suppressed and new counts per tool, and how long each step took.
#
# Usage: scripts/scan.sh [OUTDIR]        (OUTDIR: output of `make synth`, default cdktf.out)
# Environment:
#   CHARTS_DIR         charts to scan (default charts/); a chart may carry ci/scan-values.yaml
#   SECURITY_BASELINE  baseline file (default config/security-baseline.yaml)
#   SCAN_HCL_DIR       an HCL synth of the same stacks (default: synthesized here)
#   SCAN_REPORT_DIR    keep the raw scanner reports there (CI uploads them)
#   SCAN_KUBE_VERSION  Kubernetes version the charts are rendered for (default: the
#                      platform's default cluster.kubernetesVersion)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTDIR="$(cd "${1:-cdktf.out}" 2>/dev/null && pwd)" || { echo "scan: ${1:-cdktf.out} does not exist: run make synth first" >&2; exit 2; }
CHARTS_DIR="${CHARTS_DIR:-$ROOT/charts}"
BASELINE="${SECURITY_BASELINE:-$ROOT/config/security-baseline.yaml}"
# helm and trivy render the charts for the same version. trivy's own default
# (v1.20) fails every chart requiring a newer one (kubeVersion) and then
# reports nothing at all for it.
KUBE_VERSION="${SCAN_KUBE_VERSION:-1.35.0}"
export PATH="$ROOT/.tools/bin:$ROOT/.tools/venv/bin:$ROOT/node_modules/.bin:$PATH"
# No update checks, telemetry or Prisma Cloud calls: the scan runs offline.
export CHECKPOINT_DISABLE=1 BC_SKIP_MAPPING=TRUE

for tool in checkov trivy helm node esbuild; do
  command -v "$tool" >/dev/null || { echo "scan: $tool not found; run make tools" >&2; exit 2; }
done
[[ -f "$OUTDIR/manifest.json" ]] || { echo "scan: $OUTDIR/manifest.json missing: run make synth first" >&2; exit 2; }
[[ -f "$BASELINE" ]] || { echo "scan: baseline $BASELINE not found" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
reports="${SCAN_REPORT_DIR:-$work/reports}"
mkdir -p "$reports" "$work/rendered"

now_ms() { date +%s%3N; }
scan_start=$(now_ms)
step_start=0
step() { step_start=$(now_ms); printf '[scan] %s ... ' "$1"; }
done_step() {
  local elapsed=$(($(now_ms) - step_start))
  printf 'done (%d.%01d s)\n' $((elapsed / 1000)) $((elapsed % 1000 / 100))
}

# A scanner that exits non-zero with --soft-fail crashed; show why.
run_scanner() { # log-file command...
  local log="$1"
  shift
  if ! "$@" 2>"$log"; then
    echo "failed" >&2
    echo "scan: $* failed:" >&2
    tail -n 20 "$log" >&2
    exit 2
  fi
}

step "build the report tool"
esbuild "$ROOT/scripts/scan/report.ts" --bundle --platform=node --target=node20 --packages=external \
  --outfile="$ROOT/.build/scan-report.js" --log-level=warning
done_step

# trivy's Terraform JSON reader does not follow `${...}` references, so it
# cannot link a bucket to its encryption or versioning resources and reports
# them as missing; the HCL rendering of the same construct tree reads correctly.
hcl_dir="${SCAN_HCL_DIR:-}"
if [[ -z "$hcl_dir" ]]; then
  step "synthesize the stacks as HCL for trivy"
  (cd "$ROOT" && node scripts/build-app.mjs && SYNTH_HCL_OUTPUT=true CDKTF_OUTDIR="$work/hcl" node .build/main.js)
  hcl_dir="$work/hcl"
  done_step
fi

charts=()
if [[ -d "$CHARTS_DIR" ]]; then
  for chart_yaml in "$CHARTS_DIR"/*/Chart.yaml; do
    [[ -f "$chart_yaml" ]] && charts+=("$(dirname "$chart_yaml")")
  done
fi

chart_values() { # chart-dir -> helm/trivy values arguments
  local values="$1/ci/scan-values.yaml"
  [[ -f "$values" ]] && printf '%s\n' "$values"
  return 0
}

for chart in "${charts[@]}"; do
  name="$(basename "$chart")"
  step "helm template $name"
  values=()
  while IFS= read -r v; do values+=(-f "$v"); done < <(chart_values "$chart")
  run_scanner "$work/helm-$name.log" helm template "$name" "$chart" --namespace "$name" --kube-version "$KUBE_VERSION" "${values[@]}" >"$work/rendered/$name.yaml"
  done_step
done

inputs=()

step "checkov terraform_json ($(find "$OUTDIR/stacks" -name 'cdk.tf.json' | wc -l) stacks)"
run_scanner "$work/checkov-terraform.log" checkov --directory "$OUTDIR/stacks" --framework terraform_json \
  --output json --quiet --soft-fail --skip-download >"$reports/checkov-terraform.json"
inputs+=("checkov:terraform:$reports/checkov-terraform.json")
done_step

if [[ ${#charts[@]} -gt 0 ]]; then
  step "checkov kubernetes (${#charts[@]} charts)"
  run_scanner "$work/checkov-kubernetes.log" checkov --directory "$work/rendered" --framework kubernetes \
    --output json --quiet --soft-fail --skip-download >"$reports/checkov-kubernetes.json"
  inputs+=("checkov:kubernetes:$reports/checkov-kubernetes.json")
  done_step
fi

trivy_config() { # report-file target [extra args]
  local report="$1" target="$2"
  shift 2
  run_scanner "$report.log" trivy config --quiet --skip-check-update --skip-version-check --disable-telemetry \
    --cache-dir "$work/trivy-cache" --format json --output "$report" "$@" "$target"
}

step "trivy config terraform"
trivy_config "$reports/trivy-terraform.json" "$hcl_dir/stacks"
inputs+=("trivy:terraform:$reports/trivy-terraform.json")
done_step

for chart in "${charts[@]}"; do
  name="$(basename "$chart")"
  step "trivy config chart $name"
  values=()
  while IFS= read -r v; do values+=(--helm-values "$v"); done < <(chart_values "$chart")
  trivy_config "$reports/trivy-chart-$name.json" "$chart" --helm-kube-version "$KUBE_VERSION" "${values[@]}"
  inputs+=("trivy:kubernetes@$name:$reports/trivy-chart-$name.json")
  done_step
done

[[ ${#charts[@]} -gt 0 ]] || echo "[scan] no charts under ${CHARTS_DIR#"$ROOT"/}: Kubernetes scans skipped"

echo
status=0
node "$ROOT/.build/scan-report.js" --baseline "$BASELINE" "${inputs[@]}" || status=$?
total_ms=$(( $(now_ms) - scan_start ))
printf '\n[scan] total %d.%01d s\n' $((total_ms / 1000)) $((total_ms % 1000 / 100))
exit "$status"
