#!/usr/bin/env python3
"""Verifies images/comfyui/requirements.lock against the registry (PyPI).

    python3 scripts/verify-image-lock.py LOCK

Every `name==version --hash=sha256:H` must be a file the registry's Simple
API (PEP 691) lists for that project: that version, not yanked, installable
on the image (CPython 3.11, Linux x86_64). Reads index pages only, never
wheels; exits 1 naming each problem. Needs only the standard library and
pip's copy of `packaging`.
"""
import json
import re
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

try:
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename

INDEX = "https://pypi.org"
def get_json(url, accept="application/json"):
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "comfyui-eks-lock-check"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        raise SystemExit(f"verify-image-lock: GET {url}: HTTP {err.code}") from err


def read_lock(path):
    text = open(path, encoding="utf-8").read().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==(\S+)\s+--hash=sha256:([0-9a-f]{64})", line.strip())
        if match:
            pins[canonicalize_name(match[1])] = (match[1], match[2], match[3])
    return pins


def wheel_fits(filename):
    if not filename.endswith(".whl"):
        return False
    _, _, _, tags = parse_wheel_filename(filename)
    def interpreter_fits(t):
        if t.abi == "abi3":  # the stable ABI: built for this CPython or an older one
            return t.interpreter.startswith("cp3") and int(t.interpreter[3:]) <= 11
        return t.interpreter in ("cp311", "py3", "py311") and t.abi in ("cp311", "none")

    return any(
        interpreter_fits(t)
        and (t.platform == "any" or (t.platform.endswith("_x86_64") and (t.platform.startswith("manylinux") or t.platform == "linux_x86_64")))
        for t in tags
    )


def check_file(entry):
    name, version, sha = entry
    page = get_json(f"{INDEX}/simple/{canonicalize_name(name)}/", "application/vnd.pypi.simple.v1+json")
    for f in page["files"]:
        if f.get("hashes", {}).get("sha256") == sha:
            problems = []
            if f.get("yanked"):
                problems.append(f"{name}=={version}: {f['filename']} is yanked")
            if not wheel_fits(f["filename"]):
                problems.append(f"{name}=={version}: {f['filename']} does not install on CPython 3.11 Linux x86_64")
            if f"-{version}-" not in f["filename"].replace("_", "-") and f"-{version.replace('-', '_')}-" not in f["filename"]:
                problems.append(f"{name}=={version}: the hash is of {f['filename']}")
            return problems
    return [f"{name}=={version}: the registry has no file with sha256 {sha}"]


def main(argv):
    pins = read_lock(argv[1])
    if not pins:
        sys.stderr.write(f"verify-image-lock: no pinned, hashed entries in {argv[1]}\n")
        return 1
    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = [p for ps in pool.map(check_file, pins.values()) for p in ps]
    for problem in problems:
        sys.stderr.write(f"verify-image-lock: {problem}\n")
    if problems:
        return 1
    print(f"verify-image-lock: {len(pins)} pins, each a file {INDEX} serves with that sha256 for CPython 3.11 Linux x86_64")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
