"""The three promises on a network that lies, through the built .pyz.

Each client bosky has (EventBridge, IMDS, STS, container credentials, Auto
Scaling, watch's polls, credential_process) meets a server that trickles, floods
interim replies, lies about lengths or sends garbage.  Each case asserts the
wall time against the deadline, peak memory, the exit status, and that the
event is in the spool (or, where no event could be built, one clear line).
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import SLACK, base_env, one_line
from standins.hostile import HostileServer, forever, then
from test_compat import FOUND
from test_e2e import ENV_KEYS, INSTANCE

HEAD_OK = b"HTTP/1.1 200 OK\r\n"
MEASURE = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
           "sys.stderr.write('\\nMAXRSS %d\\n' % resource.getrusage("
           "resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")

SCRIPTS = {
    "trickled-status": then((b"H", 0.3), None),
    "trickled-headers": then((HEAD_OK, 0), (b"X", 0.3), None),
    "trickled-body": then((HEAD_OK + b"Content-Length: 100000\r\n\r\n", 0), (b"{", 0.3), None),
    "endless-100-continue": forever(b"HTTP/1.1 100 Continue\r\n\r\n"),
    "negative-length": then((HEAD_OK + b"Content-Length: -1\r\n\r\n", 0), (b"y" * 65536, 0),
                            None),
    "huge-length": then((HEAD_OK + b"Content-Length: 99999999999\r\n\r\n", 0),
                        (b"y" * 65536, 0), None),
    "negative-chunk": then((HEAD_OK + b"Transfer-Encoding: chunked\r\n\r\n-5\r\n", 0),
                           (b"y" * 65536, 0), None),
    "superscript-status": forever("HTTP/1.1 \u00b2\u00b2\u00b2 OK\r\nContent-Length: 0\r\n"
                                  "\r\n".encode("latin-1"), 0.05),
    "garbage": forever(b"\x16\x03\x01\x00\xff garbage\r\n\r\n", 0.05),
}


@pytest.fixture
def hostile():
    started = []

    def start(name, **kwargs):
        server = HostileServer(SCRIPTS[name], **kwargs).start()
        started.append(server)
        return server
    yield start
    for server in started:
        server.stop()


def measured(pyz, args, env, python=None, timeout=60):
    """Run the .pyz; (CompletedProcess, seconds, peak RSS in MiB)."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", MEASURE, python or sys.executable, pyz] +
                            list(args), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=timeout)
    elapsed = time.monotonic() - started
    err = result.stderr.decode("utf-8", "replace")
    head, _, rss = err.rpartition("\nMAXRSS ")
    result.stderr = head.encode("utf-8")  # bosky's own stderr, the helper's line taken off
    return result, elapsed, int(rss) / 1024.0


def spooled(spool_dir):
    names = sorted(n for n in os.listdir(spool_dir) if n.endswith(".json"))
    return [json.load(open(os.path.join(spool_dir, name))) for name in names]


def run_all(pyz, cases, env_for, args, python=None):
    """Run one .pyz per case at once (they mostly wait): {case: (result, seconds, MiB)}."""
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(len(cases)) as pool:
        futures = {case: pool.submit(measured, pyz, args, env_for(case), python)
                   for case in cases}
        return {case: future.result() for case, future in futures.items()}


def test_an_event_to_a_lying_eventbridge_is_spooled_by_the_deadline(pyz, hostile, tmp_path):
    servers = {case: hostile(case) for case in SCRIPTS}

    def env_for(case):
        return base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=servers[case].url, AWS_REGION="us-east-1",
                        BOSKY_SPOOL_DIR=str(tmp_path / case), **ENV_KEYS)
    runs = run_all(pyz, sorted(SCRIPTS), env_for, ["--fail", "x", "--instance-id", INSTANCE,
                                                   "--timeout", "2"])
    for case, (result, elapsed, rss) in runs.items():
        assert result.returncode == 75, (case, result.stderr)
        assert elapsed < 2 + SLACK, (case, elapsed)
        assert rss < 48, (case, rss)  # a lying length or an endless body never becomes memory
        assert one_line(result).startswith("bosky: spooled: "), case
        [record] = spooled(str(tmp_path / case))
        assert json.loads(record["entry"]["Detail"])["Message"] == "x", case


