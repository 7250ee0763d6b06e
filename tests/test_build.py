"""build_pyz.py and the Makefile's install target."""

import os
import stat
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, wait_until


def build(output, **env):
    subprocess.check_call([sys.executable, os.path.join(ROOT, "build_pyz.py"), "--output",
                           str(output)], env=dict(os.environ, **env), stdout=subprocess.DEVNULL)
    with open(str(output), "rb") as handle:
        return handle.read()


def test_two_builds_are_byte_identical(tmp_path):
    assert build(tmp_path / "a.pyz") == build(tmp_path / "b.pyz")


def test_archive_is_executable_with_shebang_and_fixed_entries(tmp_path):
    data = build(tmp_path / "bosky.pyz", SOURCE_DATE_EPOCH="1700000000")
    assert data.startswith(b"#!/usr/bin/env python3\n")
    assert os.stat(str(tmp_path / "bosky.pyz")).st_mode & stat.S_IXUSR
    with zipfile.ZipFile(str(tmp_path / "bosky.pyz")) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names[0] == "__main__.py" and names[1:] == sorted(names[1:])
    assert {info.date_time for info in infos} == {(2023, 11, 14, 22, 13, 20)}
    # Deflated, except bytecode bundles (their modules are compressed one by one inside)
    # and __main__.py, so that --version loads no zlib.
    assert all(info.compress_type == (zipfile.ZIP_STORED if info.filename.startswith(
        "bytecode/") or info.filename == "__main__.py" else zipfile.ZIP_DEFLATED)
        for info in infos)


def test_make_install_honours_destdir_and_prefix(tmp_path):
    subprocess.check_call(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + str(tmp_path),
                           "PREFIX=/opt/tools", "PYTHON=" + sys.executable],
                          stdout=subprocess.DEVNULL)
    installed = tmp_path / "opt" / "tools" / "bin" / "bosky"
    assert os.access(str(installed), os.X_OK)
    assert subprocess.check_output([str(installed), "--version"]).startswith(b"bosky ")


def test_source_mtimes_do_not_change_the_bytes(tmp_path):
    first = build(tmp_path / "a.pyz")
    for name in os.listdir(os.path.join(ROOT, "src", "bosky")):
        os.utime(os.path.join(ROOT, "src", "bosky", name), None)  # touch every source file
    assert build(tmp_path / "b.pyz") == first


def test_the_sha256_file_matches_and_the_version_is_baked_in(tmp_path):
    import hashlib
    data = build(tmp_path / "bosky.pyz")
    with open(str(tmp_path / "bosky.pyz.sha256")) as handle:
        assert handle.read() == "{}  bosky.pyz\n".format(hashlib.sha256(data).hexdigest())
    described = subprocess.check_output(["git", "describe", "--tags", "--always",
                                         "--dirty=.dirty", "--abbrev=12"], cwd=ROOT).decode()
    printed = subprocess.check_output([sys.executable, str(tmp_path / "bosky.pyz"),
                                       "--version"]).decode().strip()
    assert printed.startswith("bosky 0.") and described.strip() in printed


def test_outside_a_checkout_the_declared_version_is_used(tmp_path):
    import shutil
    tree = tmp_path / "tree"
    shutil.copytree(os.path.join(ROOT, "src"), str(tree / "src"))
    shutil.copy(os.path.join(ROOT, "build_pyz.py"), str(tree))
    subprocess.check_call([sys.executable, str(tree / "build_pyz.py")],
                          cwd=str(tmp_path), stdout=subprocess.DEVNULL,
                          env=dict(os.environ, GIT_CEILING_DIRECTORIES=str(tmp_path)))
    printed = subprocess.check_output([sys.executable, str(tree / "dist" / "bosky.pyz"),
                                       "--version"]).decode().strip()
    assert printed == "bosky 0.1.0"


def pyenv_python(minor):
    """A pyenv CPython 3.<minor> interpreter, or None."""
    from test_compat import FOUND
    return next((path for version, path in FOUND if version[:2] == (3, minor)), None)


def test_every_cpython_found_gets_a_bytecode_bundle_named_in_buildinfo(tmp_path):
    from build_pyz import BYTECODE_FOR
    from test_compat import FOUND
    build(tmp_path / "bosky.pyz")
    with zipfile.ZipFile(str(tmp_path / "bosky.pyz")) as archive:
        names = set(archive.namelist())
        buildinfo = archive.read("BUILDINFO").decode()
    wanted = [v for v, _ in FOUND if "{}.{}".format(*v[:2]) in BYTECODE_FOR]
    assert {"bytecode/cpython-{}{}".format(*v[:2]) for v in wanted} <= names
    for version in wanted:
        assert "(CPython {})".format(".".join(map(str, version))) in buildinfo


