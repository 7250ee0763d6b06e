#!/usr/bin/env python3
"""Build dist/bosky.pyz: one executable file holding src/bosky, standard library only.

The zip is written by hand rather than with `zipapp` so the same sources
always give the same bytes: entries sorted, timestamps fixed (SOURCE_DATE_EPOCH,
default 1980-01-01), modes fixed, deflate compression (zipapp copies file
mtimes and cannot compress on Python 3.6).

Usage: python3 build_pyz.py [--output PATH]
"""

import argparse
import os
import stat
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


def entry_time():
    epoch = max(int(os.environ.get("SOURCE_DATE_EPOCH", ZIP_EPOCH)), ZIP_EPOCH)
    return time.gmtime(epoch)[:6]


def package_files():
    """(archive name, source path) for every runtime module, sorted."""
    names = sorted(n for n in os.listdir(PACKAGE_DIR) if n.endswith(".py"))
    return [("bosky/" + n, os.path.join(PACKAGE_DIR, n)) for n in names]


def add_entry(archive, name, data, date_time):
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.create_system = 3  # Unix, so the mode above is honoured everywhere
    archive.writestr(info, data)


def build(output):
    os.makedirs(os.path.dirname(output), exist_ok=True)
    date_time = entry_time()
    temporary = output + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(SHEBANG)
        with zipfile.ZipFile(handle, "w") as archive:
            add_entry(archive, "__main__.py", ROOT_MAIN.encode("utf-8"), date_time)
            for name, path in package_files():
                with open(path, "rb") as source:
                    add_entry(archive, name, source.read(), date_time)
    os.chmod(temporary, 0o755)
    os.replace(temporary, output)  # never leave a half-written bosky.pyz behind
    return output


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build dist/bosky.pyz.")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    print("built " + os.path.relpath(build(args.output)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
