"""The built .pyz sends a real, verified event under every CPython >= 3.6 on this machine.

Interpreters come from `pyenv root`/versions; each one found is its own test
case, so the report says which ran.  None found: one skipped case says so.
"""

import glob
import io
import os
import re
import subprocess
import sys
import tarfile

import pytest

import standins
from conftest import base_env, run_pyz


def pyenv_root():
    try:
        return subprocess.check_output(["pyenv", "root"], stderr=subprocess.DEVNULL).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return os.path.expanduser("~/.pyenv")


def interpreters():
    """[(version tuple, python path)] for every CPython >= 3.6 under pyenv, oldest first."""
    found = []
    for path in glob.glob(os.path.join(pyenv_root(), "versions", "*", "bin", "python3")):
        match = re.match(r"^(\d+)\.(\d+)\.(\d+)$", os.path.basename(os.path.dirname(
            os.path.dirname(path))))
        if match and tuple(map(int, match.groups()))[:2] >= (3, 6):
            found.append((tuple(map(int, match.groups())), path))
    return sorted(found)


FOUND = interpreters()
# The two ends of what bosky supports, where a difference between Pythons would show;
# this test run's own Python where pyenv has none (never an empty list: a loop over it
# must test something).
OLDEST_AND_NEWEST = [path for _, path in (FOUND[:1] + FOUND[-1:] if len(FOUND) > 1 else
                                          FOUND)] or [sys.executable]


@pytest.mark.parametrize("version,python", FOUND or [pytest.param(
    None, None, marks=pytest.mark.skip(reason="no pyenv CPython >= 3.6 found"))],
    ids=[".".join(map(str, v)) for v, _ in FOUND] or ["none"])
def test_pyz_delivers_under_each_cpython(pyz, version, python, eventbridge, imds_server):
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    env = base_env(imds_server.url, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url)
    message = "boot ok on {} \u2713".format(".".join(map(str, version)))
    result = run_pyz(pyz, ["--pass", message, "--verbose"], env, python=python)
    assert result.returncode == 0, result.stderr.decode()
    assert eventbridge.accepted[0]["detail"]["Message"] == message
    assert result.stdout.decode().strip() == eventbridge.accepted[0]["EventId"]


@pytest.mark.parametrize("version,python", FOUND or [pytest.param(
    None, None, marks=pytest.mark.skip(reason="no pyenv CPython >= 3.6 found"))],
    ids=[".".join(map(str, v)) for v, _ in FOUND] or ["none"])
def test_pyz_runs_a_reported_step_under_each_cpython(pyz, version, python, eventbridge):
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   AWS_ACCESS_KEY_ID=standins.TEST_KEY_ID,
                   AWS_SECRET_ACCESS_KEY=standins.TEST_SECRET)
    result = run_pyz(pyz, ["run", "--instance-id", "i-0123456789abcdef0", "--", "sh", "-c",
                           "echo step output; exit 3"], env, python=python)
    assert result.returncode == 3, result.stderr.decode()
    assert result.stdout == b"step output\n"
    statuses = sorted(item["detail"]["Status"] for item in eventbridge.accepted)
    assert statuses == ["fail", "start"]


@pytest.mark.parametrize("version,python", FOUND or [pytest.param(
    None, None, marks=pytest.mark.skip(reason="no pyenv CPython >= 3.6 found"))],
    ids=[".".join(map(str, v)) for v, _ in FOUND] or ["none"])
def test_pyz_reports_a_boot_and_passes_doctor_under_each_cpython(pyz, version, python,
                                                                 eventbridge, tmp_path):
    import shutil
    from conftest import ROOT
    run_dir = tmp_path / "run"
    shutil.copytree(os.path.join(ROOT, "tests", "fixtures", "cloud-init", "scripts-user"),
                    str(run_dir))
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   AWS_ACCESS_KEY_ID=standins.TEST_KEY_ID,
                   AWS_SECRET_ACCESS_KEY=standins.TEST_SECRET)
    common = ["--instance-id", "i-0123456789abcdef0"]
    report = run_pyz(pyz, ["boot-report", "--run-dir", str(run_dir), "--state-dir",
                           str(tmp_path / "state"), "--log",
                           str(run_dir / "cloud-init-output.log")] + common, env, python=python)
    assert report.returncode == 0, report.stderr.decode()
    assert eventbridge.accepted[0]["detail"]["Errors"] == ["scripts_user"]
    doctor = run_pyz(pyz, ["doctor"] + common, env, python=python)
    assert doctor.returncode == 0, doctor.stdout.decode() + doctor.stderr.decode()
    tag = "cpython-{}{}".format(*version[:2])
    assert "bytecode for " + tag in doctor.stdout.decode()  # built in, and used


