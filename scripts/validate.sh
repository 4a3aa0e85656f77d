#!/usr/bin/env bash
# `make validate`: terraform init -backend=false + terraform validate for every
# synthesized stack, in manifest order. Needs the providers: from
# registry.terraform.io, a plugin cache (TF_PLUGIN_CACHE_DIR) or a mirror
# configured in the Terraform CLI config. Exit codes: 0 valid, 1 a stack is
# invalid or init failed, 3 providers could not be downloaded.
#
# Usage: scripts/validate.sh [OUTDIR]   (default cdktf.out)
#
# VALIDATE_PROVIDERS=dev (what `make test` runs; docs/verification.md): no
# registry access. The AWS provider built by `scripts/install-tools.sh
# aws-provider` is used through dev_overrides in the project's own CLI config
# (.deploy-proof/terraform.tfrc via TF_CLI_CONFIG_FILE, never ~/.terraformrc),
# for OUTDIR and for every config/examples/*.yaml, with no network but loopback.
set -euo pipefail

OUTDIR="${1:-cdktf.out}"
if [[ "${VALIDATE_PROVIDERS:-registry}" == dev ]]; then
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  outdirs=("$OUTDIR")
  mkdir -p "$ROOT/.deploy-proof/synth"
  for config in "$ROOT"/config/examples/*.yaml; do
    out="$ROOT/.deploy-proof/synth/$(basename "$config" .yaml)"
    COMFYUI_CONFIG="$config" CDKTF_OUTDIR="$out" node "$ROOT/.build/main.js" >/dev/null
    outdirs+=("$out")
  done
  exec "$ROOT/scripts/loopback-only.sh" node "$ROOT/scripts/run-ts.mjs" "$ROOT/scripts/e2e/validate.ts" "${outdirs[@]}"
fi
MANIFEST="$OUTDIR/manifest.json"
[[ -f "$MANIFEST" ]] || { echo "validate: $MANIFEST not found: run make synth first" >&2; exit 1; }
command -v terraform >/dev/null || { echo "validate: terraform is not installed (https://developer.hashicorp.com/terraform/install)" >&2; exit 1; }
command -v jq >/dev/null || { echo "validate: jq is not installed (make tools)" >&2; exit 1; }

export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
# Every stack uses the same provider versions: download them once.
export TF_PLUGIN_CACHE_DIR="${TF_PLUGIN_CACHE_DIR:-$HOME/.terraform.d/plugin-cache}"
mkdir -p "$TF_PLUGIN_CACHE_DIR"

mapfile -t stacks < <(jq -r '.stacks | to_entries[] | "\(.key)\t\(.value.workingDirectory)"' "$MANIFEST")
[[ ${#stacks[@]} -gt 0 ]] || { echo "validate: no stacks in $MANIFEST" >&2; exit 1; }

failed=0
for entry in "${stacks[@]}"; do
  name="${entry%%$'\t'*}"
  dir="$OUTDIR/${entry#*$'\t'}"
  if ! init_log="$(terraform -chdir="$dir" init -backend=false -input=false -no-color 2>&1)"; then
    if grep -qE 'Failed to query available provider packages|Failed to install provider|could not connect|no such host|connection refused|i/o timeout' <<<"$init_log"; then
      providers="$(jq -r '.terraform.required_providers // {} | to_entries[] | "\(.value.source)@\(.value.version)"' "$dir/cdk.tf.json" | paste -sd ' ' -)"
      {
        echo "validate: cannot download the Terraform providers for $name ($providers):"
        grep -m1 -E 'could not connect|no such host|connection refused|timeout' <<<"$init_log" | sed 's/^/  terraform: /' || true
        echo "  The provider source (registry.terraform.io, or the mirror in the Terraform CLI config) is not reachable."
        echo "  Run make validate where it is (the PR workflow does), or fill TF_PLUGIN_CACHE_DIR or a provider mirror first."
      } >&2
      exit 3
    fi
    echo "validate: terraform init failed for $name:" >&2
    echo "$init_log" >&2
    exit 1
  fi
  if validate_log="$(terraform -chdir="$dir" validate -no-color 2>&1)"; then
    echo "validate: $name ok"
  else
    echo "validate: $name is invalid:" >&2
    echo "$validate_log" >&2
    failed=1
  fi
done
exit "$failed"
