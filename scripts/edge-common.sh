# shellcheck shell=bash
# Sourced by scripts/edge-user.sh and scripts/edge-cognito.sh: their error
# messages, option check and AWS CLI requests that keep secrets out of argv.
# The callers set the same options; repeated so no caller can go without them.
set -euo pipefail

# Prints "<script>: message" on stderr and exits 2 (bad input; nothing changed by the failing step).
fail() {
  echo "$(basename "$0" .sh): $*" >&2
  exit 2
}

# The scripts take no options: refuses any argument starting with '-'.
reject_options() {
  local arg
  for arg in "$@"; do
    [[ "$arg" == -* ]] && fail "unknown option $arg"
  done
  return 0
}

# Runs `aws SERVICE COMMAND [ARGS...]` with a JSON request from stdin, kept out
# of argv (visible in ps) in a mode-600 file; prints the CLI's output.
aws_json() {
  local request status=0
  request="$(mktemp)"
  chmod 600 "$request"
  cat >"$request"
  aws "$1" "$2" --cli-input-json "file://$request" "${@:3}" || status=$?
  rm -f "$request"
  return "$status"
}
