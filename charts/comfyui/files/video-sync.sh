#!/bin/sh
# Sidecar of the ComfyUI pod: copies finished videos from ComfyUI's temp
# directory (local scratch) to the outputs bucket mount.
#
# Mountpoint for S3 accepts only sequential writes of new files. Video muxers
# seek back to write their index, so they cannot write to the bucket mount;
# a plain cp of the finished file is one sequential write and can. A file is
# finished once it has not been modified for SETTLE_SECONDS. Copied files are
# remembered in STATE_DIR (same emptyDir, so a sidecar restart does not copy
# twice). Running as a native sidecar, it is stopped only after ComfyUI has
# exited; on SIGTERM it copies whatever is left, settled or not, and exits.
set -eu
: "${SOURCE_DIR:?}" "${TARGET_DIR:?}" "${STATE_DIR:?}" "${EXTENSIONS:?}" "${SETTLE_SECONDS:?}" "${INTERVAL_SECONDS:?}"

stopping=0
trap 'stopping=1' TERM INT

log() { echo "video-sync: $*"; }

is_video() {
  ext=$(printf '%s' "${1##*.}" | tr '[:upper:]' '[:lower:]')
  for wanted in $EXTENSIONS; do
    [ "$ext" = "$wanted" ] && return 0
  done
  return 1
}

# $1: path relative to SOURCE_DIR; $2: minimum age in seconds.
copy_if_finished() {
  rel=$1
  marker="$STATE_DIR/$rel.copied"
  [ -f "$marker" ] && return 0
  # The file may vanish between find and here (ComfyUI cleans its temp dir on start).
  mtime=$(stat -c %Y "$SOURCE_DIR/$rel" 2>/dev/null) || return 0
  age=$(( $(date +%s) - mtime ))
  [ "$age" -ge "$2" ] || return 0
  target="$TARGET_DIR/$rel"
  mkdir -p "$(dirname "$target")" "$(dirname "$marker")"
  if cp "$SOURCE_DIR/$rel" "$target"; then
    : >"$marker"
    log "copied $rel to $target ($(stat -c %s "$SOURCE_DIR/$rel") bytes)"
  else
    log "copy of $rel failed; retrying on the next scan" >&2
  fi
}

# $1: minimum age in seconds.
scan() {
  [ -d "$SOURCE_DIR" ] || return 0
  find "$SOURCE_DIR" -type f | while IFS= read -r path; do
    rel=${path#"$SOURCE_DIR"/}
    if is_video "$rel"; then
      copy_if_finished "$rel" "$1" || log "skipped $rel" >&2
    fi
  done
}

mkdir -p "$STATE_DIR"
log "watching $SOURCE_DIR for: $EXTENSIONS (settled after ${SETTLE_SECONDS}s) -> $TARGET_DIR"
while [ "$stopping" -eq 0 ]; do
  scan "$SETTLE_SECONDS"
  sleep "$INTERVAL_SECONDS" &
  wait $! || true
done
log "stopping: copying the remaining videos"
scan 0
log "done"
