"""Hostile files, replies and settings an attacker found, through the built .pyz.

FIFOs where bosky reads a file (each would block past every deadline), CA
bundles that are not PEM, JSON replies no JSON reader should accept (1e999,
NaN, nesting 200,000 deep), spool records and lock files of the wrong kind,
events made too big by what bosky itself filled in, a proxy that echoes its
password, settings a command never uses, and inputs so long that echoing them
would be the problem.
"""

import json
import os
import time

import pytest

import standins
from conftest import SLACK, base_env, one_line, run_pyz
from test_e2e import ENV_KEYS, INSTANCE
from test_hostile import spooled

EMIT = ["--fail", "x", "--instance-id", INSTANCE, "--timeout", "2"]


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(str(path))
    return str(path)


def timed(pyz, args, env):
    started = time.monotonic()
    result = run_pyz(pyz, args, env, timeout=30)
    return result, time.monotonic() - started


@pytest.mark.parametrize("variable", ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                                      "--config", "AWS_WEB_IDENTITY_TOKEN_FILE",
                                      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CA_BUNDLE",
                                      "SSL_CERT_FILE"])
def test_a_fifo_where_a_file_is_read_never_holds_bosky(pyz, eventbridge, fifo, variable):
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   **ENV_KEYS)
    args = list(EMIT)
    if variable == "--config":
        args += ["--config", fifo]
    elif variable == "AWS_WEB_IDENTITY_TOKEN_FILE":
        env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                       AWS_WEB_IDENTITY_TOKEN_FILE=fifo,
                       AWS_ROLE_ARN="arn:aws:iam::123456789012:role/r",
                       AWS_ENDPOINT_URL_STS="http://127.0.0.1:9")
    elif variable == "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE":
        env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                       AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:9/creds",
                       AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=fifo)
    else:
        env[variable] = fifo
    if variable in ("AWS_CA_BUNDLE", "SSL_CERT_FILE"):  # read for HTTPS only
        env["AWS_ENDPOINT_URL_EVENTBRIDGE"] = "https://127.0.0.1:9"
    result, elapsed = timed(pyz, args, env)
    assert elapsed < 2 + SLACK, (variable, elapsed, result.stderr)
    if variable in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        assert result.returncode == 0, result.stderr  # no file there: as if it were missing
    else:
        assert result.returncode in (1, 2, 75) and "Traceback" not in result.stderr.decode()
        one_line(result)


def test_a_fifo_in_the_spool_goes_to_bad_and_holds_neither_flush_nor_emit(pyz, eventbridge,
                                                                          tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o700)
    os.mkfifo(str(spool / "00000000000000000001-0000001-x.json"))
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   BOSKY_SPOOL_DIR=str(spool), **ENV_KEYS)
    emitted, elapsed = timed(pyz, ["--pass", "x", "--instance-id", INSTANCE, "--timeout", "2"],
                             env)
    assert emitted.returncode == 0 and elapsed < 2 + SLACK, emitted.stderr
    flushed, elapsed = timed(pyz, ["flush", "--timeout", "2"], env)
    assert flushed.returncode == 0 and elapsed < 2 + SLACK, flushed.stderr
    assert sorted(os.listdir(str(spool / "bad"))) == [
        "00000000000000000001-0000001-x.json", "00000000000000000001-0000001-x.json.reason"]
    assert "not a regular file" in (spool / "bad" /
                                    "00000000000000000001-0000001-x.json.reason").read_text()


@pytest.mark.parametrize("content", [b"hello\n", b"", b"\x30\x82\x01\x0a der bytes"])
def test_a_ca_bundle_that_is_not_pem_is_one_line_exit_2(pyz, tmp_path, content):
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(content)
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE="https://127.0.0.1:9", AWS_REGION="us-east-1",
                   AWS_CA_BUNDLE=str(bundle), **ENV_KEYS)
    result = run_pyz(pyz, EMIT, env)
    assert result.returncode == 2 and "holds no PEM certificate" in one_line(result)


