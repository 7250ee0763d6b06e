#!/usr/bin/env python3
"""Build dist/bosky.pyz: one executable file holding src/bosky, standard library only.

The zip is written by hand rather than with `zipapp` so the same sources
always give the same bytes: entries sorted, timestamps fixed (SOURCE_DATE_EPOCH,
default 1980-01-01), modes fixed, deflate compression (zipapp copies file
mtimes and cannot compress on Python 3.6).  The version comes from
`git describe` (outside a checkout: the package's BASE_VERSION) and is baked
in as bosky/_version.py; the SHA-256 of the result goes to <output>.sha256.

Usage: python3 build_pyz.py [--output PATH]
"""

import argparse
import hashlib
import os
import re
import stat
import subprocess
import sys
import time
import zipfile

ROOT = os.path.dirname(os.path.abspath(__file__))
PACKAGE_DIR = os.path.join(ROOT, "src", "bosky")
DEFAULT_OUTPUT = os.path.join(ROOT, "dist", "bosky.pyz")
SHEBANG = b"#!/usr/bin/env python3\n"
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can hold
# The archive's own entry point: the package's __main__ does the same work.
ROOT_MAIN = "import sys\nfrom bosky import cli\nsys.exit(cli.main())\n"


def base_version():
    with open(os.path.join(PACKAGE_DIR, "__init__.py")) as handle:
        return re.search(r'^BASE_VERSION = "([^"]+)"', handle.read(), re.M).group(1)


def describe_version():
    """The version to bake in: a tag (v1.2.3[-N-gHASH]) or BASE_VERSION+gHASH[.dirty]."""
    base = base_version()
    try:
        described = subprocess.check_output(
            ["git", "describe", "--tags", "--always", "--dirty=.dirty", "--abbrev=12"],
            cwd=ROOT, stderr=subprocess.DEVNULL).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return base  # not a checkout (a source tarball): the declared version
    if re.match(r"^v?\d+\.\d+", described):
        return described.lstrip("v")
    return "{}+g{}".format(base, described)


def entry_time():
    epoch = max(int(os.environ.get("SOURCE_DATE_EPOCH", ZIP_EPOCH)), ZIP_EPOCH)
    return time.gmtime(epoch)[:6]


def package_files():
    """(archive name, source path) for every runtime module, sorted."""
    names = sorted(n for n in os.listdir(PACKAGE_DIR) if n.endswith(".py"))
    return [("bosky/" + n, os.path.join(PACKAGE_DIR, n)) for n in names]


def package_entries(version):
    """(archive name, bytes) for the package, with the generated _version.py."""
    entries = [("bosky/_version.py", 'VERSION = "{}"\n'.format(version).encode("utf-8"))]
    for name, path in package_files():
        with open(path, "rb") as source:
            entries.append((name, source.read()))
    return entries


def add_entry(archive, name, data, date_time):
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.create_system = 3  # Unix, so the mode above is honoured everywhere
    archive.writestr(info, data)


def build(output, version=None):
    os.makedirs(os.path.dirname(output), exist_ok=True)
    date_time = entry_time()
    version = version or describe_version()
    temporary = output + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(SHEBANG)
        with zipfile.ZipFile(handle, "w") as archive:
            add_entry(archive, "__main__.py", ROOT_MAIN.encode("utf-8"), date_time)
            for name, data in sorted(package_entries(version)):
                add_entry(archive, name, data, date_time)
    os.chmod(temporary, 0o755)
    os.replace(temporary, output)  # never leave a half-written bosky.pyz behind
    with open(output, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    with open(output + ".sha256", "w") as handle:  # `sha256sum -c` reads this format
        handle.write("{}  {}\n".format(digest, os.path.basename(output)))
    return output, version, digest


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build dist/bosky.pyz.")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    output, version, digest = build(args.output)
    print("built {} (bosky {}, sha256 {})".format(os.path.relpath(output), version, digest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
