"""`bosky s3 cp`: S3's SigV4 against AWS's vectors and botocore, addressing as the SDKs do
it, and transfers through the built .pyz against the loopback S3 stand-in (its own
verifier; redirects, cuts, throttling, skew, multipart failures)."""

import base64
import datetime
import hashlib
import os
import random
import stat
import subprocess
import sys
import time

import pytest

from conftest import base_env, one_line
from test_e2e import ENV_KEYS

from bosky import errors
from bosky.aws import s3, sigv4
from bosky.credentials import Credentials

MIB = 1024 * 1024
VECTOR_KEYS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
VECTOR_TIME = datetime.datetime(2013, 5, 24, 0, 0, 0, tzinfo=datetime.timezone.utc)


def signature_of(headers):
    return headers["Authorization"].rsplit("Signature=", 1)[1]


def test_the_s3_get_vector():
    # S3 API reference, "Signature calculation: header-based auth", GET Object with Range.
    signed = sigv4.sign_request("GET", "https://examplebucket.s3.amazonaws.com/test.txt",
                                {"Range": "bytes=0-9"}, None, VECTOR_KEYS, "us-east-1", "s3",
                                VECTOR_TIME, content_sha256=s3.EMPTY_SHA256)
    assert "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date," in \
        signed["Authorization"]
    assert signature_of(signed) == \
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"


def test_the_s3_put_vector():
    # The same page's PUT Object of "Welcome to Amazon S3." to /test$file.text.
    body = b"Welcome to Amazon S3."
    url = s3.object_url("https://examplebucket.s3.amazonaws.com", "test$file.text")
    assert url.endswith("/test%24file.text")
    signed = sigv4.sign_request("PUT", url, {"Date": "Fri, 24 May 2013 00:00:00 GMT",
                                             "x-amz-storage-class": "REDUCED_REDUNDANCY"},
                                None, VECTOR_KEYS, "us-east-1", "s3", VECTOR_TIME,
                                content_sha256=hashlib.sha256(body).hexdigest())
    assert signature_of(signed) == \
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"


AWKWARD = ["a b", "sp\u00e4ce/\u1234/\U0001f600", "plus+sign", "tilde~x", "eq=amp&", "a//b",
           "trailing/", "./dot/../dots", "percent%20literal", "quote'\"", "semi;colon,comma",
           "question?hash#", "@at:colon", "*star!bang$()", "[brackets]{braces}"]


def generated_keys(count):
    rng = random.Random(20261201)
    alphabet = "abc XYZ019-_.~+=&%/?#'\"\u00e9\u1234\U0001f600()[]!*,;:@$"
    return AWKWARD + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
                      for _ in range(count)]


def test_s3_signatures_agree_with_botocores_s3_signer_on_awkward_keys():
    botocore_auth = pytest.importorskip("botocore.auth")
    from unittest import mock
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials
    creds = Credentials("AKIDEXAMPLE", "s3cret/KEY+0000", "FQoGZXTOKEN")
    for case, key in enumerate(generated_keys(120)):
        base = "https://my-bucket.s3.eu-west-1.amazonaws.com" if case % 2 else \
            "http://127.0.0.1:9000/my.dotted.bucket"
        params = [("partNumber", case), ("uploadId", "Up.Id_~-{}".format(case))] \
            if case % 3 == 0 else ([("uploads", None)] if case % 3 == 1 else [])
        url = s3.object_url(base, key, params)
        body = ("part %d" % case).encode()
        digest = hashlib.sha256(body).hexdigest()
        headers = {"x-amz-checksum-sha256": "abc=", "Content-Type": "text/plain"}
        ours = sigv4.sign_request("PUT", url, headers, None, creds, "eu-west-1", "s3",
                                  VECTOR_TIME, content_sha256=digest)
        request = AWSRequest(method="PUT", url=url, data=body, headers=dict(headers))
        signer = botocore_auth.S3SigV4Auth(BotoCredentials(creds.access_key_id,
                                                           creds.secret_access_key,
                                                           creds.session_token),
                                           "s3", "eu-west-1")
        with mock.patch.object(botocore_auth, "get_current_datetime",
                               return_value=VECTOR_TIME.replace(tzinfo=None)):
            signer.add_auth(request)
        assert ours["Authorization"] == request.headers["Authorization"], (case, key)


