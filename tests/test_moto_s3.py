"""`bosky s3 cp` against moto's S3 in server mode, IAM authentication on: moto checks each
request's signature (botocore's S3 signer) and the user's IAM policy.

What moto does not check (tests/standins/moto_server.py): the claimed payload hash, the
clock, the bucket's region.  And moto 5.2.1 refuses its own client's signature for keys
with non-ASCII letters, `+`, `=` or `&` (boto3's put_object of "a+b" gets
SignatureDoesNotMatch too: moto re-encodes the path its own way), so the keys here keep
to spaces, `~` and `/`; tests/test_s3.py takes awkward keys to its own stand-in and to
botocore's S3 signer.  The loopback stand-in covers the rest.
"""

import hashlib
import os
import subprocess
import sys

import pytest

try:
    import boto3  # noqa: F401
    import moto as _moto  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the machine
    pytest.skip("moto oracle tests need moto[server] and boto3 ({})".format(exc),
                allow_module_level=True)

from conftest import base_env, one_line  # noqa: E402
from standins.moto_server import MotoServer  # noqa: E402

MIB = 1024 * 1024
BUCKETS = ("boot-bucket", "my.dotted.bucket")


def s3_policy(actions, bucket="*"):
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": list(actions),
        "Resource": ["arn:aws:s3:::{}".format(bucket), "arn:aws:s3:::{}/*".format(bucket)]}]}


@pytest.fixture(scope="module")
def moto():
    server = MotoServer().start()
    for bucket in BUCKETS:
        server.create_bucket(bucket)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def full(moto):
    return moto.make_user("s3-user", s3_policy(["s3:GetObject", "s3:PutObject",
                                                "s3:AbortMultipartUpload", "s3:ListBucket"]))


def cp(pyz, moto, keys, *args, stdin_bytes=None):
    env = base_env(AWS_ENDPOINT_URL_S3=moto.url, AWS_REGION="us-east-1",
                   AWS_ACCESS_KEY_ID=keys[0], AWS_SECRET_ACCESS_KEY=keys[1])
    return subprocess.run([sys.executable, pyz, "s3", "cp"] + list(args), env=env,
                          input=stdin_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=180)


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("size", [1000, 9 * MIB + 17])
def test_put_and_get_through_moto(pyz, moto, full, tmp_path, bucket, size):
    data = os.urandom(size)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    key = "dir/with space/~tilde//{}".format(size)
    put = cp(pyz, moto, full, str(source), "s3://{}/{}".format(bucket, key))
    assert put.returncode == 0, put.stderr
    assert moto.get_object(bucket, key) == data  # what moto stored, read back by boto3
    target = tmp_path / "copy.bin"
    get = cp(pyz, moto, full, "s3://{}/{}".format(bucket, key), str(target), "--sha256",
             hashlib.sha256(data).hexdigest())
    assert get.returncode == 0, get.stderr
    assert target.read_bytes() == data


def test_stdin_and_stdout_through_moto(pyz, moto, full):
    data = os.urandom(100000)
    assert cp(pyz, moto, full, "-", "s3://boot-bucket/piped", stdin_bytes=data).returncode == 0
    got = cp(pyz, moto, full, "s3://boot-bucket/piped", "-")
    assert got.returncode == 0 and got.stdout == data


def test_an_object_boto3_put_is_fetched_and_verified(pyz, moto, full, tmp_path):
    moto.put_object("boot-bucket", "from-boto3", b"#!/bin/sh\necho bootstrap\n")
    result = cp(pyz, moto, full, "s3://boot-bucket/from-boto3", str(tmp_path / "x.sh"),
                "--mode", "0755")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.sh").read_bytes() == b"#!/bin/sh\necho bootstrap\n"


def test_a_put_the_policy_does_not_allow_is_refused_by_moto(pyz, moto, tmp_path):
    reader = moto.make_user(moto.unique("reader"), s3_policy(["s3:GetObject"]))
    source = tmp_path / "x"
    source.write_bytes(b"not allowed")
    result = cp(pyz, moto, reader, str(source), "s3://boot-bucket/denied")
    line = one_line(result)
    assert result.returncode == 1 and "AccessDenied" in line
    assert "the role needs s3:PutObject on arn:aws:s3:::boot-bucket/denied" in line
    assert moto.get_object("boot-bucket", "denied") is None


def test_a_missing_key_is_named(pyz, moto, full, tmp_path):
    result = cp(pyz, moto, full, "s3://boot-bucket/no/such/key", str(tmp_path / "k"))
    line = one_line(result)
    assert result.returncode == 1 and "NoSuchKey" in line and "s3://boot-bucket/no/such/key" \
        in line
    assert os.listdir(str(tmp_path)) == []


