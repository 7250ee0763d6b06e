"""The spool's file rules on a real file system: atomic, private, bounded, no symlinks."""

import os
import stat

import pytest

from bosky import errors, session, spool


def make(tmp_path, **limits):
    return spool.Spool(str(tmp_path / "spool"), os.geteuid(), **limits)


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_records_are_private_files_in_a_private_directory(tmp_path):
    the_spool = make(tmp_path)
    the_spool.write("0001-a.json", b"{}")
    assert mode_of(the_spool.path) == 0o700
    assert mode_of(os.path.join(the_spool.path, "0001-a.json")) == 0o600
    assert os.listdir(the_spool.path) == ["0001-a.json"]  # no temporary file left behind


def test_records_list_oldest_first_and_skip_hidden_files(tmp_path):
    the_spool = make(tmp_path)
    for name in ("0003-c.json", "0001-a.json", "0002-b.json"):
        the_spool.write(name, b"{}")
    open(os.path.join(the_spool.path, ".tmp-0000-z.json"), "w").close()
    assert the_spool.records() == ["0001-a.json", "0002-b.json", "0003-c.json"]


def test_a_full_spool_drops_the_oldest_and_says_which(tmp_path):
    the_spool = make(tmp_path, max_files=3)
    for index in range(3):
        the_spool.write("000{}.json".format(index), b"{}")
    assert the_spool.write("0009.json", b"{}") == ["0000.json"]
    assert the_spool.records() == ["0001.json", "0002.json", "0009.json"]


def test_the_byte_bound_counts_the_incoming_record(tmp_path):
    the_spool = make(tmp_path, max_bytes=25)
    the_spool.write("0001.json", b"x" * 10)
    the_spool.write("0002.json", b"x" * 10)
    assert the_spool.write("0003.json", b"x" * 10) == ["0001.json"]


def test_a_symlinked_spool_directory_is_refused(tmp_path):
    os.mkdir(str(tmp_path / "elsewhere"))
    os.symlink(str(tmp_path / "elsewhere"), str(tmp_path / "spool"))
    with pytest.raises(errors.SpoolError) as caught:
        make(tmp_path).write("0001.json", b"{}")
    assert "symlink" in str(caught.value)
    assert os.listdir(str(tmp_path / "elsewhere")) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the directory away")
def test_a_directory_owned_by_someone_else_is_refused(tmp_path):
    os.mkdir(str(tmp_path / "spool"), 0o700)
    os.chown(str(tmp_path / "spool"), 65534, -1)
    with pytest.raises(errors.SpoolError) as caught:
        make(tmp_path).write("0001.json", b"{}")
    assert "owned by uid 65534" in str(caught.value)


def test_a_loose_directory_mode_is_tightened(tmp_path):
    os.mkdir(str(tmp_path / "spool"), 0o755)
    os.chmod(str(tmp_path / "spool"), 0o755)
    make(tmp_path).write("0001.json", b"{}")
    assert mode_of(str(tmp_path / "spool")) == 0o700


def test_reading_a_symlinked_record_fails_instead_of_following_it(tmp_path):
    the_spool = make(tmp_path)
    the_spool.write("0001.json", b"{}")
    os.symlink("/etc/hostname", os.path.join(the_spool.path, "0002.json"))
    with pytest.raises(OSError):
        the_spool.read("0002.json")


def test_move_aside_keeps_the_record_and_its_reason(tmp_path):
    the_spool = make(tmp_path)
    the_spool.write("0001.json", b"{}")
    the_spool.move_aside("0001.json", spool.REJECTED_DIR, note="MalformedDetail")
    assert the_spool.records() == []
    rejected = os.path.join(the_spool.path, "rejected")
    assert sorted(os.listdir(rejected)) == ["0001.json", "0001.json.reason"]


def test_only_one_holder_of_the_flush_lock(tmp_path):
    the_spool = make(tmp_path)
    first = the_spool.lock(blocking=False)
    assert first is not None and the_spool.lock(blocking=False) is None
    first.close()
    again = the_spool.lock(blocking=False)
    assert again is not None
    again.close()


def test_record_round_trip_keeps_the_original_time(tmp_path):
    entry = {"Source": "s", "DetailType": "d", "Detail": "{}", "Time": 1700000000}
    data = spool.encode_record(entry, "https://e/", "eu-west-1", 1700000500, "throttled")
    assert spool.decode_record(data) == (entry, "https://e/", "eu-west-1")


@pytest.mark.parametrize("data", [b"[]", b'{"version": 2, "entry": {}}', b'{"version": 1}',
                                  b"\xff"])
def test_foreign_files_are_not_records(data):
    with pytest.raises((ValueError, KeyError)):
        spool.decode_record(data)


@pytest.mark.parametrize("env,usable,expected", [
    ({"HOME": "/home/u"}, True, "/var/spool/bosky"),
    ({"HOME": "/home/u", "XDG_STATE_HOME": "/state"}, False, "/state/bosky/spool"),
    ({"HOME": "/home/u"}, False, "/home/u/.local/state/bosky/spool"),
    ({}, False, "/var/tmp/bosky-1000/spool"),
])
def test_default_spool_directory(env, usable, expected):
    assert session.default_spool_dir(env, 1000, lambda path: usable) == expected