def test_a_pem_bundle_openssl_cannot_load_is_one_line_too(pyz, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE="https://127.0.0.1:9", AWS_REGION="us-east-1",
                   AWS_CA_BUNDLE=str(bundle), **ENV_KEYS)
    result = run_pyz(pyz, EMIT, env)
    assert result.returncode == 2 and "cannot be loaded" in one_line(result)


@pytest.mark.parametrize("body", [
    b'{"FailedEntryCount": 1e999, "Entries": [{"EventId": "x"}]}',
    b'{"FailedEntryCount": NaN, "Entries": [{"EventId": "x"}]}',
    b'{"Entries": ' + b"[" * 200000 + b"]" * 200000 + b"}",
], ids=["overflow", "nan", "deep"])
def test_a_put_events_reply_no_strict_reader_accepts_is_spooled(pyz, tmp_path, body):
    server = standins.RawReplyServer(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json"
                                     b"-1.1\r\nContent-Length: %d\r\n\r\n" % len(body) +
                                     body).start()
    try:
        env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=server.url, AWS_REGION="us-east-1",
                       BOSKY_SPOOL_DIR=str(tmp_path / "spool"), **ENV_KEYS)
        result = run_pyz(pyz, EMIT, env)
    finally:
        server.stop()
    assert result.returncode == 75 and "cannot read" in one_line(result)
    assert len(spooled(str(tmp_path / "spool"))) == 1


def test_credentials_nested_too_deep_are_one_line_naming_the_source(pyz, eventbridge):
    deep = "[" * 200000 + "]" * 200000
    imds = standins.ImdsStandIn().start()
    try:
        imds.paths["/latest/meta-data/iam/security-credentials/" +
                   standins.imds.ROLE_NAME] = deep
        env = base_env(imds.url, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url,
                       AWS_REGION="us-east-1")
        result = run_pyz(pyz, EMIT + ["--no-spool"], env)
    finally:
        imds.stop()
    assert result.returncode == 1 and "credentials from" in one_line(result)


def test_a_record_with_a_lone_surrogate_goes_to_bad_and_the_rest_are_sent(pyz, eventbridge,
                                                                          tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o700)
    good = {"version": 1, "endpoint": eventbridge.url, "region": "us-east-1", "entry": {
        "Source": "web", "DetailType": "User Data", "Detail": "{\"Status\":\"fail\"}"}}
    bad = json.loads(json.dumps(good))
    bad["entry"]["Source"] = "s\ud800"
    for number, record in ((1, bad), (2, good)):
        (spool / "0000000000000000000{}-0000001-x.json".format(number)).write_text(
            json.dumps(record))  # json.dumps writes the surrogate as the escape \ud800
    env = base_env(AWS_REGION="us-east-1", BOSKY_SPOOL_DIR=str(spool), **ENV_KEYS)
    result = run_pyz(pyz, ["flush", "--timeout", "5"], env)
    assert "lone surrogate" in result.stderr.decode() and "Traceback" not in \
        result.stderr.decode()
    assert len(eventbridge.accepted) == 1 and sorted(os.listdir(str(spool / "bad")))[0] == \
        "00000000000000000001-0000001-x.json"


@pytest.mark.parametrize("kind", ["symlink", "directory", "fifo"])
def test_a_spool_lock_of_the_wrong_kind_is_a_spool_error(pyz, eventbridge, tmp_path, kind):
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o700)
    lock = spool / ".lock"
    if kind == "symlink":
        lock.symlink_to(tmp_path / "elsewhere")
    elif kind == "directory":
        lock.mkdir()
    else:
        os.mkfifo(str(lock))
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   BOSKY_SPOOL_DIR=str(spool), **ENV_KEYS)
    result, elapsed = timed(pyz, ["flush", "--timeout", "2"], env)
    assert elapsed < 2 + SLACK
    assert result.returncode == 1 and "its lock file" in one_line(result)