@pytest.mark.parametrize("version,python", [FOUND[0], FOUND[-1]] if FOUND else [],
                         ids=lambda value: ".".join(map(str, value))
                         if isinstance(value, tuple) else "")
def test_the_oldest_and_newest_python_keep_the_deadline_too(pyz, hostile, tmp_path, version,
                                                           python):
    # http.client differs between 3.6 and 3.13; the bounds must not.
    cases = ["trickled-headers", "endless-100-continue", "negative-length",
             "superscript-status"]
    servers = {case: hostile(case) for case in cases}

    def env_for(case):
        return base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=servers[case].url, AWS_REGION="us-east-1",
                        BOSKY_SPOOL_DIR=str(tmp_path / case), **ENV_KEYS)
    runs = run_all(pyz, cases, env_for, ["--fail", "x", "--instance-id", INSTANCE,
                                         "--timeout", "2"], python=python)
    for case, (result, elapsed, rss) in runs.items():
        assert result.returncode == 75 and elapsed < 2 + SLACK, (case, result.stderr, elapsed)
        assert rss < 48 and len(spooled(str(tmp_path / case))) == 1, case


@pytest.mark.parametrize("case", ["trickled-headers", "endless-100-continue",
                                  "superscript-status", "negative-length"])
def test_a_lying_imds_is_one_clear_line_by_the_deadline(pyz, hostile, eventbridge, case):
    server = hostile(case)
    env = base_env(server.url, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url,
                   AWS_METADATA_SERVICE_TIMEOUT="1", **ENV_KEYS)
    result, elapsed, _ = measured(pyz, ["--fail", "x", "--timeout", "3"], env)
    assert result.returncode == 1 and elapsed < 3 + SLACK, (result.stderr, elapsed)
    line = one_line(result)
    assert "instance metadata (IMDS)" in line and "--instance-id" in line
    assert eventbridge.requests == []


@pytest.mark.parametrize("case", ["trickled-body", "superscript-status"])
def test_lying_sts_and_container_endpoints_end_in_the_spool(pyz, hostile, spool_dir, tmp_path,
                                                           eventbridge, case):
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.standin.token")
    for env in (dict(AWS_WEB_IDENTITY_TOKEN_FILE=str(token),
                     AWS_ROLE_ARN="arn:aws:iam::123456789012:role/irsa",
                     AWS_ENDPOINT_URL_STS=hostile(case).url),
                dict(AWS_CONTAINER_CREDENTIALS_FULL_URI=hostile(case).url + "/creds")):
        env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                       **env)
        result, elapsed, _ = measured(pyz, ["--fail", "x", "--instance-id", INSTANCE,
                                            "--timeout", "2"], env)
        assert result.returncode == 75 and elapsed < 2 + SLACK, (result.stderr, elapsed)
    assert len(spooled(spool_dir)) == 2 and eventbridge.accepted == []


def test_a_lying_auto_scaling_ends_the_hook_call_by_the_deadline(pyz, hostile):
    env = base_env(AWS_ENDPOINT_URL_AUTO_SCALING=hostile("trickled-headers").url,
                   AWS_REGION="us-east-1", **ENV_KEYS)
    result, elapsed, _ = measured(pyz, ["lifecycle", "complete", "--hook", "gate", "--group",
                                        "g", "--instance-id", INSTANCE, "--timeout", "2"], env)
    assert result.returncode == 1 and elapsed < 2 + SLACK, (result.stderr, elapsed)
    assert "Auto Scaling CompleteLifecycleAction" in one_line(result)


def test_a_credential_process_that_hangs_with_its_children_ends_at_the_deadline(
        pyz, eventbridge, tmp_path, spool_dir):
    # A shell helper whose grandchild keeps the pipe open: 65 s before; the deadline now.
    config = tmp_path / "config"
    config.write_text("[default]\ncredential_process = sh -c 'sleep 60 & sleep 60'\n")
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(config))
    result, elapsed, _ = measured(pyz, ["--fail", "x", "--instance-id", INSTANCE,
                                        "--timeout", "2"], env)
    assert elapsed < 2 + SLACK, elapsed
    assert result.returncode == 1 and "timed out after" in one_line(result)


