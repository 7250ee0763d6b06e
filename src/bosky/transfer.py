"""S3 transfers: a download streamed, resumed and verified before it is put in place; an
upload streamed in parts, each retried on its own, the upload aborted on failure.

Download: GET with x-amz-checksum-mode: ENABLED into a temporary file beside
the destination; a connection dropped mid-body is resumed with Range and
If-Match (the same object, or nothing); the bytes are checked against
--sha256, S3's own SHA-256 or CRC32 when it sends one for the whole object,
else the ETag when it is a plain MD5; only then is the file renamed into place
(or, for `-`, copied to standard output).  Upload: under 8 MiB one PutObject;
from 8 MiB a multipart upload, 8 MiB parts (bigger, in whole MiB, to stay
within 10,000), each signed with its SHA-256 and sent with
x-amz-checksum-sha256.  Memory is bounded by the part, not the object.
"""

import base64
import hashlib
import os
import zlib

from bosky import errors
from bosky.aws import s3

CHUNK = 256 * 1024
MULTIPART_THRESHOLD = 8 * 1024 * 1024
MIN_ATTEMPT_SECONDS = 0.5
ABORT_RESERVE_SECONDS = 5.0  # kept back from the deadline to abort a failed multipart upload


def _md5():
    """MD5 for ETag checks, or None where OpenSSL forbids it (a FIPS-mode RHEL)."""
    try:
        try:
            return hashlib.md5(usedforsecurity=False)  # 3.9+: allowed under FIPS
        except TypeError:
            return hashlib.md5()
    except ValueError:
        return None


class Digests(object):
    """What the bytes are checked against: SHA-256 always, MD5, SHA-1, CRC32 when useful
    (CRC32C and CRC64NVME have no fast implementation in the standard library)."""

    def __init__(self, md5=False, sha1=False, crc32=False):
        self.sha256 = hashlib.sha256()
        self.md5 = _md5() if md5 else None
        self.sha1 = hashlib.sha1() if sha1 else None
        self.crc32 = 0 if crc32 else None

    def update(self, data):
        self.sha256.update(data)
        for digest in (self.md5, self.sha1):
            if digest is not None:
                digest.update(data)
        if self.crc32 is not None:
            self.crc32 = zlib.crc32(data, self.crc32)


def check_sha256_option(value, where="--sha256"):
    """The --sha256 value (or one read from `where`), 64 hex digits, lower case."""
    if value is None:
        return None
    value = value.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise errors.UsageError(reason="{} {!r}: expected 64 hex digits (sha256sum "
                                       "prints them)".format(where, value[:80]))
    return value


# -- downloads ------------------------------------------------------------------------

def download(bucket, key, sink, expected_sha256, progress, log):
    """Fetch s3://bucket/key into `sink` (a localfiles.Sink), verified; returns (bytes
    fetched, their SHA-256 in hex)."""
    what = "S3 GetObject s3://{}/{}".format(bucket.name, key)
    state = {"received": 0, "etag": None, "total": None, "headers": None, "digests": None}
    attempts = 0
    while state["total"] is None or state["received"] < state["total"]:
        attempts += 1
        try:
            _fetch(bucket, key, sink, state, progress)
            if state["received"] < state["total"]:  # ended early, yet without an error
                raise errors.TransportError(what, "read", "the reply ended at byte {} of {}"
                                            .format(state["received"], state["total"]),
                                            "s3://{}/{}".format(bucket.name, key))
        except errors.TransportError as exc:
            if not exc.fields["retryable"] or not _room_for_another(bucket.deadline):
                raise
            log("download of s3://{}/{} broke after {} bytes ({}); resuming".format(
                bucket.name, key, state["received"], exc))
            _pause(bucket, attempts)
    checked = verify(what, state, expected_sha256, sink.where)
    if checked:
        log("s3://{}/{}: {} bytes, checked by {}".format(bucket.name, key, state["received"],
                                                        ", ".join(checked)))
    else:  # said, not hidden: exit 0 would otherwise read as "verified"
        bucket.session.world.warn(unverified_warning(bucket.name, key, state["headers"]))
    progress.finish()
    return state["received"], state["digests"].sha256.hexdigest()