def test_an_interpreter_that_cannot_run_is_one_line_not_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "build_pyz.py"), "--output",
                             str(tmp_path / "bosky.pyz"), "--python", "/nonexistent/python3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert result.stderr.decode() == ("build_pyz.py: cannot run /nonexistent/python3: No such "
                                      "file or directory; name a CPython 3.6 or newer\n")
    assert not os.path.exists(str(tmp_path / "bosky.pyz"))


def test_source_only_builds_carry_no_bytecode_and_still_run(tmp_path):
    output = tmp_path / "bosky.pyz"
    subprocess.check_call([sys.executable, os.path.join(ROOT, "build_pyz.py"), "--output",
                           str(output), "--source-only"], stdout=subprocess.DEVNULL)
    with zipfile.ZipFile(str(output)) as archive:
        assert not [n for n in archive.namelist() if n.startswith("bytecode/")]
    assert subprocess.check_output([sys.executable, str(output), "--version"]).startswith(
        b"bosky ")


def test_a_python_without_a_bundle_imports_the_source(tmp_path):
    """Bytecode built only for 3.6: 3.6 uses it, another CPython runs from source."""
    oldest, other = pyenv_python(6), pyenv_python(12) or pyenv_python(13)
    if oldest is None or other is None:
        pytest.skip("needs pyenv CPython 3.6 and 3.12 or 3.13")
    output = tmp_path / "bosky.pyz"
    subprocess.check_call([sys.executable, os.path.join(ROOT, "build_pyz.py"), "--output",
                           str(output), "--python", oldest], stdout=subprocess.DEVNULL)
    env = {"PATH": os.environ["PATH"], "AWS_EC2_METADATA_DISABLED": "true"}
    for python, expected in ((oldest, "bytecode for cpython-36"), (other, "source")):
        result = subprocess.run([python, str(output), "--debug", "--dry-run", "--pass", "x",
                                 "--instance-id", "i-0123456789abcdef0", "--region",
                                 "us-east-1"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert result.returncode == 0, result.stderr.decode()
        first = result.stderr.decode().splitlines()[0]
        assert first.endswith(expected), first


def test_a_pyz_overwritten_in_place_while_it_runs_still_imports_and_spools(tmp_path):
    """`curl -o` over a running bosky rewrites the same file: modules it imports later
    (here the spool, after delivery fails) must still load, and the events be kept."""
    live = tmp_path / "live.pyz"
    build(live)
    spool = tmp_path / "spool"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "BOSKY_SPOOL_DIR": str(spool),
           "AWS_ENDPOINT_URL_EVENTBRIDGE": "http://127.0.0.1:9"}  # nothing listens there
    marker = tmp_path / "started"
    process = subprocess.Popen([sys.executable, str(live), "run", "--timeout", "3",
                                "--instance-id", "i-0123456789abcdef0", "--", "sh", "-c",
                                "touch {}; sleep 2".format(marker)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until(marker.exists, "the step to start")
    with open(str(live), "r+b") as handle:  # same inode, other bytes, as curl -o does
        handle.truncate(0)
    out, err = process.communicate(timeout=60)
    assert b"internal error" not in err, err.decode()
    assert process.returncode == 0, err.decode()  # the step's own status
    records = [n for n in os.listdir(str(spool)) if not n.startswith(".")]
    assert len(records) == 2, records  # the step's start and finish


def test_version_imports_only_the_uncompressed_modules_and_no_zlib(tmp_path):
    """build_pyz.UNCOMPRESSED lists what --version imports: kept so, it never loads zlib."""
    if sys.version_info < (3, 7):
        pytest.skip("-X importtime is 3.7+")
    from build_pyz import UNCOMPRESSED
    built = tmp_path / "bosky.pyz"
    build(built)
    # -S: site's .pth files may load zlib themselves; -X importtime names every import.
    result = subprocess.run([sys.executable, "-S", "-X", "importtime", str(built), "--version"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0 and result.stdout.startswith(b"bosky ")
    imported = {line.split("|")[-1].strip() for line in result.stderr.decode().splitlines()
                if line.startswith("import time:")}
    assert {m for m in imported if m == "bosky" or m.startswith("bosky.")} == set(UNCOMPRESSED)
    assert "zlib" not in imported
