"""The spool under attack: records of the wrong shape, a bus that is gone, a stale spool,
a spool somebody else can move, a failed write, re-targeting a flush.  Through the .pyz.
"""

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import time

import pytest

from conftest import one_line, run_pyz
from test_delivery import emit, env_for, flush, messages, spool_records
from test_e2e import INSTANCE

from bosky import spool as spool_module


def write_record(directory, name, record):
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, name), "w") as handle:
        handle.write(record if isinstance(record, str) else json.dumps(record))


def good_record(eventbridge, **changes):
    entry = {"Source": "test", "DetailType": "User Data", "Resources": [INSTANCE],
             "Detail": json.dumps({"Status": "info", "Message": "wrong shape?"}),
             "Time": 1700000000}
    record = {"version": 1, "entry": entry, "endpoint": eventbridge.url,
              "region": "us-east-1", "spooled_at": 1700000000, "reason": "test"}
    for path, value in changes.items():
        entry_field = path in ("Source", "DetailType", "Detail", "Resources", "Time",
                               "EventBusName")
        (record["entry"] if entry_field else record)[path] = value
    return record


DEEP = '{"version": 1, "entry": ' + "[" * 100000 + "]" * 100000 + "}"


@pytest.mark.parametrize("shape", ["detail-5", "endpoint-null", "deep", "time-text",
                                   "resources-dict", "region-host"])
def test_a_record_of_the_wrong_shape_goes_to_bad_and_the_rest_goes_out(pyz, eventbridge,
                                                                       spool_dir, shape):
    records = {"detail-5": lambda: good_record(eventbridge, Detail=5),
               "endpoint-null": lambda: good_record(eventbridge, endpoint=None),
               "deep": lambda: DEEP,
               "time-text": lambda: good_record(eventbridge, Time="yesterday"),
               "resources-dict": lambda: good_record(eventbridge, Resources={"a": 1}),
               "region-host": lambda: good_record(eventbridge, region="x@127.0.0.1:9#")}
    write_record(spool_dir, "00000000000000000000-0000001-odd.json", records[shape]())
    spool_records(spool_dir, 1, eventbridge, first=1)
    result = flush(pyz, eventbridge)
    assert result.returncode == 1, result.stderr
    assert "is not a record bosky wrote; moved to bad/" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    assert os.listdir(os.path.join(spool_dir, "bad")) == [
        "00000000000000000000-0000001-odd.json", "00000000000000000000-0000001-odd.json.reason"]
    assert messages(eventbridge) == ["spooled 1"]


def test_a_wrong_shaped_record_never_turns_a_delivered_event_into_a_failure(
        pyz, eventbridge, spool_dir):
    write_record(spool_dir, "00000000000000000000-0000001-odd.json",
                 good_record(eventbridge, Detail=5))
    result = emit(pyz, eventbridge, "--pass", "delivered")
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    assert messages(eventbridge) == ["delivered"]


def test_a_record_for_a_bus_that_is_gone_is_rejected_and_newer_ones_still_go(
        pyz, eventbridge, spool_dir):
    eventbridge.missing_buses = {"deleted-bus"}
    write_record(spool_dir, "00000000000000000000-0000001-gone.json",
                 good_record(eventbridge, EventBusName="deleted-bus"))
    spool_records(spool_dir, 3, eventbridge, first=1)
    result = flush(pyz, eventbridge)
    assert result.returncode == 1
    assert "ResourceNotFoundException" in one_line(result)
    assert messages(eventbridge) == ["spooled 1", "spooled 2", "spooled 3"]
    rejected = os.path.join(spool_dir, "rejected")
    with open(os.path.join(rejected, "00000000000000000000-0000001-gone.json.reason")) as note:
        assert "Event bus deleted-bus does not exist" in note.read()
    assert spool_module.Spool(spool_dir, os.geteuid()).records() == []


def test_one_bad_record_in_a_batch_is_found_and_the_others_go(pyz, eventbridge, spool_dir):
    # Same endpoint, same bus name in two records, but the batch fails whole for one.
    eventbridge.missing_buses = {"deleted-bus"}
    spool_records(spool_dir, 2, eventbridge)
    write_record(spool_dir, "00000000000000000009-0000001-gone.json",
                 good_record(eventbridge, EventBusName="deleted-bus"))
    assert flush(pyz, eventbridge).returncode == 1
    assert messages(eventbridge) == ["spooled 0", "spooled 1"]


def test_a_stale_spool_does_not_tax_a_later_success(pyz, eventbridge, spool_dir):
    # A spooled event the endpoint keeps failing on (here: never answers); later events
    # that do get through must not spend their whole deadline on it.
    write_record(spool_dir, "00000000000000000000-0000001-stale.json", good_record(
        eventbridge, Detail=json.dumps({"Status": "stale", "Message": "old"})))
    eventbridge.slow_statuses = {"stale": 30}
    for _ in range(2):
        started = time.monotonic()
        assert emit(pyz, eventbridge, "--pass", "fine").returncode == 0
        assert time.monotonic() - started < 4.5  # the default deadline is 30 s
    assert len(spool_module.Spool(spool_dir, os.geteuid()).records()) == 1
    assert messages(eventbridge) == ["fine", "fine"]