def _fetch(bucket, key, sink, state, progress):
    """One GET: the whole object, or the rest of it after a break (Range, If-Match)."""
    headers = {"x-amz-checksum-mode": "ENABLED"}
    if not state["received"]:
        state["headers"] = None  # nothing kept from a broken first reply: start again
    else:
        headers["Range"] = "bytes={}-".format(state["received"])
        headers["If-Match"] = state["etag"]
    reply = bucket.request("GetObject", "GET", key, headers=headers, ok=(200, 206),
                           stream=True)
    with reply:
        if state["headers"] is None:
            if reply.status != 200:  # a part of the object, to a GET for all of it
                raise _unexpected("HTTP {} to a GET without Range".format(reply.status))
            _first_reply(state, reply.headers, progress)
        else:
            _check_resumed(state, reply)
        while True:
            data = reply.read(CHUNK)
            if not data:
                break
            if state["received"] + len(data) > state["total"]:
                raise _unexpected("more bytes than its Content-Length")
            sink.write(data)
            state["digests"].update(data)
            state["received"] += len(data)
            progress.update(state["received"])


def _unexpected(reason):
    return errors.UnexpectedReplyError(service="S3", reason=reason,
                                       outcome="nothing was copied")


def _check_resumed(state, reply):
    """A resumed GET must be the rest of the same object: If-Match says so to S3, and
    the reply must say so too (a server that ignores If-Match cannot splice two)."""
    received, total = state["received"], state["total"]
    wanted = "bytes {}-{}/{}".format(received, total - 1, total)
    if reply.status != 206 or reply.headers.get("content-range", "").strip() != wanted:
        raise _unexpected("the resumed GET did not answer {} (HTTP {}, Content-Range "
                          "{!r})".format(wanted, reply.status,
                                         reply.headers.get("content-range", "")[:80]))
    if reply.headers.get("etag", state["etag"]) != state["etag"] or \
            reply.headers.get("content-length", str(total - received)) != str(total - received):
        raise _unexpected("the resumed GET is of another object (its ETag or length changed)")


def _first_reply(state, headers, progress):
    try:
        state["total"] = int(headers.get("content-length", ""))
        if state["total"] < 0:
            raise ValueError(state["total"])
    except ValueError:
        raise _unexpected("no usable Content-Length")
    state["etag"], state["headers"] = headers.get("etag", ""), headers
    state["digests"] = Digests(md5=_plain_md5_etag(headers) is not None,
                               sha1="x-amz-checksum-sha1" in headers,
                               crc32="x-amz-checksum-crc32" in headers)
    progress.start(state["total"])


def _plain_md5_etag(headers):
    """The ETag as an MD5 hex digest, when it is one: a single-part object without SSE-KMS."""
    etag = headers.get("etag", "").strip().strip('"').lower()
    kms = headers.get("x-amz-server-side-encryption", "").startswith("aws:kms") or \
        "x-amz-server-side-encryption-customer-algorithm" in headers
    if len(etag) == 32 and all(c in "0123456789abcdef" for c in etag) and not kms:
        return etag
    return None


