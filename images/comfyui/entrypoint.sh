#!/usr/bin/env bash
# Starts ComfyUI listening on all interfaces on $COMFYUI_PORT; every argument
# is passed on (the chart passes the output/input/temp/user directories and
# the extra model paths file).
set -euo pipefail

port="${COMFYUI_PORT:-8188}"
if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
  echo "comfyui-entrypoint: COMFYUI_PORT must be a TCP port number, got '$port'" >&2
  exit 64
fi

exec python "${COMFYUI_HOME:-/opt/comfyui}/main.py" --listen 0.0.0.0 --port "$port" "$@"
