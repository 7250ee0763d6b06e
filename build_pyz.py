#!/usr/bin/env python3
"""Build dist/bosky.pyz: one executable file holding src/bosky, standard library only.

The zip is written by hand rather than with `zipapp` so the same sources
always give the same bytes: entries sorted, timestamps fixed (SOURCE_DATE_EPOCH,
default 1980-01-01), modes fixed, deflate compression (zipapp copies file
mtimes and cannot compress on Python 3.6).  The version comes from
`git describe` (outside a checkout: the package's BASE_VERSION) and is baked
in as bosky/_version.py; the SHA-256 of the result goes to <output>.sha256.

Bytecode: a zipapp's source is compiled again on every run (zipimport never
caches it), which was a third of bosky's start-up.  So each CPython 3.6-3.13
the builder has compiles the package once, into one entry, bytecode/<cache
tag>; the archive's __main__ imports bosky from the one matching the running
interpreter (tag and magic number both), inflating only the modules a run
imports.  One entry per interpreter, not a
.pyc per module: zipimport reads the whole zip directory on every start.  Any
other Python imports the source.  The bytes therefore depend on which of those
interpreters the builder has: BUILDINFO in the archive names them, and another
builder with the same ones gets the same bytes.

Usage: python3 build_pyz.py [--output PATH] [--source-only | --python PATH ...]
"""

import argparse
import base64
import glob
import hashlib
import json
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
BYTECODE_FOR = ("3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13")
BUNDLE_DIR = "bytecode/"
# What `bosky --version` imports: kept uncompressed in each bundle, so that --version
# (and the archive's stored __main__.py) never load zlib.  test_build checks the list.
UNCOMPRESSED = ("bosky", "bosky._version", "bosky.cli", "bosky.errors")
# The archive's own entry point, compiled from source on every run (zipimport caches
# nothing), hence short.  BUNDLES maps a cache tag to the magic number of the bundle
# built for it ({bundles} is filled in by the build).  The Bytecode finder imports
# bosky from the bytecode compiled for this interpreter at build time.  The whole
# bundle is read at start, so a .pyz overwritten in place while bosky runs (`curl -o`
# over it, under a `bosky watch`) cannot break a later import; each module's code
# is dropped once imported.  Tracebacks (--debug) still show source lines:
# get_source reads the zip's source.
ROOT_MAIN = """import marshal, sys

BUNDLES = {bundles}


class Bytecode(object):
    def __init__(self, archive, bundle):
        self.archive = archive  # modules: name -> (package?, zlib'd?, code)
        self.modules = marshal.loads(archive.get_data(bundle))
        self.packages = {name for name, entry in self.modules.items() if entry[0]}

    def find_spec(self, name, path=None, target=None):
        if name not in self.modules:
            return None
        from _frozen_importlib import ModuleSpec  # already loaded: costs nothing
        package = name in self.packages
        spec = ModuleSpec(name, self, origin=self.source_path(name), is_package=package)
        spec.has_location = True  # so the module gets __file__
        if package:
            spec.submodule_search_locations = [spec.origin.rpartition("/")[0]]
        return spec

    def source_path(self, name):
        suffix = "/__init__.py" if name in self.packages else ".py"
        return self.archive.archive + "/" + name.replace(".", "/") + suffix

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        _, compressed, code = self.modules.pop(module.__name__)  # imported once
        if compressed:
            import zlib
            code = zlib.decompress(code)
        code = marshal.loads(code)
        fix_filename = getattr(sys.modules["_imp"], "_fix_co_filename", None)
        if fix_filename is not None:
            fix_filename(code, module.__spec__.origin)
        exec(code, module.__dict__)

    def get_source(self, name):
        return self.archive.get_data(self.source_path(name)).decode("utf-8")


def prefer_bytecode():
    tag = sys.implementation.cache_tag
    if tag not in BUNDLES:
        return  # another Python (PyPy, a newer CPython): the source it is
    import _frozen_importlib_external as bootstrap  # CPython's, already loaded
    if BUNDLES[tag] == bootstrap.MAGIC_NUMBER:
        sys.meta_path.insert(0, Bytecode(__loader__, "{bundle_dir}" + tag))


prefer_bytecode()
from bosky import cli  # noqa: E402

sys.exit(cli.main())
"""
# Run by each interpreter with hash seed 0 (set and frozenset constants keep
# their order).  Reads {"sources": {archive name: source}, "uncompressed": [module]}
# as JSON; writes its tag and, in base64, the marshalled bundle {module name: (is
# package, zlib'd?, its marshalled code, zlib'd unless listed)}.  The bundle's zip entry
# is stored, not deflated, so a run inflates only what it imports.
COMPILE_SCRIPT = """
import base64, json, marshal, sys, zlib
import _frozen_importlib_external as bootstrap
given = json.loads(sys.stdin.read())
bundle = {}
for name in sorted(given["sources"]):
    code = compile(given["sources"][name].encode("utf-8"), name, "exec", dont_inherit=True)
    module = name[:-3].replace("/", ".")
    if module.endswith(".__init__"):
        module, package = module[:-len(".__init__")], True
    else:
        package = False
    compressed = module not in given["uncompressed"]
    code = marshal.dumps(code)
    bundle[module] = (package, compressed, zlib.compress(code, 9) if compressed else code)
json.dump({"tag": sys.implementation.cache_tag, "magic": list(bootstrap.MAGIC_NUMBER),
           "version": sys.version.split()[0],
           "bundle": base64.b64encode(marshal.dumps(bundle)).decode("ascii")}, sys.stdout)
"""


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
    """(archive name, source path) for every runtime module in the package tree, sorted."""
    found = []
    for directory, subdirectories, names in os.walk(PACKAGE_DIR):
        subdirectories[:] = [d for d in subdirectories if d != "__pycache__"]
        relative = os.path.relpath(directory, os.path.dirname(PACKAGE_DIR))
        found += [("/".join(relative.split(os.sep) + [n]), os.path.join(directory, n))
                  for n in names if n.endswith(".py")]
    return sorted(found)