def test_a_wrong_sha256_leaves_nothing(pyz, moto, full, tmp_path):
    moto.put_object("boot-bucket", "bundle", b"real bundle")
    result = cp(pyz, moto, full, "s3://boot-bucket/bundle", str(tmp_path / "b"), "--sha256",
                "0" * 64)
    assert result.returncode == 1 and "given by --sha256" in one_line(result)
    assert os.listdir(str(tmp_path)) == []


def test_a_wrong_secret_is_refused_by_moto(pyz, moto, full, tmp_path):
    result = cp(pyz, moto, (full[0], "not-the-secret"), "s3://boot-bucket/x",
                str(tmp_path / "x"))
    assert result.returncode == 1 and "SignatureDoesNotMatch" in one_line(result)


def test_bootstrap_from_a_private_bucket_through_a_pointer_with_events_routed_by_role(
        pyz, moto, tmp_path):
    """The issue's done-when, against moto: a private bucket instead of a password, the
    bytes checked, each module a step, and a rule that routes by the Vars' role."""
    import io
    import json
    import tarfile
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, text in [("10-java/start.sh", b"echo java $role\n"),
                           ("b/prod/bootstrapper.sh", b"echo init $environment\n")]:
            info = tarfile.TarInfo("build-9/" + name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text))
    data = archive.getvalue()
    moto.put_object("boot-bucket", "builds/build-9.tgz", data)
    moto.put_object("boot-bucket", "latest", "builds/build-9.tgz {}\n".format(
        hashlib.sha256(data).hexdigest()).encode())
    keys = moto.make_user(moto.unique("booter"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::boot-bucket/*"},
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": "*"}]})
    route = moto.route(moto.unique("memcached"), {"detail": {"Vars": {"role": ["memcached"]}}})
    user_data = tmp_path / "user-data"
    user_data.write_text("environment=prod\nrole=memcached\ncontext=b\n")
    env = base_env(AWS_ENDPOINT_URL_S3=moto.url, AWS_ENDPOINT_URL_EVENTBRIDGE=moto.url,
                   AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID=keys[0],
                   AWS_SECRET_ACCESS_KEY=keys[1])
    try:
        result = subprocess.run([sys.executable, pyz, "bootstrap", "s3://boot-bucket/latest",
                                 "--pointer", "--user-data", str(user_data), "--dir",
                                 str(tmp_path / "current"), "--instance-id", "i-0abc"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout == b"java memcached\ninit prod\n"
        events = [body["detail"] for body in moto.receive(route.queue_url, count=6)]
    finally:
        moto.remove_route(route)
    assert [(d["Status"], d["Step"]) for d in events] == [
        ("start", "bootstrap"), ("start", "10-java"), ("pass", "10-java"),
        ("start", "b/prod/bootstrapper.sh"), ("pass", "b/prod/bootstrapper.sh"),
        ("pass", "bootstrap")]
    assert {json.dumps(d["Vars"], sort_keys=True) for d in events} == {json.dumps(
        {"environment": "prod", "role": "memcached", "context": "b", "machine_id": "i-0abc"},
        sort_keys=True)}
    assert events[0]["Bundle"] == "s3://boot-bucket/builds/build-9.tgz"


def test_a_multipart_object_boto3_uploaded_with_crc64nvme_is_checked_by_it(pyz, moto, full,
                                                                           tmp_path):
    """What current SDKs upload: parts with CRC64NVME, a full-object checksum, and an ETag
    that is no MD5; moto (with awscrt) computes the checksum, bosky checks it."""
    pytest.importorskip("awscrt")
    s3 = moto.client("s3")
    parts = [os.urandom(5 * MIB), os.urandom(1000)]
    upload = s3.create_multipart_upload(Bucket="boot-bucket", Key="crc64", ChecksumAlgorithm=
                                        "CRC64NVME", ChecksumType="FULL_OBJECT")
    done = [s3.upload_part(Bucket="boot-bucket", Key="crc64", UploadId=upload["UploadId"],
                           PartNumber=number, Body=body, ChecksumAlgorithm="CRC64NVME")
            for number, body in enumerate(parts, 1)]
    s3.complete_multipart_upload(Bucket="boot-bucket", Key="crc64", UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": [
                                     {"PartNumber": number, "ETag": part["ETag"],
                                      "ChecksumCRC64NVME": part["ChecksumCRC64NVME"]}
                                     for number, part in enumerate(done, 1)]})
    target = tmp_path / "crc64"
    result = cp(pyz, moto, full, "s3://boot-bucket/crc64", str(target), "--debug")
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == b"".join(parts)
    assert "checked by S3's CRC64NVME" in result.stderr.decode()
