"""Shared fixtures: import paths, loopback stand-ins, the built .pyz, a clean env."""

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)  # build_pyz, for its constants

import standins  # noqa: E402

# Loopback only, never through a proxy the developer's shell may have set.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


# Each test gets its own spool directory (base_env points BOSKY_SPOOL_DIR at it), so no
# test writes to /var/spool/bosky or sends another test's leftovers.
CURRENT = {"spool": None}


# Seconds over its deadline a run through the .pyz may take: the brief's one, plus start-up.
SLACK = 1.5


@pytest.fixture(autouse=True)
def spool_dir(tmp_path):
    CURRENT["spool"] = str(tmp_path / "spool")
    yield CURRENT["spool"]
    CURRENT["spool"] = None


@pytest.fixture
def imds_server():
    server = standins.ImdsStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def eventbridge():
    server = standins.EventBridgeStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def bucket_server():
    """The loopback S3 stand-in."""
    server = standins.S3StandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certificates(tmp_path_factory):
    """A throwaway CA and a certificate it signed for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    return standins.make_certificates(str(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def tls_bridge(certificates):
    """The EventBridge stand-in over HTTPS, its certificate signed by `certificates`' CA."""
    server = standins.EventBridgeStandIn(
        tls=(certificates["server.pem"], certificates["server.key"])).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pyz(tmp_path_factory):
    """dist/bosky.pyz built once per test process (each pytest-xdist worker builds its own),
    into a temporary directory."""
    output = str(tmp_path_factory.mktemp("dist") / "bosky.pyz")
    subprocess.check_call([sys.executable, os.path.join(ROOT, "build_pyz.py"),
                           "--output", output], stdout=subprocess.DEVNULL)
    return output


def base_env(imds_url=None, **extra):
    """A minimal environment: no HOME, no AWS settings but the ones given."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "127.0.0.1,localhost",
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds_url or "http://127.0.0.1:9",
           "BOSKY_SPOOL_DIR": CURRENT["spool"]}
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def run_pyz(pyz_path, args, env, python=None, stdin_text=None, timeout=60):
    """Run the built .pyz as a subprocess; returns CompletedProcess with text output."""
    return subprocess.run([python or sys.executable, pyz_path] + list(args), env=env,
                          input=(stdin_text or "").encode("utf-8"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def wait_until(condition, what, seconds=30.0, step=0.05):
    """Poll `condition()` until it is true; fail naming `what` if it never is (a loaded CI
    machine gets `seconds`; a test never goes on as if it had happened)."""
    import time
    give_up = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < give_up, "waited {:g} s: {}".format(seconds, what)
        time.sleep(step)


def one_line(result):
    """bosky's stderr, asserted to be the one line (no traceback) every failure must be."""
    text = result.stderr.decode("utf-8")
    assert text.count("\n") == 1 and "Traceback" not in text, text
    return text


def make_session(env=None, **flags):
    """A real Session in this process, as cli.main builds one (no config files read)."""
    import io
    import time
    from bosky import profiles, settings, system
    from bosky.session import Session
    env = dict(env or {})
    world = system.World(env, None, io.StringIO(), io.StringIO(), time.monotonic())
    resolved = settings.resolve(flags, env, {}, "/nonexistent/bosky/config",
                                profiles.parse_files(None, None))
    return Session(resolved, world)
