"""`bosky s3 cp` against an S3 that lies, and local files that are not what they seem.

Each case is a reply no real S3 sends (or a proxy that rewrites one), made by the
stand-in's `lie` hook from its honest reply, and the promise it must not break:
exit 0 only for bytes that are the object's, nothing partial at DST, a wall
clock, one line naming the cause.  Found by an attacker that had not seen the code.
"""

import base64
import hashlib
import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from conftest import SLACK, one_line
from test_s3 import cp, put



def region_of(request):
    return request.header("authorization").split("Credential=")[1].split("/")[2]


def ping_pong(request, reply):
    """Every reply: "the bucket is in the other region"."""
    other = "us-west-2" if region_of(request) == "us-east-1" else "us-east-1"
    return 301, {"x-amz-bucket-region": other}, b""


@pytest.mark.parametrize("direction", ["upload", "download"])
def test_a_bucket_that_keeps_moving_is_an_error_not_a_success(pyz, bucket_server, tmp_path,
                                                              direction):
    bucket_server.lie = ping_pong
    source = tmp_path / "f"
    source.write_bytes(b"data")
    args = [str(source), "s3://my-bucket/k"] if direction == "upload" else [
        "s3://my-bucket/k", str(tmp_path / "out")]
    result = cp(pyz, bucket_server, *args)
    assert result.returncode == 1 and "PermanentRedirect" in one_line(result)
    assert len(bucket_server.requests) == 2 and not (tmp_path / "out").exists()


def test_a_region_no_region_could_be_is_s3s_fault_exit_1(pyz, bucket_server, tmp_path):
    bucket_server.lie = lambda request, reply: (301, {"x-amz-bucket-region": "x@127.0.0.1:9#"},
                                                b"")
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "out"))
    assert result.returncode == 1 and "invalid region" in one_line(result)
    assert len(bucket_server.requests) == 1


def test_a_part_of_the_object_to_a_plain_get_is_refused(pyz, bucket_server, tmp_path):
    put(bucket_server, "k", b"A" * 1000)
    bucket_server.send_checksum = False

    def partial(request, reply):
        return 206, {"ETag": '"0123456789abcdef0123456789abcdef-3"',
                     "Content-Range": "bytes 0-99/1000"}, b"A" * 100
    bucket_server.lie = partial
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "out"))
    assert result.returncode == 1 and "HTTP 206 to a GET without Range" in one_line(result)
    assert os.listdir(str(tmp_path)) == []


def test_a_composite_checksum_does_not_switch_off_the_etag_check(pyz, bucket_server, tmp_path):
    put(bucket_server, "k", b"A" * 1000)

    def swapped(request, reply):
        status, headers, body = reply
        return status, dict(headers, **{"x-amz-checksum-sha256": "Zm9v-1"}), b"B" * 1000
    bucket_server.lie = swapped
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "out"))
    assert result.returncode == 1 and "MD5 does not match" in one_line(result)
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("content_range,etag,words", [
    # A proxy serving a newer, shorter version, If-Match ignored: the range says so.
    ("bytes 1000-2999/3000", '"bbbb-3"', "the resumed GET did not answer bytes "
                                         "1000-299999/300000"),
    # The very range asked for, of another object: only its ETag says so.
    ("bytes 1000-299999/300000", '"bbbb-3"', "the resumed GET is of another object"),
])
def test_a_resume_from_another_object_is_refused(pyz, bucket_server, tmp_path, content_range,
                                                 etag, words):
    data = os.urandom(300000)
    put(bucket_server, "k", data)
    bucket_server.send_checksum = False
    bucket_server.cut_after = (1000, 1)
    rest = int(content_range.split("/")[1]) - 1000

    def ignores_if_match(request, reply):
        status, headers, body = reply
        if request.header("range"):
            return 206, {"ETag": etag, "Content-Range": content_range}, b"B" * rest
        return status, dict(headers, ETag='"aaaa-2"'), body
    bucket_server.lie = ignores_if_match
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "out"))
    assert result.returncode == 1 and words in one_line(result)
    assert os.listdir(str(tmp_path)) == []