def test_an_event_made_too_big_by_bosky_itself_is_cut_and_sent(pyz, eventbridge):
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   **ENV_KEYS)
    long_words = ["x" * 100000] * 3
    result = run_pyz(pyz, ["run", "--instance-id", INSTANCE, "--", "sh", "-c",
                           "echo the tail; exit 3"] + long_words, env)
    assert result.returncode == 3 and result.stderr == b"", result.stderr
    details = [item["detail"] for item in eventbridge.accepted]
    assert sorted(d["Status"] for d in details) == ["fail", "start"]
    finish = [d for d in details if d["Status"] == "fail"][0]
    assert "characters cut]" in json.dumps(finish["Command"])
    assert finish["OutputTail"] == "the tail\n"


def test_the_users_own_message_too_big_is_still_refused(pyz, eventbridge):
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   **ENV_KEYS)
    result = run_pyz(pyz, ["--fail", "-", "--instance-id", INSTANCE, "--detail",
                           "Extra=" + "z" * 100000], env, stdin_text="y" * 200000)
    assert result.returncode == 2 and "shorten the message" in one_line(result)


def test_a_proxy_echoing_its_password_does_not_get_it_printed_or_spooled(pyz, tmp_path):
    import base64
    secret = base64.b64encode(b"user:Pr0xyPa55w0rd").decode()
    body = "bad gateway; you sent Basic {}".format(secret).encode()
    proxy = standins.RawReplyServer(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: %d\r\n\r\n"
                                    % len(body) + body).start()
    try:
        env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE="http://events.example.invalid/",
                       AWS_REGION="us-east-1", BOSKY_SPOOL_DIR=str(tmp_path / "spool"),
                       HTTP_PROXY=proxy.url.replace("http://", "http://user:Pr0xyPa55w0rd@"),
                       NO_PROXY="", **ENV_KEYS)
        result = run_pyz(pyz, EMIT + ["--debug"], env)
    finally:
        proxy.stop()
    text = result.stderr.decode()
    assert "bad gateway; you sent Basic ****" in text, text
    assert secret not in text and "Pr0xyPa55w0rd" not in text
    spool_text = "".join(open(os.path.join(str(tmp_path / "spool"), name)).read()
                         for name in os.listdir(str(tmp_path / "spool")) if name.endswith(
                             ".json"))
    assert spool_text and secret not in spool_text


@pytest.mark.parametrize("variable,value", [("BOSKY_EVENT_BUS", "bad bus!"),
                                            ("AWS_ENDPOINT_URL_EVENTBRIDGE", "ftp://x")])
def test_s3_cp_is_not_refused_for_an_event_setting_it_never_uses(pyz, tmp_path, variable,
                                                                 value):
    bucket = standins.S3StandIn().start()
    try:
        bucket.objects[("b", "k")] = b"object"
        env = base_env(AWS_ENDPOINT_URL_S3=bucket.url, AWS_REGION="us-east-1",
                       **dict(ENV_KEYS, **{variable: value}))
        result = run_pyz(pyz, ["s3", "cp", "s3://b/k", str(tmp_path / "k")], env)
    finally:
        bucket.stop()
    assert result.returncode == 0, result.stderr
    # ...while a command that sends events still is:
    assert run_pyz(pyz, EMIT, env).returncode == 2


@pytest.mark.parametrize("name", ["", "*", "bad name*", "b/../c"])
def test_permissions_refuse_a_bucket_that_is_not_a_bucket_name(pyz, name):
    result = run_pyz(pyz, ["--permissions", "--bucket", name, "--region", "us-east-1"],
                     base_env())
    assert result.returncode == 2 and "is not a bucket name" in one_line(result)


def test_a_huge_bad_value_is_not_echoed_whole(pyz, tmp_path):
    config = tmp_path / "config"
    config.write_bytes(b"\x00" * (4 * 1024 * 1024))
    result = run_pyz(pyz, EMIT + ["--config", str(config)], base_env(**ENV_KEYS))
    line = one_line(result)
    assert result.returncode == 2 and len(line) < 2100 and "characters cut]" in line
    region = run_pyz(pyz, EMIT, base_env(AWS_REGION="x" * 120000, **ENV_KEYS))
    assert region.returncode == 2 and len(one_line(region)) < 2100
