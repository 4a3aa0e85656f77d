#!/usr/bin/env bash
# The hashed lock of every Python package pip installs into the ComfyUI image.
#
#   scripts/lock-image-requirements.sh          # regenerate images/comfyui/requirements.lock
#   scripts/lock-image-requirements.sh --check       # verify the lock against PyPI (tests; about 40 s)
#   scripts/lock-image-requirements.sh --check-full  # full pip resolution of the lock (about 2.5 min, 3.5 GB)
#
# Inputs (images/comfyui/): comfyui-requirements.txt (the pinned ComfyUI
# release's requirements.txt), requirements-extra.in (what ComfyUI imports
# without declaring it) and constraints.txt (the base image's torch builds).
# pip resolves them against PyPI for the image's platform (CPython 3.11,
# manylinux x86_64, wheels only) with --dry-run --report (nothing installed)
# and the report becomes `name==version --hash=sha256:...` lines. The
# Dockerfile installs the lock with --require-hashes --no-deps.
#
# --check: every pin and hash is a file PyPI serves for the image's platform
# (scripts/verify-image-lock.py, index pages only), and pip itself accepts
# the lock (`pip install --dry-run --require-hashes --no-deps`) for every
# package except the torch/CUDA family, whose wheels are 3.5 GB.
# --check-full: `pip install --dry-run --require-hashes` of the whole lock
# with dependencies on: pip resolves it, torch pin included, and fails when
# the lock is not closed under dependencies. The registry this project uses
# serves no PEP 658 metadata, so pip downloads every wheel to read it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="$ROOT/images/comfyui"
LOCK="${IMAGE_LOCK:-$IMAGE/requirements.lock}"
TOOLS="${TOOLS_DIR:-$ROOT/.tools}"
PIP="${LOCK_PIP:-$TOOLS/lock-venv/bin/pip}"
# The base image's Python (the Dockerfile asserts it).
PYTHON_VERSION=3.11

[[ -x "$PIP" ]] || "$ROOT/scripts/install-tools.sh" lockpip

# Wheels for manylinux x86_64 up to the base image's glibc (Ubuntu 22.04: 2.35).
platforms=()
for minor in $(seq 35 -1 5); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64 --platform linux_x86_64 --platform any)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

resolve() { # report-file pip-args...
  local report="$1"
  shift
  # PIP_FIND_LINKS: a local wheel directory must not stand in for PyPI.
  PIP_FIND_LINKS='' PIP_NO_INPUT=1 "$PIP" install --dry-run --ignore-installed --quiet --disable-pip-version-check \
    --cache-dir "$TOOLS/pip-cache" --index-url https://pypi.org/simple \
    --python-version "$PYTHON_VERSION" --implementation cp --abi "cp${PYTHON_VERSION/./}" --abi abi3 --abi none \
    "${platforms[@]}" --only-binary=:all: --target "$work/target" --report "$report" "$@"
}

if [[ "${1:-}" == "--check" ]]; then
  python3 "$ROOT/scripts/verify-image-lock.py" "$LOCK"
  # The lock without the torch/CUDA family (its entries are 3 lines each: pin, hash, file comment).
  awk '/^(torch|torchvision|torchaudio|triton|nvidia-[a-z0-9-]+)==/ { skip = 3 } skip > 0 { skip--; next } { print }' "$LOCK" >"$work/light.lock"
  resolve "$work/report.json" --require-hashes --no-deps -r "$work/light.lock"
  echo "lock-check: pip accepts $(grep -c '==' "$work/light.lock") pins with their hashes (torch/CUDA family checked by hash above)"
  exit 0
fi

if [[ "${1:-}" == "--check-full" ]]; then
  resolve "$work/report.json" --require-hashes -r "$LOCK"
  python3 - "$work/report.json" "$LOCK" <<'PY'
import json, re, sys
report, lock = sys.argv[1:3]
installed = {re.sub(r"[-_.]+", "-", i["metadata"]["name"]).lower(): i["metadata"]["version"] for i in json.load(open(report))["install"]}
pinned = dict(re.findall(r"^([A-Za-z0-9._-]+)==(\S+)", open(lock).read(), re.M))
pinned = {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in pinned.items()}
extra = sorted(set(installed) - set(pinned))
if extra:
    sys.exit(f"lock-check: the resolution needs packages the lock lacks: {', '.join(extra)}")
print(f"lock-check: {len(installed)} packages resolve against PyPI with their hashes, torch {installed.get('torch')}")
PY
  exit 0
fi

resolve "$work/report.json" -r "$IMAGE/comfyui-requirements.txt" -r "$IMAGE/requirements-extra.in" -c "$IMAGE/constraints.txt"
inputs_digest="$(cat "$IMAGE/comfyui-requirements.txt" "$IMAGE/requirements-extra.in" "$IMAGE/constraints.txt" | sha256sum | cut -c1-64)"
python3 - "$work/report.json" "$LOCK" "$inputs_digest" "$("$PIP" --version | cut -d' ' -f2)" "$PYTHON_VERSION" <<'PY'
import json, re, sys
report, lock, digest, pip_version, python_version = sys.argv[1:6]
entries = []
for item in json.load(open(report))["install"]:
    name, version = item["metadata"]["name"], item["metadata"]["version"]
    hashes = item["download_info"].get("archive_info", {}).get("hashes", {})
    if "sha256" not in hashes:
        sys.exit(f"lock: PyPI gave no sha256 for {name} {version}")
    entries.append((re.sub(r"[-_.]+", "-", name).lower(), version, hashes["sha256"], item["download_info"]["url"].rsplit("/", 1)[-1]))
with open(lock, "w") as out:
    out.write("# Generated by scripts/lock-image-requirements.sh; do not edit (docs/operations.md, image lock).\n")
    out.write(f"# inputs-sha256: {digest}\n")
    out.write(f"# resolved by pip {pip_version} for CPython {python_version} manylinux x86_64, wheels only\n")
    for name, version, sha, filename in sorted(entries):
        out.write(f"{name}=={version} \\\n    --hash=sha256:{sha}\n    # {filename}\n")
print(f"lock: {len(entries)} packages -> {lock}")
PY