@pytest.mark.parametrize("bucket,region,options,expected", [
    ("my-bucket", "us-east-1", {}, ("https://my-bucket.s3.us-east-1.amazonaws.com", "virtual")),
    ("my.dotted.bucket", "eu-west-1", {},
     ("https://s3.eu-west-1.amazonaws.com/my.dotted.bucket", "path")),
    ("my-bucket", "cn-north-1", {},
     ("https://my-bucket.s3.cn-north-1.amazonaws.com.cn", "virtual")),
    ("my-bucket", "us-west-2", {"fips": True},
     ("https://my-bucket.s3-fips.us-west-2.amazonaws.com", "virtual")),
    ("my-bucket", "us-west-2", {"dualstack": True},
     ("https://my-bucket.s3.dualstack.us-west-2.amazonaws.com", "virtual")),
    ("my-bucket", "us-west-2", {"fips": True, "dualstack": True},
     ("https://my-bucket.s3-fips.dualstack.us-west-2.amazonaws.com", "virtual")),
    ("my-bucket", "us-gov-west-1", {},
     ("https://my-bucket.s3.us-gov-west-1.amazonaws.com", "virtual")),
    ("192.168.1.1", "us-east-1", {}, ("https://s3.us-east-1.amazonaws.com/192.168.1.1", "path")),
    ("Legacy_Bucket", "us-east-1", {}, ("https://s3.us-east-1.amazonaws.com/Legacy_Bucket",
                                        "path")),
    ("my-bucket", "us-east-1", {"override": "https://bucket.vpce-0a1-b2.s3.us-east-1.vpce."
                                            "amazonaws.com"},
     ("https://bucket.vpce-0a1-b2.s3.us-east-1.vpce.amazonaws.com/my-bucket", "path")),
    ("my-bucket", "us-east-1", {"override": "http://127.0.0.1:9000/", "style": "virtual"},
     ("http://my-bucket.127.0.0.1:9000", "virtual")),
])
def test_addressing_as_the_sdks_do_it(bucket, region, options, expected):
    assert s3.bucket_url(bucket, region, **options) == expected


@pytest.mark.parametrize("text,words", [
    ("s3://", "is not a bucket name"), ("s3://bucket", "no key"), ("s3://bucket/", "no key"),
    ("s3://bad bucket/key", "is not a bucket name"), ("http://bucket/key", "not an s3:// URL"),
])
def test_a_malformed_s3_url_is_a_usage_error(text, words):
    with pytest.raises(errors.UsageError) as caught:
        s3.parse_url(text)
    assert words in str(caught.value)


@pytest.mark.parametrize("size,part", [(None, 8 * MIB), (10 * MIB, 8 * MIB),
                                       (100 * 1024 * MIB, 11 * MIB),
                                       (5 * 1024 * 1024 * MIB, 525 * MIB)])
def test_parts_are_8_mib_raised_to_stay_within_ten_thousand(size, part):
    assert s3.part_size(size, 8 * MIB) == part
    assert size is None or -(-size // part) <= s3.MAX_PARTS


# -- through the .pyz, against the stand-in ------------------------------------------

def env_for(server, **extra):
    merged = dict(ENV_KEYS, AWS_ENDPOINT_URL_S3=server.url, AWS_REGION="us-east-1")
    merged.update(extra)
    return base_env(**merged)


def cp(pyz, server, *args, stdin_bytes=None, **env):
    return subprocess.run([sys.executable, pyz, "s3", "cp"] + list(args),
                          env=env_for(server, **env), input=stdin_bytes,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


def put(server, key, data, bucket="my-bucket"):
    server.objects[(bucket, key)] = data
    server.checksums[(bucket, key)] = base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_a_download_lands_whole_with_mode_0600(pyz, bucket_server, tmp_path):
    data = os.urandom(300000)
    put(bucket_server, "boot/bootstrap.sh", data)
    target = tmp_path / "bootstrap.sh"
    result = cp(pyz, bucket_server, "s3://my-bucket/boot/bootstrap.sh", str(target))
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    assert target.read_bytes() == data and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(str(tmp_path)) == ["bootstrap.sh"]  # no temporary file left
    assert bucket_server.requests[0].header("x-amz-checksum-mode") == "ENABLED"


def test_mode_and_a_directory_destination(pyz, bucket_server, tmp_path):
    put(bucket_server, "bin/tool", b"#!/bin/sh\necho hi\n")
    result = cp(pyz, bucket_server, "s3://my-bucket/bin/tool", str(tmp_path) + "/",
                "--mode", "0755")
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "tool").stat().st_mode) == 0o755


def test_a_download_to_stdout_is_written_only_once_verified(pyz, bucket_server):
    data = b"x" * 100000
    put(bucket_server, "k", data)
    assert cp(pyz, bucket_server, "s3://my-bucket/k", "-").stdout == data
    bucket_server.corrupt = True  # the bytes no longer match S3's own checksum
    result = cp(pyz, bucket_server, "s3://my-bucket/k", "-")
    assert result.returncode == 1 and result.stdout == b""
    assert "does not match the x-amz-checksum-sha256 S3 sent" in one_line(result)


