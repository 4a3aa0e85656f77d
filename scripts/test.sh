#!/usr/bin/env bash
# make test: every test, in the order that keeps a 2-core machine busy.
#
# The deploy proof (make e2e: the stacks applied to moto and destroyed, the
# charts applied to a real kube-apiserver) spends most of its time waiting on
# terraform, moto and the API server, so it runs beside the CPU-bound steps
# (type-check, jest, scanners, terraform validate) on a copy of the
# synthesized stacks, instead of after them. Its output goes to
# .deploy-proof/e2e.log; its summary (or, when it fails, the end of its log)
# is printed when it is done. The run fails when any step fails.
#
# Usage: scripts/test.sh   (from make test, with .tools/bin on PATH)
#   E2E_TIMEOUT   bound of the deploy proof (default 25m)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

make_quiet() { make --no-print-directory "$@"; }
elapsed() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }

started=$SECONDS
make_quiet synth >/dev/null
# A copy: the scanners and validate synthesize cdktf.out again while e2e reads its stacks.
e2e_input=.deploy-proof/e2e-input
e2e_log=.deploy-proof/e2e.log
rm -rf "$e2e_input" && mkdir -p .deploy-proof && cp -a cdktf.out "$e2e_input"
# A session of its own, so that whatever ends this script ends every process of the deploy proof too.
setsid make --no-print-directory e2e-only E2E_INPUT="$e2e_input" >"$e2e_log" 2>&1 &
e2e_pid=$!
trap 'pkill -TERM -s "$e2e_pid" 2>/dev/null || true' EXIT
echo "[test] make e2e started beside the other steps (log: $e2e_log)"

make_quiet typecheck
# One worker per core (jest's default leaves one core to itself): many suites wait on moto, the AWS CLI
# or loop devices, so the cores are not full even with e2e beside (measured in docs/benchmarks.md).
jest --ci --maxWorkers=100%
make_quiet scan
make_quiet actionlint
make_quiet validate VALIDATE_PROVIDERS=dev

echo "[test] waiting for make e2e"
e2e_status=0
wait "$e2e_pid" || e2e_status=$?
trap - EXIT
if [[ $e2e_status -ne 0 ]]; then
  echo "[test] make e2e FAILED (exit $e2e_status); the end of $e2e_log:" >&2
  tail -n 80 "$e2e_log" >&2
  exit "$e2e_status"
fi
grep -E '^\[e2e( aws| kube)?\]' "$e2e_log" | cut -c1-400
echo "[test] every step passed in $(elapsed $((SECONDS - started)))"
