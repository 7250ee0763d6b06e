"""build_pyz.py and the Makefile's install target."""

import os
import stat
import subprocess
import sys
import zipfile

from conftest import ROOT


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
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in infos)


def test_make_install_honours_destdir_and_prefix(tmp_path):
    subprocess.check_call(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + str(tmp_path),
                           "PREFIX=/opt/tools", "PYTHON=" + sys.executable],
                          stdout=subprocess.DEVNULL)
    installed = tmp_path / "opt" / "tools" / "bin" / "bosky"
    assert os.access(str(installed), os.X_OK)
    assert subprocess.check_output([str(installed), "--version"]).startswith(b"bosky ")