def test_watch_polls_through_an_imds_that_lies_and_stops_on_sigterm(pyz, hostile):
    server = hostile("superscript-status")
    env = base_env(server.url, AWS_REGION="us-east-1", **ENV_KEYS)
    proc = subprocess.Popen([sys.executable, pyz, "watch", "--interval", "0.2", "--debug"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Three garbage polls survived, however slowly a loaded machine starts the process.
    import queue
    import threading
    arrived = queue.Queue()
    reader = threading.Thread(target=lambda: [arrived.put(l.decode()) for l in proc.stderr],
                              daemon=True)
    reader.start()
    lines, failed_polls = [], 0
    while failed_polls < 3:
        try:
            lines.append(arrived.get(timeout=60))  # a silent watch fails, never hangs the suite
        except queue.Empty:
            break
        failed_polls += "IMDS did not answer this poll" in lines[-1]
    assert proc.poll() is None, "".join(lines)  # still watching: the garbage killed nothing
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    reader.join(10)  # what it said on the way out
    while not arrived.empty():
        lines.append(arrived.get())
    trace = "".join(lines)
    assert failed_polls == 3 and "Traceback" not in trace, trace


def test_a_stdin_message_is_not_read_past_the_event_limit(pyz, eventbridge):
    # `bosky -` fed without end: refused once over the limit, not read into memory.
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   **ENV_KEYS)
    feeder = subprocess.Popen(["yes", "a long line of output from a runaway command"],
                              stdout=subprocess.PIPE)
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, pyz, "-", "--instance-id", INSTANCE],
                                env=env, stdin=feeder.stdout, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=30)
    finally:
        feeder.kill()
        feeder.wait()
    assert result.returncode == 2 and time.monotonic() - started < 5
    assert "over 262144 bytes" in one_line(result) and eventbridge.requests == []


def test_a_stdin_message_that_never_ends_is_refused_by_the_deadline(pyz, eventbridge):
    # `server & ... | bosky --fail -`: the pipe stays open and silent; --timeout still holds.
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   **ENV_KEYS)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, pyz, "--fail", "-", "--instance-id", INSTANCE,
                             "--timeout", "1"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"half a message, and then nothing")
        proc.stdin.flush()
        proc.wait(timeout=30)
        elapsed = time.monotonic() - started
        err = proc.stderr.read().decode()
    finally:
        proc.stdin.close()
        proc.kill()
    assert proc.returncode == 2 and elapsed < 1 + SLACK, (err, elapsed)
    assert "did not end within --timeout (1 s)" in err and err.count("\n") == 1, err
    assert eventbridge.requests == []


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/bin/unshare"),
                    reason="needs root and unshare for a private /etc/resolv.conf")
def test_a_name_lookup_that_never_ends_is_abandoned_at_the_deadline(pyz, tmp_path, spool_dir):
    # A mount namespace of its own whose resolv.conf names a DNS server that never answers
    # (a loopback socket that reads and stays silent): the system resolver alone would wait
    # 5 s x 2 attempts.  Nothing outside this test's namespace is touched.
    import socket
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.2\noptions timeout:5 attempts:2\n")
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        dns.bind(("127.0.0.2", 53))
    except OSError:
        pytest.skip("127.0.0.2:53 is taken here")
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE="http://events.never-resolves.invalid/",
                   AWS_REGION="us-east-1", **ENV_KEYS)
    script = 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"'
    started = time.monotonic()
    try:
        result = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", str(resolv),
                                 sys.executable, pyz, "--fail", "x", "--instance-id",
                                 INSTANCE, "--timeout", "2"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=60)
    finally:
        dns.close()
    assert time.monotonic() - started < 2 + SLACK, result.stderr
    assert result.returncode == 75 and "timed out" in one_line(result)
    assert len(spooled(spool_dir)) == 1
