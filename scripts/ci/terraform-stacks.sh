#!/usr/bin/env bash
# Runs Terraform over every synthesized stack in dependency order.
#
#   plan:  terraform init + plan per stack with -lock=false (the PR role is
#          read-only: it cannot write the state lock), then a Markdown summary:
#          one table row per stack and the full plan in a collapsed block.
#          Every stack is planned even when one fails; exit 1 if any failed.
#   apply: terraform init + plan -out + apply of that saved plan, stack after
#          stack; stops at the first failure.
#
# Usage: scripts/ci/terraform-stacks.sh plan|apply [OUTDIR] [SUMMARY_FILE]
#   SUMMARY_FILE (plan only) defaults to plan-summary.md; the summary is also
#   appended to $GITHUB_STEP_SUMMARY when that is set.
set -euo pipefail

MODE="${1:-}"
OUTDIR="${2:-cdktf.out}"
SUMMARY="${3:-plan-summary.md}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ "$MODE" == plan || "$MODE" == apply ]] || { echo "usage: $0 plan|apply [OUTDIR] [SUMMARY_FILE]" >&2; exit 2; }
command -v terraform >/dev/null || { echo "terraform-stacks: terraform is not installed" >&2; exit 1; }

export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
# A PR comment holds 65536 characters; keep every stack's plan text within its share.
MAX_PLAN_CHARS="${MAX_PLAN_CHARS:-$((60000 / 8))}"

mapfile -t stacks < <("$HERE/stack-order.sh" "$OUTDIR")

# State on a CI runner's disk is gone when the job ends: an apply would lose it
# and plans of later stacks could not read earlier stacks' outputs.
for stack in "${stacks[@]}"; do
  if jq -e '.terraform.backend.local' "$OUTDIR/stacks/$stack/cdk.tf.json" >/dev/null; then
    echo "terraform-stacks: $stack uses local state; set state.bucket in the config (COMFYUI_CONFIG) so CI plans and applies against S3 state" >&2
    exit 2
  fi
done
dir_of() { printf '%s/%s' "$OUTDIR" "$(jq -r --arg n "$1" '.stacks[$n].workingDirectory' "$OUTDIR/manifest.json")"; }

if [[ "$MODE" == apply ]]; then
  for stack in "${stacks[@]}"; do
    dir="$(dir_of "$stack")"
    echo "::group::apply $stack"
    terraform -chdir="$dir" init -input=false -no-color
    terraform -chdir="$dir" plan -input=false -no-color -out=tfplan
    terraform -chdir="$dir" apply -input=false -no-color tfplan
    echo "::endgroup::"
  done
  exit 0
fi

rows=()
details=()
failed=0
for stack in "${stacks[@]}"; do
  dir="$(dir_of "$stack")"
  log="$dir/plan.log"
  echo "::group::plan $stack"
  status=0
  if terraform -chdir="$dir" init -input=false -no-color >"$log" 2>&1; then
    terraform -chdir="$dir" plan -input=false -no-color -lock=false -detailed-exitcode -out=tfplan >>"$log" 2>&1 || status=$?
  else
    status=1
  fi
  cat "$log"
  echo "::endgroup::"
  case "$status" in
    0) result="No changes." ;;
    2) result="$(grep -E '^Plan: ' "$log" | tail -n1)" ;;
    *) result="**plan failed**"; failed=1 ;;
  esac
  rows+=("| \`$stack\` | ${result:-changes} |")
  text="$(if [[ $status -eq 2 || $status -eq 0 ]]; then terraform -chdir="$dir" show -no-color tfplan 2>&1; else tail -n 40 "$log"; fi)"
  if [[ ${#text} -gt $MAX_PLAN_CHARS ]]; then
    text="${text:0:$MAX_PLAN_CHARS}"$'\n'"... (truncated; the full plan is in the job log)"
  fi
  details+=("<details><summary>$stack</summary>"$'\n\n```\n'"$text"$'\n```\n</details>')
done

{
  echo "### Terraform plan"
  echo
  echo "| stack | result |"
  echo "|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  printf '%s\n\n' "${details[@]}"
} >"$SUMMARY"
[[ -z "${GITHUB_STEP_SUMMARY:-}" ]] || cat "$SUMMARY" >>"$GITHUB_STEP_SUMMARY"
exit "$failed"