# After a --version run through the archive's __main__, read back one function's
# first line the way a --debug traceback does (linecache, the module's loader).
TRACEBACK_PROBE = """
import linecache, runpy, sys
pyz = sys.argv[1]
sys.argv = [pyz, "--version"]
try:
    runpy.run_path(pyz, run_name="__main__")
except SystemExit:
    pass
cli = sys.modules["bosky.cli"]
code = cli.main.__code__
print(type(cli.__loader__).__name__)
print(code.co_filename)
print(linecache.getline(code.co_filename, code.co_firstlineno, cli.__dict__).strip())
"""


@pytest.mark.parametrize("version,python", FOUND or [pytest.param(
    None, None, marks=pytest.mark.skip(reason="no pyenv CPython >= 3.6 found"))],
    ids=[".".join(map(str, v)) for v, _ in FOUND] or ["none"])
def test_bytecode_keeps_file_names_and_source_lines_for_tracebacks(pyz, version, python):
    out = subprocess.check_output([python, "-c", TRACEBACK_PROBE, pyz]).decode().splitlines()
    assert out[0].startswith("bosky ")  # the --version run itself
    loader, filename, line = out[1:4]
    assert loader == "Bytecode"
    assert filename == os.path.join(pyz, "bosky", "cli.py")
    assert line.startswith("def main(")


def tar_xz_bundle(path, files):
    with tarfile.open(str(path), "w:xz") as tar:
        for name, text in sorted(files.items()):
            info = tarfile.TarInfo("build-7/" + name)
            info.size, info.mode = len(text), 0o755
            tar.addfile(info, io.BytesIO(text))
    return path.read_bytes()


@pytest.mark.parametrize("version,python", FOUND or [pytest.param(
    None, None, marks=pytest.mark.skip(reason="no pyenv CPython >= 3.6 found"))],
    ids=[".".join(map(str, v)) for v, _ in FOUND] or ["none"])
def test_pyz_copies_to_s3_and_bootstraps_under_each_cpython(pyz, version, python, eventbridge,
                                                             imds_server, tmp_path):
    # 3.6 to 3.11 have no tarfile extraction filters: the bundle is checked by our own code.
    bucket = standins.S3StandIn().start()
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    imds_server.paths["/latest/user-data"] = "environment=prod\nrole=web\n"
    env = base_env(imds_server.url, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url,
                   AWS_ENDPOINT_URL_S3=bucket.url)
    big = tmp_path / "big"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # two parts: a multipart upload
    bundle = tmp_path / "b.tar.xz"
    tar_xz_bundle(bundle, {"10-web/start.sh": b'echo "module $role in $environment"\n',
                           "prod/bootstrapper.sh": b"echo init\n"})
    evil = tmp_path / "evil.tar"
    with tarfile.open(str(evil), "w") as tar:
        link = tarfile.TarInfo("x/escape")
        link.type, link.linkname = tarfile.SYMTYPE, "../../etc"
        tar.addfile(link)
    try:
        for source, key in [(big, "big"), (bundle, "b.tar.xz"), (evil, "evil.tar")]:
            up = run_pyz(pyz, ["s3", "cp", str(source), "s3://boot/" + key], env, python=python)
            assert up.returncode == 0, up.stderr.decode()
        down = run_pyz(pyz, ["s3", "cp", "s3://boot/big", str(tmp_path / "back")], env,
                       python=python)
        assert down.returncode == 0, down.stderr.decode()
        assert (tmp_path / "back").read_bytes() == big.read_bytes()
        boot = run_pyz(pyz, ["bootstrap", "s3://boot/b.tar.xz", "--dir",
                             str(tmp_path / "current"), "--init", "$environment/bootstrapper.sh"],
                       env, python=python)
        assert boot.returncode == 0, boot.stderr.decode()
        assert boot.stdout.decode() == "module web in prod\ninit\n"
        refused = run_pyz(pyz, ["bootstrap", "s3://boot/evil.tar", "--dir",
                                str(tmp_path / "evil")], env, python=python)
        assert refused.returncode == 1 and "is a link" in refused.stderr.decode()
        assert not (tmp_path / "evil").exists()
    finally:
        bucket.stop()
