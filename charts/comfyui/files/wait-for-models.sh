#!/bin/sh
# Init container of the ComfyUI pod. Waits until the node's model-sync has
# finished its first full copy of the models bucket (it then writes the
# readiness marker), so ComfyUI never starts with part of the models missing.
# Runs in the ComfyUI image, so that image is pulled while the node is still
# syncing models. Also prepares the scratch directories ComfyUI writes to.
set -eu
: "${MODELS_READY_MARKER:?}" "${MODELS_WAIT_TIMEOUT_SECONDS:?}" "${SCRATCH_DIR:?}"
poll_seconds="${MODELS_POLL_SECONDS:-5}"

mkdir -p "$SCRATCH_DIR/tmp" "$SCRATCH_DIR/home" "$SCRATCH_DIR/user" "$SCRATCH_DIR/temp" "$SCRATCH_DIR/input"

start=$(date +%s)
next_log=0
while [ ! -f "$MODELS_READY_MARKER" ]; do
  elapsed=$(( $(date +%s) - start ))
  if [ "$elapsed" -ge "$MODELS_WAIT_TIMEOUT_SECONDS" ]; then
    echo "model-sync: timed out after ${elapsed}s waiting for $MODELS_READY_MARKER: the node's first model sync has not finished (see the node's comfyui-model-sync logs); the pod will be retried" >&2
    exit 1
  fi
  if [ "$elapsed" -ge "$next_log" ]; then
    echo "model-sync: waiting for $MODELS_READY_MARKER (written after the node's first full sync), ${elapsed}s of ${MODELS_WAIT_TIMEOUT_SECONDS}s"
    next_log=$(( elapsed + 30 ))
  fi
  sleep "$poll_seconds"
done
echo "model-sync: models ready after $(( $(date +%s) - start ))s: $(head -c 300 "$MODELS_READY_MARKER" | tr -d '\n')"
