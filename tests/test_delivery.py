"""Retries, clock skew, the deadline, the spool and `bosky flush`, through the built .pyz.

The EventBridge stand-in injects the faults; every assertion is about what
the user sees (exit status, stderr) and what the stand-in accepted.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import base_env, one_line, run_pyz
from test_e2e import ENV_KEYS, INSTANCE

from bosky import spool as spool_module


def env_for(eventbridge, **extra):
    merged = dict(ENV_KEYS, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1")
    merged.update(extra)
    return base_env(**merged)


def emit(pyz, eventbridge, *args, **env):
    return run_pyz(pyz, list(args) + ["--instance-id", INSTANCE], env_for(eventbridge, **env))


def flush(pyz, eventbridge, *args, **env):
    return run_pyz(pyz, ["flush"] + list(args), env_for(eventbridge, **env))


def messages(eventbridge):
    return [item["detail"]["Message"] for item in eventbridge.accepted]


def spool_records(directory, count, eventbridge, first=0):
    """Write `count` spool records as a failed run would, oldest first."""
    the_spool = spool_module.Spool(directory, os.geteuid())
    for index in range(first, first + count):
        detail = json.dumps({"Status": "info", "Message": "spooled {}".format(index),
                             "InstanceId": INSTANCE, "EventUuid": "uuid-{}".format(index)})
        entry = {"Source": "test", "DetailType": "User Data", "Detail": detail,
                 "Resources": [INSTANCE], "Time": 1700000000 + index}
        name = spool_module.record_name(1700000000000000000 + index, 1, "t{}".format(index))
        the_spool.write(name, spool_module.encode_record(entry, eventbridge.url, "us-east-1",
                                                         1700000000, "test"))


# -- retries -------------------------------------------------------------------

@pytest.mark.parametrize("faults", [["throttle"] * 3, ["500", "500"], ["reset", "garbage"],
                                    ["partial", "partial"], ["cut", "hang"]])
def test_transient_faults_are_retried_until_accepted(pyz, eventbridge, faults):
    eventbridge.script = list(faults)
    result = emit(pyz, eventbridge, "--pass", "retried", "--debug")
    assert result.returncode == 0, result.stderr
    assert messages(eventbridge) == ["retried"]
    assert len(eventbridge.requests) == len(faults) + 1
    assert result.stderr.decode().count("retrying in") == len(faults)


def test_client_error_is_not_retried(pyz, eventbridge):
    eventbridge.mode = "error"
    eventbridge.error_type, eventbridge.error_message = "ValidationException", "bad bus"
    result = emit(pyz, eventbridge, "x")
    assert result.returncode == 1 and len(eventbridge.requests) == 1
    assert "ValidationException: bad bus" in one_line(result)


@pytest.mark.parametrize("how", [["--max-attempts", "2"], []])
def test_max_attempts_caps_the_retries(pyz, eventbridge, spool_dir, how):
    eventbridge.mode = "500"
    result = emit(pyz, eventbridge, "x", *how, **({} if how else {"AWS_MAX_ATTEMPTS": "2"}))
    assert result.returncode == 75
    assert len(eventbridge.requests) == 2
    assert "after 2 attempt(s)" in one_line(result)


@pytest.mark.parametrize("offset", [600.0, -900.0])
def test_skewed_clock_is_corrected_from_the_date_header(pyz, eventbridge, offset):
    eventbridge.clock_offset = offset
    result = emit(pyz, eventbridge, "--pass", "skewed", "--debug")
    assert result.returncode == 0, result.stderr
    assert len(eventbridge.requests) == 2
    assert "off the service's Date" in result.stderr.decode()
    # The event says when it happened by the service's clock, not the wrong local one.
    assert abs(eventbridge.accepted[0]["entry"]["Time"] - (time.time() + offset)) < 10


def test_unreachable_endpoint_retries_until_the_deadline_then_spools(pyz, spool_dir):
    env = base_env(AWS_ENDPOINT_URL="http://127.0.0.1:9/", AWS_REGION="us-east-1", **ENV_KEYS)
    started = time.monotonic()
    result = run_pyz(pyz, ["--fail", "x", "--instance-id", INSTANCE, "--timeout", "3",
                           "--debug"], env)
    elapsed = time.monotonic() - started
    assert result.returncode == 75
    assert 2.5 <= elapsed < 5.0, elapsed  # the deadline is kept, and used
    assert result.stderr.decode().count("retrying in") >= 3
    assert len(os.listdir(spool_dir)) == 1


# -- flush ----------------------------------------------------------------------

def test_flush_sends_spooled_events_oldest_first_and_empties_the_spool(pyz, eventbridge,
                                                                      spool_dir):
    eventbridge.mode = "reset"
    for index in range(3):
        assert emit(pyz, eventbridge, "event {}".format(index), "--timeout", "0.3").returncode == 75
    eventbridge.mode = "accept"
    result = flush(pyz, eventbridge, "--verbose")
    assert result.returncode == 0, result.stderr
    assert messages(eventbridge) == ["event 0", "event 1", "event 2"]
    assert spool_module.Spool(spool_dir, os.geteuid()).records() == []
    assert result.stdout.decode().startswith("sent 3 event(s); 0 still spooled")


def test_flush_batches_at_most_ten_entries(pyz, eventbridge, spool_dir):
    spool_records(spool_dir, 23, eventbridge)
    assert flush(pyz, eventbridge).returncode == 0
    sizes = [len(json.loads(r.body.decode())["Entries"]) for r in eventbridge.requests]
    assert sizes == [10, 10, 3]
    assert messages(eventbridge) == ["spooled {}".format(i) for i in range(23)]


def test_flush_resends_only_the_failed_entries(pyz, eventbridge, spool_dir):
    spool_records(spool_dir, 3, eventbridge)
    eventbridge.entry_failures = [{1}]
    assert flush(pyz, eventbridge).returncode == 0
    sent = [[json.loads(e["Detail"])["Message"] for e in json.loads(r.body.decode())["Entries"]]
            for r in eventbridge.requests]
    assert sent == [["spooled 0", "spooled 1", "spooled 2"], ["spooled 1"]]
    assert sorted(messages(eventbridge)) == ["spooled 0", "spooled 1", "spooled 2"]


def test_flush_moves_a_rejected_entry_aside_with_its_reason(pyz, eventbridge, spool_dir):
    spool_records(spool_dir, 3, eventbridge)
    eventbridge.entry_failures = [{2}]
    eventbridge.entry_error = ("MalformedDetail", "Detail is malformed.")
    result = flush(pyz, eventbridge)
    assert result.returncode == 1
    assert "rejected 1 spooled event" in one_line(result)
    rejected = os.path.join(spool_dir, "rejected")
    [reason] = [n for n in os.listdir(rejected) if n.endswith(".reason")]
    with open(os.path.join(rejected, reason)) as handle:
        assert "MalformedDetail" in handle.read()
    assert messages(eventbridge) == ["spooled 0", "spooled 1"]
    assert spool_module.Spool(spool_dir, os.geteuid()).records() == []


@pytest.mark.parametrize("content", [b"{not json", None])
def test_flush_moves_an_unreadable_file_aside_and_goes_on(pyz, eventbridge, spool_dir,
                                                          content):
    spool_records(spool_dir, 2, eventbridge)
    bad = os.path.join(spool_dir, "00000000000000000001-0000001-bad.json")
    if content is None:
        os.symlink("/etc/passwd", bad)  # never followed
    else:
        with open(bad, "wb") as handle:
            handle.write(content)
    result = flush(pyz, eventbridge)
    assert result.returncode == 1
    assert "is not a record bosky wrote; moved to bad/" in result.stderr.decode()
    assert os.path.lexists(os.path.join(spool_dir, "bad", os.path.basename(bad)))
    assert messages(eventbridge) == ["spooled 0", "spooled 1"]


def test_flush_keeps_events_when_access_is_denied(pyz, eventbridge, spool_dir):
    spool_records(spool_dir, 2, eventbridge)
    eventbridge.mode = "error"
    result = flush(pyz, eventbridge)
    assert result.returncode == 1 and "AccessDeniedException" in one_line(result)
    assert len(spool_module.Spool(spool_dir, os.geteuid()).records()) == 2


def test_flush_out_of_time_exits_75_and_keeps_events(pyz, eventbridge, spool_dir):
    spool_records(spool_dir, 2, eventbridge)
    eventbridge.mode = "reset"
    result = flush(pyz, eventbridge, "--timeout", "1")
    assert result.returncode == 75
    assert "2 event(s) are still spooled" in one_line(result)


def test_flush_of_an_empty_spool_sends_nothing(pyz, eventbridge):
    result = flush(pyz, eventbridge)
    assert result.returncode == 0 and result.stderr == b"" and eventbridge.requests == []


def test_a_successful_emit_also_flushes_the_backlog(pyz, eventbridge, spool_dir):
    spool_records(spool_dir, 2, eventbridge)
    assert emit(pyz, eventbridge, "--pass", "now").returncode == 0
    assert messages(eventbridge) == ["now", "spooled 0", "spooled 1"]
    assert spool_module.Spool(spool_dir, os.geteuid()).records() == []


def test_concurrent_flushes_send_each_event_once(pyz, eventbridge, spool_dir):
    spool_records(spool_dir, 30, eventbridge)
    command = [sys.executable, pyz, "flush"]
    procs = [subprocess.Popen(command, env=env_for(eventbridge), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(4)]
    codes = [p.wait(timeout=60) for p in procs]
    assert codes == [0, 0, 0, 0], [p.stderr.read() for p in procs]
    assert sorted(messages(eventbridge)) == sorted("spooled {}".format(i) for i in range(30))


def test_a_full_spool_drops_the_oldest_and_says_so(pyz, eventbridge, spool_dir):
    os.makedirs(spool_dir, mode=0o700)
    for index in range(spool_module.MAX_FILES):
        with open(os.path.join(spool_dir, "{:020d}-old.json".format(index)), "wb") as handle:
            handle.write(b"{}")
    eventbridge.mode = "reset"
    result = emit(pyz, eventbridge, "--fail", "newest", "--timeout", "0.3")
    assert result.returncode == 75
    warning = result.stderr.decode().splitlines()[0]
    assert warning.startswith("bosky: warning: spool full") and "00000000000000000000-old.json" in warning
    names = spool_module.Spool(spool_dir, os.geteuid()).records()
    assert len(names) == spool_module.MAX_FILES and names[0] == "00000000000000000001-old.json"


def test_a_spool_that_cannot_be_written_still_says_why_delivery_failed(pyz, eventbridge,
                                                                        spool_dir):
    with open(spool_dir, "w") as handle:  # a file where the spool directory should be
        handle.write("in the way")
    eventbridge.mode = "reset"
    result = emit(pyz, eventbridge, "--fail", "x", "--timeout", "0.3")
    assert result.returncode == 1
    line = one_line(result)
    assert "is not a directory" in line and "not delivered" in line and "no reply" in line