@pytest.mark.parametrize("given,ok", [("right", True), ("wrong", False)])
def test_sha256_is_checked_before_anything_is_put_in_place(pyz, bucket_server, tmp_path,
                                                            given, ok):
    data = b"bundle bytes"
    put(bucket_server, "app.tar.gz", data)
    target = tmp_path / "app.tar.gz"
    target.write_bytes(b"the old version")
    digest = hashlib.sha256(data if given == "right" else b"other").hexdigest()
    result = cp(pyz, bucket_server, "s3://my-bucket/app.tar.gz", str(target), "--sha256",
                digest)
    assert result.returncode == (0 if ok else 1), result.stderr
    assert target.read_bytes() == (data if ok else b"the old version")
    assert os.listdir(str(tmp_path)) == ["app.tar.gz"]
    if not ok:
        assert "given by --sha256; nothing was written to " + str(target) in one_line(result)


def test_without_an_s3_checksum_a_plain_md5_etag_is_checked(pyz, bucket_server, tmp_path):
    put(bucket_server, "k", b"some bytes")
    bucket_server.send_checksum, bucket_server.corrupt = False, True
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "k"))
    assert result.returncode == 1 and "does not match the object's ETag" in one_line(result)
    assert os.listdir(str(tmp_path)) == []


def test_a_dropped_connection_resumes_with_range_and_if_match(pyz, bucket_server, tmp_path):
    data = os.urandom(3 * MIB)
    put(bucket_server, "big", data)
    bucket_server.cut_after = (MIB, 2)  # cut twice, a MiB into each body
    result = cp(pyz, bucket_server, "s3://my-bucket/big", str(tmp_path / "big"), "--debug")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "big").read_bytes() == data
    gets = [r for r in bucket_server.requests if r.method == "GET"]
    assert [r.header("range") for r in gets] == [None, "bytes=1048576-", "bytes=2097152-"]
    etag = '"{}"'.format(hashlib.md5(data).hexdigest())
    assert [r.header("if-match") for r in gets] == [None, etag, etag]
    assert result.stderr.decode().count("resuming") == 2


def test_an_object_changed_while_resuming_fails_with_nothing_written(pyz, bucket_server,
                                                                     tmp_path):
    put(bucket_server, "big", os.urandom(2 * MIB))
    bucket_server.cut_after = (MIB, 1)

    def replace_when_cut(request, original=bucket_server.respond):
        if request.header("range"):
            put(bucket_server, "big", b"a new version")
        return original(request)
    bucket_server.respond = replace_when_cut
    result = cp(pyz, bucket_server, "s3://my-bucket/big", str(tmp_path / "big"))
    assert result.returncode == 1 and "PreconditionFailed" in one_line(result)
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("size", [1000, 8 * MIB - 1])
def test_a_small_upload_is_one_put_with_its_sha256(pyz, bucket_server, tmp_path, size):
    source = tmp_path / "messages.log"
    source.write_bytes(os.urandom(size))
    result = cp(pyz, bucket_server, str(source), "s3://my-bucket/logs/messages.log",
                "--sse", "AES256")
    assert result.returncode == 0, result.stderr
    assert bucket_server.objects[("my-bucket", "logs/messages.log")] == source.read_bytes()
    [put_request] = [r for r in bucket_server.requests if r.method == "PUT"]
    assert put_request.header("x-amz-checksum-sha256") == base64.b64encode(
        hashlib.sha256(source.read_bytes()).digest()).decode()
    assert bucket_server.meta == {"content-type": "binary/octet-stream", "sse": "AES256"}


def test_from_8_mib_an_upload_goes_in_parts(pyz, bucket_server, tmp_path):
    data = os.urandom(20 * MIB + 5)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    result = cp(pyz, bucket_server, str(source), "s3://my-bucket/big.bin")
    assert result.returncode == 0, result.stderr
    assert bucket_server.objects[("my-bucket", "big.bin")] == data
    parts = [r for r in bucket_server.requests if r.method == "PUT"]
    assert [len(r.body) for r in parts] == [8 * MIB, 8 * MIB, 4 * MIB + 5]
    assert len(bucket_server.completed) == 1 and bucket_server.aborted == []


def test_stdin_uploads_and_a_multipart_one(pyz, bucket_server):
    data = os.urandom(9 * MIB)
    result = cp(pyz, bucket_server, "-", "s3://my-bucket/from-stdin", stdin_bytes=data)
    assert result.returncode == 0, result.stderr
    assert bucket_server.objects[("my-bucket", "from-stdin")] == data


def test_a_failing_part_aborts_the_upload_and_leaves_nothing(pyz, bucket_server, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(17 * MIB))
    bucket_server.failing_part = 2
    result = cp(pyz, bucket_server, str(source), "s3://my-bucket/big.bin", "--timeout", "8",
                "--max-attempts", "3")
    assert result.returncode == 1 and "InternalError" in one_line(result)
    assert len(bucket_server.aborted) == 1 and bucket_server.uploads == {}
    assert ("my-bucket", "big.bin") not in bucket_server.objects