def test_a_resume_that_returns_nothing_backs_off_instead_of_spinning(pyz, bucket_server,
                                                                     tmp_path):
    put(bucket_server, "k", b"A" * 1000)
    bucket_server.send_checksum = False

    def empty_rest(request, reply):
        status, headers, body = reply
        if request.header("range"):
            return 206, {"ETag": headers["ETag"], "Content-Range": "bytes 500-999/1000",
                         "Transfer-Encoding": "chunked"}, b""
        return ("cut-body", 200), dict(headers, **{"Content-Length": "1000"}), body[:500]
    bucket_server.lie = empty_rest
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "out"), "--timeout", "3")
    assert result.returncode == 1, result.stderr
    assert len(bucket_server.requests) < 30  # the attacker's server saw 6006 in 3 s
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("name,value", [
    ("sha1", base64.b64encode(hashlib.sha1(b"other bytes").digest()).decode()),
    ("crc32", "AAAAAA=="),
])
def test_a_sha1_or_crc32_that_does_not_match_is_refused(pyz, bucket_server, tmp_path, name,
                                                        value):
    put(bucket_server, "k", b"C" * 1000)
    bucket_server.send_checksum = False

    def checksum(request, reply):
        status, headers, body = reply
        return status, dict(headers, ETag='"abc-2"', **{"x-amz-checksum-" + name: value}), body
    bucket_server.lie = checksum
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "out"))
    assert result.returncode == 1 and name.upper() + " does not match" in one_line(result)


@pytest.mark.parametrize("name", ["crc64nvme", "crc32c"])
@pytest.mark.parametrize("right", [True, False])
def test_the_default_checksums_of_current_sdks_are_checked_too(pyz, bucket_server, tmp_path,
                                                               name, right):
    # S3 and current SDKs give new objects a CRC64NVME; with SSE-KMS or a multipart
    # upload it is all there is.  awscrt (the CRT the SDKs use) is the oracle.
    checksums = pytest.importorskip("awscrt.checksums")
    data = os.urandom(100000)
    put(bucket_server, "k", data)
    bucket_server.send_checksum = False
    value = getattr(checksums, name)(data if right else data[:-1] + b"!")
    header = base64.b64encode(value.to_bytes(8 if name == "crc64nvme" else 4, "big")).decode()

    def only_that(request, reply):
        status, headers, body = reply
        return status, dict(headers, ETag='"abc-2"', **{
            "x-amz-checksum-" + name: header, "x-amz-checksum-type": "FULL_OBJECT"}), body
    bucket_server.lie = only_that
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "out"))
    if right:
        assert result.returncode == 0 and result.stderr == b"", result.stderr
        assert (tmp_path / "out").read_bytes() == data
    else:
        assert result.returncode == 1 and name.upper() + " does not match" in one_line(result)
        assert os.listdir(str(tmp_path)) == []


def test_an_object_nothing_can_check_is_copied_with_a_warning_that_says_so(
        pyz, bucket_server, tmp_path):
    put(bucket_server, "k", b"C" * 1000)
    bucket_server.send_checksum = False

    def composite_only(request, reply):
        status, headers, body = reply
        return status, dict(headers, ETag='"abc-2"', **{
            "x-amz-checksum-crc32c": "AAAAAA==-2", "x-amz-checksum-type": "COMPOSITE"}), body
    bucket_server.lie = composite_only
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "out"))
    assert result.returncode == 0
    assert "only its length was checked: S3 sent only a composite CRC32C" in one_line(result)
    assert "pass --sha256" in one_line(result)
    digest = hashlib.sha256(b"C" * 1000).hexdigest()
    checked = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "out"), "--sha256",
                 digest)
    assert checked.returncode == 0 and checked.stderr == b""


# -- local files ------------------------------------------------------------------------

