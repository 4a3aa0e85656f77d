#!/usr/bin/env python3
"""Checks that a hashed lock covers a requirements file.

    check-lock.py REQUIREMENTS.txt LOCK.txt

Every package REQUIREMENTS names (markers evaluated for this Python) must be
pinned in LOCK (`name==version` with at least one --hash) at a version the
requirement allows. Prints each problem and exits 1, so the image build stops
when ComfyUI's own requirements.txt asks for something the lock lacks.
Runs before anything is installed, so it falls back to pip's vendored copy
of `packaging`.
"""
import sys

try:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version
except ImportError:
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import Version


def logical_lines(path):
    """Lines with comments removed and backslash continuations joined."""
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            yield number, line


def read_lock(path):
    pins, problems = {}, []
    for number, line in logical_lines(path):
        spec, *options = line.split()
        name, sep, version = spec.partition("==")
        hashes = [o for o in options if o.startswith("--hash=sha256:")]
        if not sep or not version or not name:
            problems.append(f"{path}:{number}: {spec} is not pinned as name==version")
            continue
        if not hashes:
            problems.append(f"{path}:{number}: {spec} has no --hash=sha256:")
        pins[canonicalize_name(name)] = Version(version)
    return pins, problems


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: check-lock.py REQUIREMENTS.txt LOCK.txt\n")
        return 2
    requirements_path, lock_path = argv[1], argv[2]
    pins, problems = read_lock(lock_path)
    for number, line in logical_lines(requirements_path):
        if line.startswith("-"):
            problems.append(f"{requirements_path}:{number}: option {line!r} is not supported in the checked file")
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement as err:
            problems.append(f"{requirements_path}:{number}: {err}")
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{requirements_path}:{number}: {req} is not in the lock")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{requirements_path}:{number}: {req} but the lock pins {req.name}=={pinned}")
    for problem in problems:
        sys.stderr.write(f"check-lock: {problem}\n")
    if problems:
        sys.stderr.write("check-lock: regenerate the lock with scripts/lock-image-requirements.sh (docs/operations.md, image lock)\n")
        return 1
    print(f"check-lock: {lock_path} covers {requirements_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
