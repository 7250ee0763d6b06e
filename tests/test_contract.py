"""Promises about the runtime files themselves: 3.6 syntax, stdlib only, lazy imports."""

import ast
import glob
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from test_compat import interpreters

RUNTIME_FILES = sorted(glob.glob(os.path.join(ROOT, "src", "bosky", "**", "*.py"), recursive=True))
# Standard-library modules that arrived after 3.6: importing one breaks RHEL 8 and SLES 15.
NEWER_THAN_36 = {"dataclasses", "contextvars", "zoneinfo", "graphlib", "tomllib",
                 "importlib.resources", "importlib.metadata"}
NETWORK_MODULES = ("urllib.request", "http.client", "ssl", "socket", "email")


def imported_modules(path):
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


@pytest.mark.skipif(sys.version_info < (3, 10), reason="needs sys.stdlib_module_names")
@pytest.mark.parametrize("path", RUNTIME_FILES, ids=os.path.basename)
def test_runtime_imports_only_the_standard_library(path):
    for module in imported_modules(path):
        top = module.split(".")[0]
        assert top == "bosky" or top in sys.stdlib_module_names, module
        assert module not in NEWER_THAN_36, module


def test_every_runtime_file_compiles_under_the_oldest_python():
    oldest = next((path for version, path in interpreters() if version[:2] == (3, 6)), None)
    if oldest is None:
        pytest.skip("no CPython 3.6 here")
    subprocess.check_call([oldest, "-m", "py_compile"] + RUNTIME_FILES)


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_do_not_import_the_network_stack(pyz, argv):
    probe = ("import io, sys; sys.path.insert(0, sys.argv[1]); from bosky import cli; "
             "cli.main(sys.argv[2:], env=dict(), stdout=io.StringIO()); "
             "print(','.join(m for m in {!r} if m in sys.modules))").format(NETWORK_MODULES)
    loaded = subprocess.check_output([sys.executable, "-c", probe, pyz] + argv)
    assert loaded.decode().strip() == ""


def test_every_option_of_every_command_is_in_the_readme():
    from bosky import commands
    from bosky.commands import options
    with open(os.path.join(ROOT, "README.md")) as handle:
        readme = handle.read()
    missing = []
    for name in [commands.DEFAULT] + list(commands.NAMES):
        for action in options.build_parser(commands.load(name))._actions:
            for option in action.option_strings:
                if option.startswith("--") and option not in readme:
                    missing.append("{} {}".format(name, option))
    assert missing == []


def test_a_new_command_is_one_module_and_one_name():
    """The registry and the commands/ folder agree: nothing registered twice or forgotten."""
    from bosky import commands
    folder = os.path.join(ROOT, "src", "bosky", "commands")
    modules = {name[:-3].replace("_", "-") for name in os.listdir(folder)
               if name.endswith(".py") and name not in ("__init__.py", "options.py")}
    assert modules == set(commands.NAMES) | {commands.DEFAULT}
    for name in commands.NAMES:
        command = commands.load(name)
        assert command.NAME == name and callable(command.add_arguments)
        assert callable(getattr(command, "run", None)) or callable(getattr(command, "early"))


# What an emit over HTTP(S) to an address never needs.  urllib.request brings
# http.client, email, ssl, shutil and random with it (and threading before 3.9): that is
# the price of not parsing HTTP ourselves.  Names are looked up in a thread, hence
# threading on 3.9+ only for a name; the idna codec (with unicodedata) only for
# non-ASCII names, and for any HTTPS on 3.6, whose ssl encodes the name itself.
NOT_FOR_A_PLAIN_EMIT = ("xml.etree.ElementTree", "configparser", "subprocess", "shlex",
                        "bosky.aws.sts", "bosky.spool", "bosky.backlog", "bosky.context",
                        "bosky.steps", "bosky.child", "bosky.watch", "bosky.doctor",
                        "bosky.aws.s3", "bosky.s3client", "bosky.transfer", "bosky.localfiles",
                        "encodings.idna", "uuid") + (
                            ("threading",) if sys.version_info >= (3, 9) else ())


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_plain_emit_loads_only_what_it_uses(pyz, scheme, request):
    # The HTTPS fixtures only for HTTPS: without openssl, the HTTP case still runs.
    import standins
    bridge = request.getfixturevalue("eventbridge" if scheme == "http" else "tls_bridge")
    unwanted = tuple(m for m in NOT_FOR_A_PLAIN_EMIT if scheme == "http" or
                     m != "encodings.idna" or sys.version_info >= (3, 7))
    # Only what bosky loads counts: -S keeps site's .pth files from loading any first.
    probe = ("import io, sys; before = set(sys.modules); sys.path.insert(0, sys.argv[1]); "
             "from bosky import cli; code = cli.main(sys.argv[2:], stdout=io.StringIO()); "
             "print(code, ','.join(m for m in {!r} if m in set(sys.modules) - before))").format(
                 unwanted)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=standins.TEST_KEY_ID,
               AWS_SECRET_ACCESS_KEY=standins.TEST_SECRET, AWS_REGION="us-east-1",
               AWS_ENDPOINT_URL_EVENTBRIDGE=bridge.url, HOME="/nonexistent")
    if scheme == "https":
        env["AWS_CA_BUNDLE"] = request.getfixturevalue("certificates")["ca.pem"]
    out = subprocess.check_output([sys.executable, "-S", "-c", probe, pyz, "--pass", "x",
                                   "--instance-id", "i-0123456789abcdef0"], env=env)
    assert out.decode().split() == ["0"]  # exit 0, and nothing from the list loaded
    assert len(bridge.accepted) == 1


def test_the_readmes_first_command_make_demo_finishes(pyz):
    """`make demo` is `python3 tests/demo.py`: every step as the README describes it."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "demo.py"), pyz],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    text = result.stdout.decode()
    assert result.returncode == 0, text
    assert text.rstrip().endswith("demo finished: delivered, refused, spooled and flushed; "
                                  "bootstrapped and shipped")