def test_a_symlink_dst_is_written_through_and_stays_a_link(pyz, bucket_server, tmp_path):
    put(bucket_server, "k", b"new bytes")
    real = tmp_path / "real"
    real.write_bytes(b"original")
    os.chmod(str(real), 0o640)
    link = tmp_path / "link"
    link.symlink_to(real)
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and real.read_bytes() == b"new bytes"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_a_fifo_dst_is_written_to_once_verified_and_stays_a_fifo(pyz, bucket_server, tmp_path):
    put(bucket_server, "k", b"through the pipe")
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    got = []
    reader = threading.Thread(target=lambda: got.append(open(str(fifo), "rb").read()),
                              daemon=True)  # never holds the worker, whatever bosky does
    reader.start()
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(fifo))
    reader.join(10)
    assert result.returncode == 0, result.stderr
    assert got == [b"through the pipe"] and stat.S_ISFIFO(os.lstat(str(fifo)).st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own a file as another user")
def test_a_replaced_setuid_file_keeps_its_owner_and_loses_setuid(pyz, bucket_server, tmp_path):
    put(bucket_server, "tool", b"#!/bin/sh\nid\n")
    tool = tmp_path / "tool"
    tool.write_bytes(b"old")
    os.chown(str(tool), 65534, 65534)
    os.chmod(str(tool), 0o4755)
    result = cp(pyz, bucket_server, "s3://my-bucket/tool", str(tool))
    assert result.returncode == 0, result.stderr
    info = tool.stat()
    assert stat.S_IMODE(info.st_mode) == 0o755 and (info.st_uid, info.st_gid) == (65534, 65534)


def shell(pyz, server, command, **env):
    from test_s3 import env_for
    return subprocess.run(["bash", "-c", command.replace("BOSKY", "{} {}".format(
        sys.executable, pyz))], env=env_for(server, **env), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=60)


@pytest.mark.parametrize("command,status,words", [
    ("BOSKY s3 cp s3://my-bucket/k - >&-", 1, "standard output: it is closed"),
    ("BOSKY s3 cp s3://my-bucket/k - >/dev/full", 1, "standard output: No space left"),
    ("BOSKY s3 cp - s3://my-bucket/up <&-", 2, "standard input is closed"),
])
def test_closed_or_full_standard_streams_are_one_line(pyz, bucket_server, command, status,
                                                      words):
    put(bucket_server, "k", os.urandom(300000))
    result = shell(pyz, bucket_server, command)
    assert result.returncode == status and words in one_line(result)


@pytest.mark.parametrize("redirect", ["2>&-", "2>/dev/full"])
def test_progress_on_a_closed_or_full_stderr_never_fails_the_copy(pyz, bucket_server, tmp_path,
                                                                  redirect):
    put(bucket_server, "k", os.urandom(300000))
    result = shell(pyz, bucket_server, "BOSKY s3 cp s3://my-bucket/k {} --progress {}".format(
        tmp_path / "out", redirect))
    assert result.returncode == 0 and (tmp_path / "out").stat().st_size == 300000


def test_a_name_too_long_is_refused_before_the_download(pyz, bucket_server, tmp_path):
    put(bucket_server, "k", b"x")
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / ("n" * 300)))
    assert result.returncode == 2 and "over 255 bytes" in one_line(result)
    assert [r.method for r in bucket_server.requests] == []


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/bin/unshare"),
                    reason="needs root and unshare for a small private file system")
def test_a_full_file_system_is_one_line_and_leaves_nothing(pyz, bucket_server, tmp_path):
    from test_s3 import env_for
    put(bucket_server, "k", os.urandom(3 * 1024 * 1024))
    small = tmp_path / "small"
    small.mkdir()
    script = 'mount -t tmpfs -o size=1m tmpfs "$1" && "$2" "$3" s3 cp s3://my-bucket/k "$1/out"' \
             '; echo "rc=$?"; ls -A "$1"'
    result = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", str(small),
                             sys.executable, pyz], env=env_for(bucket_server),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert result.stdout.decode() == "rc=1\n", result.stdout  # and no temporary file left
    assert "No space left on device" in one_line(result)


# -- options ----------------------------------------------------------------------------

@pytest.mark.parametrize("args,words", [
    (["--content-type", "a\r\nX-Evil: 1"], "--content-type"),
    (["--sse", "aws:kms", "--sse-kms-key-id", "k\u00ff\u0100"], "--sse-kms-key-id"),
    (["--mode", " 644 "], "--mode"), (["--mode", "+644"], "--mode"),
    (["--mode", "0_644"], "--mode"), (["--mode", "-0"], "--mode"),
])
def test_option_values_no_header_or_mode_could_be_are_usage_errors(pyz, bucket_server, tmp_path,
                                                                   args, words):
    source = tmp_path / "f"
    source.write_bytes(b"x")
    result = cp(pyz, bucket_server, str(source), "s3://my-bucket/k", *args)
    assert result.returncode == 2 and words in one_line(result)
    assert bucket_server.requests == []


def test_an_upload_to_a_prefix_gets_the_files_name_as_the_aws_cli_does(pyz, bucket_server,
                                                                       tmp_path):
    source = tmp_path / "messages"
    source.write_bytes(b"log")
    assert cp(pyz, bucket_server, str(source), "s3://my-bucket/logs/").returncode == 0
    assert bucket_server.objects[("my-bucket", "logs/messages")] == b"log"
    result = cp(pyz, bucket_server, "-", "s3://my-bucket/logs/", stdin_bytes=b"x")
    assert result.returncode == 2 and "name the key" in one_line(result)


def test_a_multipart_upload_to_a_hanging_s3_keeps_a_short_timeout(pyz, bucket_server, tmp_path):
    source = tmp_path / "big"
    source.write_bytes(os.urandom(9 * 1024 * 1024))

    def hangs(request, reply):
        if request.method != "POST":
            time.sleep(20)  # every part and the abort
        return reply
    bucket_server.lie = hangs
    started = time.monotonic()
    result = cp(pyz, bucket_server, str(source), "s3://my-bucket/big", "--timeout", "2")
    assert time.monotonic() - started < 2 + SLACK
    text = result.stderr.decode()
    assert result.returncode == 1 and "timed out" in text and "event" not in text, text
    assert [r.method for r in bucket_server.requests][:2] == ["POST", "PUT"]  # a part was tried
