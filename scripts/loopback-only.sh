#!/usr/bin/env bash
# Runs a command in a network namespace of its own whose only interface is
# loopback, so a test that reaches anything but 127.0.0.1 fails instead of
# talking to the internet or an AWS account (make validate-dev, make e2e).
# It gets a PID namespace of its own too: when the command ends, however it
# ends (failure, timeout, signal), every process it started (moto, etcd,
# kube-apiserver, terraform) ends with it; nothing outlives the test.
# Where namespaces are not available (not root, no unshare), the command runs
# as is and says so; the tests then rely on their endpoint settings alone.
#
# Usage: scripts/loopback-only.sh COMMAND [ARGS...]
set -euo pipefail

if [[ "${LOOPBACK_ONLY_ACTIVE:-}" != 1 ]] && command -v unshare >/dev/null && command -v ip >/dev/null && unshare --net --pid --kill-child true 2>/dev/null; then
  # bash stays PID 1 of the namespace with traps: PID 1 ignores signals it has no handler for, and its exit ends the rest.
  exec unshare --net --pid --kill-child -- env LOOPBACK_ONLY_ACTIVE=1 bash -c 'trap "exit 130" INT; trap "exit 143" TERM; ip link set lo up && { "$@" & wait "$!"; }' loopback-only "$@"
fi
[[ "${LOOPBACK_ONLY_ACTIVE:-}" == 1 ]] || echo "loopback-only: no network namespace here (needs root and unshare): running without the loopback-only guard" >&2
exec "$@"