def test_a_complete_that_answers_200_with_an_error_is_retried(pyz, bucket_server, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(9 * MIB))
    bucket_server.complete_error = 1
    result = cp(pyz, bucket_server, str(source), "s3://my-bucket/big.bin")
    assert result.returncode == 0, result.stderr
    assert bucket_server.objects[("my-bucket", "big.bin")] == source.read_bytes()


def test_a_bucket_in_another_region_is_found_and_signed_for(pyz, bucket_server, tmp_path):
    bucket_server.regions["eu-bucket"] = "eu-central-1"
    put(bucket_server, "k", b"from frankfurt", bucket="eu-bucket")
    result = cp(pyz, bucket_server, "s3://eu-bucket/k", str(tmp_path / "k"), "--debug")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "k").read_bytes() == b"from frankfurt"
    assert "bucket eu-bucket is in eu-central-1, not us-east-1" in result.stderr.decode()
    scopes = [r.header("authorization").split("/")[2] for r in bucket_server.requests]
    assert scopes == ["us-east-1", "eu-central-1"]


def test_slowdown_is_retried(pyz, bucket_server, tmp_path):
    put(bucket_server, "k", b"eventually")
    bucket_server.slowdown = 2
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "k"))
    assert result.returncode == 0 and (tmp_path / "k").read_bytes() == b"eventually"
    assert len(bucket_server.requests) == 3


def test_a_skewed_clock_is_learned_and_the_request_signed_again(pyz, bucket_server, tmp_path):
    put(bucket_server, "k", b"on time")
    bucket_server.clock_offset = 3600.0
    result = cp(pyz, bucket_server, "s3://my-bucket/k", str(tmp_path / "k"), "--debug")
    assert result.returncode == 0, result.stderr
    assert "off the service's Date" in result.stderr.decode()


@pytest.mark.parametrize("method,source,words", [
    ("GET", "s3://my-bucket/secret", "the role needs s3:GetObject on "
                                     "arn:aws:s3:::my-bucket/secret; a key that does not exist "
                                     "reads as AccessDenied too unless the role has "
                                     "s3:ListBucket"),
    ("PUT", "FILE", "the role needs s3:PutObject on arn:aws:s3:::my-bucket/up"),
])
def test_access_denied_names_the_iam_action(pyz, bucket_server, tmp_path, method, source,
                                            words):
    put(bucket_server, "secret", b"x")
    bucket_server.denied.add(method)
    local = tmp_path / "local"
    local.write_bytes(b"y")
    args = (source, str(local)) if source.startswith("s3://") else (str(local),
                                                                   "s3://my-bucket/up")
    result = cp(pyz, bucket_server, *args)
    line = one_line(result)
    assert result.returncode == 1 and words in line and "AccessDenied" in line
    assert "(request id " in line


def test_a_missing_key_says_so(pyz, bucket_server, tmp_path):
    result = cp(pyz, bucket_server, "s3://my-bucket/nope", str(tmp_path / "nope"))
    line = one_line(result)
    assert result.returncode == 1
    assert line.startswith("bosky: error: S3 GetObject s3://my-bucket/nope rejected the "
                           "request: NoSuchKey")
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("args,words", [
    (["a", "b"], "exactly one of SRC and DST"),
    (["s3://a/b", "s3://c/d"], "exactly one of SRC and DST"),
    (["s3://bucket", "x"], "malformed s3:// URL"),
    (["s3://b/k", "x", "--sha256", "abc"], "--sha256 'abc': expected 64 hex digits"),
    (["s3://b/k", "x", "--mode", "4755"], "--mode '4755'"),
    (["x", "s3://b/k", "--sse-kms-key-id", "k"], "--sse-kms-key-id needs --sse aws:kms"),
])
def test_usage_errors_are_exit_2(pyz, bucket_server, args, words):
    result = cp(pyz, bucket_server, *args)
    assert result.returncode == 2 and words in one_line(result)
    assert bucket_server.requests == []


def test_a_trickling_s3_cannot_hold_the_transfer_past_its_deadline(pyz, tmp_path):
    from standins.hostile import HostileServer, then
    server = HostileServer(then((b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
                                 b"ETag: \"x\"\r\n\r\n", 0), (b"y", 0.3), None)).start()
    try:
        started = time.monotonic()
        result = subprocess.run([sys.executable, pyz, "s3", "cp", "s3://b-b/k",
                                 str(tmp_path / "k"), "--timeout", "2"],
                                env=base_env(AWS_ENDPOINT_URL_S3=server.url,
                                             AWS_REGION="us-east-1", **ENV_KEYS),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    finally:
        server.stop()
    assert time.monotonic() - started < 3.5 and result.returncode == 1
    assert "timed out" in one_line(result) and os.listdir(str(tmp_path)) == []