def package_entries(version):
    """(archive name, bytes) for the package, with the generated _version.py."""
    entries = [("bosky/_version.py", 'VERSION = "{}"\n'.format(version).encode("utf-8"))]
    for name, path in package_files():
        with open(path, "rb") as source:
            entries.append((name, source.read()))
    return entries


def patch_level(path):
    """(3, 11, 7) from .../versions/3.11.7/bin/python3.11, for picking the newest."""
    return version_key(path.split(os.sep)[-3])


def find_interpreters():
    """A path for each of BYTECODE_FOR found: pyenv's newest patch, else one on PATH."""
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    path_dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep)
                 if d and "shims" not in d.split(os.sep)]  # a pyenv shim may run another one
    found = []
    for minor in BYTECODE_FOR:
        name = "python" + minor
        installed = glob.glob(os.path.join(pyenv_root, "versions", minor + ".*", "bin", name))
        candidates = sorted(installed, key=patch_level, reverse=True)
        candidates += [os.path.join(d, name) for d in path_dirs]
        usable = [c for c in candidates if os.path.isfile(c) and os.access(c, os.X_OK)]
        found += usable[:1]
    return found


def compile_with(interpreter, sources):
    """Compile {archive name: source text} with one interpreter: tag, magic, version, bundle."""
    env = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "")}
    try:
        result = subprocess.run([interpreter, "-S", "-s", "-c", COMPILE_SCRIPT], env=env,
                                input=json.dumps({"sources": sources, "uncompressed":
                                                  UNCOMPRESSED}).encode("utf-8"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise SystemExit("build_pyz.py: cannot run {}: {}; name a CPython 3.6 or newer".format(
            interpreter, exc.strerror or exc))
    if result.returncode != 0:
        raise SystemExit("build_pyz.py: {} could not compile bosky (a CPython 3.6 or newer "
                         "is needed): {}".format(interpreter, result.stderr.decode(
                             "utf-8", "replace").strip()[-500:]))
    compiled = json.loads(result.stdout.decode("utf-8"))
    return (compiled["tag"], bytes(compiled["magic"]), compiled["version"],
            base64.b64decode(compiled["bundle"]))


def bytecode_entries(entries, interpreters):
    """A bundle entry per interpreter, and (version, tag, magic) of each, oldest first."""
    sources = {name: data.decode("utf-8") for name, data in entries}
    found, built = [], []
    for interpreter in interpreters:
        tag, magic, version, bundle = compile_with(interpreter, sources)
        if tag in (b[1] for b in built):
            raise SystemExit("build_pyz.py: two interpreters for {}; name one".format(tag))
        found.append((BUNDLE_DIR + tag, bundle))
        built.append((version, tag, magic))
    return found, sorted(built, key=lambda b: version_key(b[0]))


def version_key(version):
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def buildinfo_lines(built):
    return ["bytecode {} {} (CPython {})".format(tag, magic.hex(), version)
            for version, tag, magic in built]


def add_entry(archive, name, data, date_time):
    info = zipfile.ZipInfo(name, date_time=date_time)
    # Bytecode bundles hold compressed modules already (see COMPILE_SCRIPT); __main__.py
    # stored, so that reading it loads no zlib.
    info.compress_type = zipfile.ZIP_STORED if name.startswith(BUNDLE_DIR) or \
        name == "__main__.py" else zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.create_system = 3  # Unix, so the mode above is honoured everywhere
    archive.writestr(info, data)


def archive_entries(version, interpreters):
    """(every entry but __main__.py, sorted; the root __main__.py's text; what was built)."""
    entries = package_entries(version)
    compiled, built = bytecode_entries(entries, interpreters)
    buildinfo = "".join(line + "\n" for line in ["bosky " + version] + buildinfo_lines(built))
    entries += compiled + [("BUILDINFO", buildinfo.encode("utf-8"))]
    magics = {tag: magic for _, tag, magic in built}
    main_text = ROOT_MAIN.replace("{bundles}", repr(dict(sorted(magics.items())))).replace(
        "{bundle_dir}", BUNDLE_DIR)
    return sorted(entries), main_text, built


def build(output, version=None, interpreters=None):
    """Write the .pyz and its .sha256; interpreters: the Pythons to compile bytecode with."""
    os.makedirs(os.path.dirname(output), exist_ok=True)
    date_time = entry_time()
    version = version or describe_version()
    interpreters = find_interpreters() if interpreters is None else interpreters
    entries, main_text, built = archive_entries(version, interpreters)
    temporary = output + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(SHEBANG)
        with zipfile.ZipFile(handle, "w") as archive:
            add_entry(archive, "__main__.py", main_text.encode("utf-8"), date_time)
            for name, data in entries:
                add_entry(archive, name, data, date_time)
    os.chmod(temporary, 0o755)
    os.replace(temporary, output)  # never leave a half-written bosky.pyz behind
    with open(output, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    with open(output + ".sha256", "w") as handle:  # `sha256sum -c` reads this format
        handle.write("{}  {}\n".format(digest, os.path.basename(output)))
    return output, version, digest, built


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build dist/bosky.pyz.")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    parser.add_argument("--source-only", action="store_true",
                        help="no bytecode: the same bytes on any builder, slower to start")
    parser.add_argument("--python", action="append", metavar="PATH",
                        help="compile bytecode with this interpreter (repeatable) instead of "
                        "each CPython 3.6-3.13 found")
    args = parser.parse_args(argv)
    interpreters = [] if args.source_only else args.python
    output, version, digest, built = build(args.output, interpreters=interpreters)
    print("built {} (bosky {}, sha256 {})".format(os.path.relpath(output), version, digest))
    for line in buildinfo_lines(built):
        print("  " + line)
    minors = {".".join(v.split(".")[:2]) for v, _, _ in built}
    missing = [minor for minor in BYTECODE_FOR if minor not in minors]
    if missing and interpreters is None:
        print("  no bytecode for CPython {}: not found on this builder; those run from "
              "source, slower to start".format(", ".join(missing)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