def test_send_along_takes_only_a_little_of_what_waits_for_the_same_endpoint(
        pyz, eventbridge, spool_dir):
    spool_records(spool_dir, 25, eventbridge)
    eventbridge.script = ["accept", "500", "500", "500"]  # the run's own event, then trouble
    started = time.monotonic()
    assert emit(pyz, eventbridge, "--pass", "now").returncode == 0
    assert time.monotonic() - started < 5
    assert len(eventbridge.requests) == 2  # one request for the first batch, not retried
    assert len(spool_module.Spool(spool_dir, os.geteuid()).records()) == 25


def test_flush_sends_to_the_endpoint_configured_now(pyz, eventbridge, spool_dir):
    # Spooled while AWS_ENDPOINT_URL pointed at a wrong VPC endpoint.
    write_record(spool_dir, "00000000000000000000-0000001-wrong.json",
                 good_record(eventbridge, endpoint="http://127.0.0.1:9/"))
    result = run_pyz(pyz, ["flush", "--endpoint-url", eventbridge.url], env_for(
        eventbridge, AWS_ENDPOINT_URL_EVENTBRIDGE=None))
    assert result.returncode == 0, result.stderr
    assert messages(eventbridge) == ["wrong shape?"]


def test_flush_uses_the_stored_endpoint_when_nothing_is_configured(pyz, eventbridge,
                                                                   spool_dir):
    spool_records(spool_dir, 1, eventbridge)
    result = run_pyz(pyz, ["flush"], env_for(eventbridge, AWS_ENDPOINT_URL_EVENTBRIDGE=None,
                                             AWS_REGION=None))
    assert result.returncode == 0, result.stderr
    assert messages(eventbridge) == ["spooled 0"]


def test_flush_with_another_region_signs_for_it(pyz, eventbridge, spool_dir):
    eventbridge.region = "eu-west-1"
    spool_records(spool_dir, 1, eventbridge)  # stored: us-east-1
    result = flush(pyz, eventbridge, "--region", "eu-west-1")
    assert result.returncode == 0, result.stderr
    assert messages(eventbridge) == ["spooled 0"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory away")
@pytest.mark.parametrize("how", ["other-owner", "world-writable"])
def test_a_spool_whose_parent_someone_else_controls_is_refused(pyz, eventbridge, tmp_path,
                                                               how):
    parent = tmp_path / "bosky-0"  # as /var/tmp/bosky-UID, made in advance by another user
    parent.mkdir()
    if how == "other-owner":
        os.chown(str(parent), 65534, 65534)
    else:
        os.chmod(str(parent), 0o777)
    spool_dir = str(parent / "spool")
    eventbridge.mode = "reset"
    emitted = emit(pyz, eventbridge, "x", "--timeout", "0.3", BOSKY_SPOOL_DIR=spool_dir)
    assert emitted.returncode == 1 and "another user could move the spool away" in \
        one_line(emitted)
    flushed = flush(pyz, eventbridge, BOSKY_SPOOL_DIR=spool_dir)
    assert flushed.returncode == 1 and str(parent) in one_line(flushed)  # not "0 spooled"
    assert not os.path.exists(spool_dir)


def test_a_sticky_world_writable_parent_is_fine(pyz, eventbridge, tmp_path):
    parent = tmp_path / "shared"
    parent.mkdir()
    os.chmod(str(parent), 0o1777)  # as /var/tmp itself
    eventbridge.mode = "reset"
    result = emit(pyz, eventbridge, "x", "--timeout", "0.3",
                  BOSKY_SPOOL_DIR=str(parent / "bosky" / "spool"))
    assert result.returncode == 75, result.stderr


def test_a_failed_write_leaves_no_temporary_file(pyz, eventbridge, spool_dir):
    os.makedirs(spool_dir, mode=0o700)

    def small_files():  # the kernel refuses writes past 100 bytes (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))
    eventbridge.mode = "reset"
    result = subprocess.run([sys.executable, pyz, "--fail", "x", "--instance-id", INSTANCE,
                             "--timeout", "0.3"], env=env_for(eventbridge),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=small_files)
    assert result.returncode == 1, result.stderr
    assert "File too large" in one_line(result)
    assert os.listdir(spool_dir) == []


def test_flush_removes_what_a_crashed_writer_left(pyz, eventbridge, spool_dir):
    spool_records(spool_dir, 1, eventbridge)
    stale = os.path.join(spool_dir, ".tmp-00000000000000000000-0000001-crashed.json")
    fresh = os.path.join(spool_dir, ".tmp-00000000000000000001-0000002-writing.json")
    for path in (stale, fresh):
        with open(path, "w") as handle:
            handle.write("{")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    assert flush(pyz, eventbridge).returncode == 0
    assert not os.path.exists(stale) and os.path.exists(fresh)  # a live writer's is kept
    assert stat.S_IMODE(os.stat(spool_dir).st_mode) == 0o700