def verify(what, state, expected_sha256, where):
    """Refuse bytes that are not the object's: TransferError, and nothing is put in place.
    Returns what checked them (for --debug): a bundle may have nothing S3 sent that bosky
    can check, such as a multipart object whose only checksum is CRC32C or CRC64NVME."""
    headers, digests = state["headers"], state["digests"]

    def refuse(reason):
        raise errors.TransferError(what=what, where=where, reason=reason)

    sha256, checked = digests.sha256.digest(), []
    if expected_sha256:
        if sha256.hex() != expected_sha256:
            refuse("its SHA-256 is {}, not the {} given by --sha256".format(
                sha256.hex(), expected_sha256))
        checked.append("--sha256")
    for name, ours in (("sha256", sha256), ("sha1", digests.sha1 and digests.sha1.digest()),
                       ("crc32", None if digests.crc32 is None else
                        digests.crc32.to_bytes(4, "big"))):
        theirs = headers.get("x-amz-checksum-" + name, "").strip()
        if theirs and "-" not in theirs and ours is not None:  # "-N": of the parts, not ours
            if theirs != s3.checksum_header(ours):
                refuse("its {} does not match the x-amz-checksum-{} S3 sent".format(
                    name.upper(), name))
            checked.append("S3's " + name.upper())
    md5 = _plain_md5_etag(headers)
    if md5 and digests.md5 is not None:
        if digests.md5.hexdigest() != md5:
            refuse("its MD5 does not match the object's ETag")
        checked.append("the ETag (MD5)")
    return checked


def unverified_warning(bucket, key, headers):
    kinds = sorted(name[len("x-amz-checksum-"):].upper() for name in headers
                   if name.startswith("x-amz-checksum-") and name != "x-amz-checksum-type")
    return ("s3://{}/{}: only its length was checked: S3 sent {} and no MD5 ETag; pass "
            "--sha256 to check the bytes".format(bucket, key, "only a {} checksum (which "
                                                 "bosky cannot compute)".format(
                                                     " and ".join(kinds)) if kinds else
                                                 "no checksum of the whole object"))


def _room_for_another(deadline):
    return deadline.remaining() > MIN_ATTEMPT_SECONDS


def _pause(bucket, attempts):
    from bosky import retry
    session = bucket.session
    retry.wait_before_retry(retry.backoff_delay(attempts, retry.TRANSIENT, session.world.random),
                            bucket.deadline, session.clock.sleep, session.log, attempts)


# -- uploads ----------------------------------------------------------------------------

def read_part(stream, size):
    """Up to `size` bytes, read into one buffer (no pieces joined: a part is 8 MiB or more);
    fewer only at the end of the stream (pipes come in pieces)."""
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = stream.readinto(view[got:])
        if not count:
            break
        got += count
    view.release()
    del buffer[got:]
    return buffer


def upload(bucket, key, stream, size, headers, expected_sha256, progress):
    """Send `stream` (`size` bytes, or None when unknown) to s3://bucket/key; its SHA-256."""
    progress.start(size)
    first = read_part(stream, s3.part_size(size, MULTIPART_THRESHOLD) if size and size >=
                      MULTIPART_THRESHOLD else MULTIPART_THRESHOLD)
    if len(first) < MULTIPART_THRESHOLD:
        digest = hashlib.sha256(first).digest()
        _check_upload(bucket, key, digest, expected_sha256)
        put_headers = dict(headers, **{"x-amz-checksum-sha256": s3.checksum_header(digest)})
        bucket.request("PutObject", "PUT", key, headers=put_headers, body=first,
                       content_sha256=digest.hex())
        progress.update(len(first))
        progress.finish()
        return digest.hex()
    holder = [first]  # the parts take it from here: no second reference keeps it alive
    del first
    return _multipart(bucket, key, stream, size, headers, holder, expected_sha256, progress)


def _check_upload(bucket, key, digest, expected):
    if expected and digest.hex() != expected:
        raise errors.TransferError(what="S3 PutObject s3://{}/{}".format(bucket.name, key),
                            where="s3://{}/{}".format(bucket.name, key),
                            reason="the source's SHA-256 is {}, not the {} given by "
                                   "--sha256".format(digest.hex(), expected))


def _multipart(bucket, key, stream, size, headers, holder, expected_sha256, progress):
    session, whole = bucket.session, hashlib.sha256()
    create = dict(headers, **{"x-amz-checksum-algorithm": "SHA256"})
    reply = bucket.request("CreateMultipartUpload", "POST", key, params=[("uploads", None)],
                           headers=create)
    upload_id = s3.parse_upload_id(reply.body)
    # The parts may use the deadline less a reserve, so that an abort still fits in it
    # (a quarter of what is left, at most ABORT_RESERVE_SECONDS: a short --timeout is
    # still a wall clock, and its parts still get most of it).
    left = bucket.deadline.remaining()
    parts_deadline = bucket.deadline.within(left - min(ABORT_RESERVE_SECONDS, left / 4))
    try:
        parts = _send_parts(bucket, key, upload_id, stream, size, holder, whole,
                            parts_deadline, progress)
        _check_upload(bucket, key, whole.digest(), expected_sha256)
        _complete(bucket, key, upload_id, parts, parts_deadline)
    except BaseException:
        session.log("aborting the multipart upload {} of s3://{}/{}".format(
            upload_id, bucket.name, key))
        try:  # in what the parts left of the deadline: the reserve, at least
            bucket.request("AbortMultipartUpload", "DELETE", key,
                           params=[("uploadId", upload_id)], ok=(204, 200),
                           deadline=bucket.deadline)
        except errors.BoskyError as exc:  # say so: the parts cost money until a lifecycle rule
            session.world.warn("could not abort multipart upload {} of s3://{}/{}: {}".format(
                upload_id, bucket.name, key, exc.message))
        raise
    progress.finish()
    return whole.hexdigest()


def _send_parts(bucket, key, upload_id, stream, size, holder, whole, deadline, progress):
    """Send the parts, the first from `holder`, one buffer alive at a time."""
    part_bytes = s3.part_size(size, MULTIPART_THRESHOLD)
    data = holder.pop()
    if len(data) < part_bytes:
        data += read_part(stream, part_bytes - len(data))
    parts, sent = [], 0
    while data:
        number = len(parts) + 1
        if number > s3.MAX_PARTS:
            raise errors.ValidationError(reason="the upload needs more than {} parts of {} "
                                                "MiB; upload a file rather than standard "
                                                "input".format(s3.MAX_PARTS,
                                                               part_bytes >> 20))
        digest = hashlib.sha256(data).digest()
        whole.update(data)
        checksum = s3.checksum_header(digest)
        # A Content-Type of its own: urllib would add application/x-www-form-urlencoded.
        reply = bucket.request("UploadPart", "PUT", key, params=[
            ("partNumber", number), ("uploadId", upload_id)], headers={
                "x-amz-checksum-sha256": checksum, "Content-Type": "application/octet-stream"},
            body=data, content_sha256=digest.hex(), deadline=deadline)
        parts.append((number, reply.headers.get("etag", ""), checksum))
        sent += len(data)
        progress.update(sent)
        data = None  # let this part go before the next is read
        data = read_part(stream, part_bytes)
    return parts


def _complete(bucket, key, upload_id, parts, deadline):
    """CompleteMultipartUpload; its 200 can carry an <Error>: that is a failure (retried
    when S3 says InternalError, as the SDKs do)."""
    body = s3.complete_body(parts)
    for attempt in (1, 2, 3):
        reply = bucket.request("CompleteMultipartUpload", "POST", key,
                               params=[("uploadId", upload_id)], body=body,
                               headers={"Content-Type": "application/xml"},
                               content_sha256=hashlib.sha256(body).hexdigest(),
                               deadline=deadline)
        problem = s3.complete_error(reply.body)
        if problem is None:
            return
        if problem[0] not in ("InternalError", "SlowDown") or attempt == 3 or \
                not _room_for_another(deadline):
            raise errors.S3Error("S3 CompleteMultipartUpload s3://{}/{}".format(bucket.name, key),
                          problem[0], problem[1], reply.headers.get("x-amz-request-id", ""),
                          status=200)
        bucket.session.log("CompleteMultipartUpload answered 200 with {}; again".format(
            problem[0]))
