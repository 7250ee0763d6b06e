"""S3 downloads: streamed, resumed and verified before they are put in place (uploads
are in uploads.py).

GET with x-amz-checksum-mode: ENABLED into a temporary file beside the
destination; a connection dropped mid-body is resumed with Range and If-Match,
and the reply must be the rest of the same object; the bytes are checked
against --sha256, S3's own SHA-256, SHA-1, CRC32, CRC32C or CRC64NVME when it
sends one for the whole object, and the ETag when it is a plain MD5; only then is the file
renamed into place (or copied to standard output, a FIFO, a device).
"""

import hashlib
import zlib

from bosky import crc, errors
from bosky.aws import s3

CHUNK = 256 * 1024
MIN_ATTEMPT_SECONDS = 0.5


def _md5():
    """MD5 for ETag checks, or None where OpenSSL forbids it (a FIPS-mode RHEL)."""
    try:
        try:
            return hashlib.md5(usedforsecurity=False)  # 3.9+: allowed under FIPS
        except TypeError:
            return hashlib.md5()
    except ValueError:
        return None


class _Crc32(object):
    def __init__(self):
        self._value = 0

    def update(self, data):
        self._value = zlib.crc32(data, self._value)

    def digest(self):
        return self._value.to_bytes(4, "big")


# S3's checksums as x-amz-checksum-NAME: the fast ones are computed whenever S3 sends
# one; CRC64NVME and CRC32C (pure Python, 15-35 MB/s: crc.py) only when nothing else
# would check the bytes (no --sha256, no plain-MD5 ETag, no fast checksum).
CHECKSUMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "crc32": _Crc32}
SLOW_CHECKSUMS = {"crc64nvme": crc.crc64nvme, "crc32c": crc.crc32c}


def sent_checksum(headers, name):
    """S3's checksum of the whole object, or "" (a composite one, "...-N", is of the
    parts' checksums: nothing bosky computes can match it)."""
    value = headers.get("x-amz-checksum-" + name, "").strip()
    return value if value and "-" not in value else ""


class Digests(object):
    """What the bytes are checked against: SHA-256 always, the rest as chosen."""

    def __init__(self, headers, expected_sha256):
        self.sha256, md5 = hashlib.sha256(), _plain_md5_etag(headers)
        self.md5 = _md5() if md5 else None
        self.checks = {name: make() for name, make in CHECKSUMS.items()
                       if name != "sha256" and sent_checksum(headers, name)}
        if not (expected_sha256 or self.md5 or self.checks or sent_checksum(headers,
                                                                             "sha256")):
            slow = [name for name in SLOW_CHECKSUMS if sent_checksum(headers, name)]
            if slow:
                self.checks[slow[0]] = SLOW_CHECKSUMS[slow[0]]()

    def update(self, data):
        self.sha256.update(data)
        if self.md5 is not None:
            self.md5.update(data)
        for check in self.checks.values():
            check.update(data)


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

def download(bucket, key, sink, expected_sha256, progress, log, max_bytes=None):
    """Fetch s3://bucket/key into `sink` (a localfiles.Sink), verified; returns (bytes
    fetched, their SHA-256 in hex).  An object over `max_bytes` is refused unread."""
    what = "S3 GetObject s3://{}/{}".format(bucket.name, key)
    state = {"received": 0, "etag": None, "total": None, "headers": None, "digests": None,
             "expected": expected_sha256, "max": max_bytes, "what": what,
             "where": sink.shown}
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
            if not exc.fields["retryable"] or not room_for_another(bucket.deadline):
                raise
            log("download of s3://{}/{} broke after {} bytes ({}); resuming".format(
                bucket.name, key, state["received"], exc))
            _pause(bucket, attempts)
    checked = verify(what, state, expected_sha256, sink.shown)
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
    if state["max"] is not None and state["total"] > state["max"]:
        raise errors.TransferError(what=state["what"], where=state["where"], reason=(
            "it is {} bytes, over the {} a bundle may be".format(state["total"],
                                                                 state["max"])))
    state["etag"], state["headers"] = headers.get("etag", ""), headers
    state["digests"] = Digests(headers, state["expected"])
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
    Returns what checked them (for --debug); nothing, for an object S3 sent no usable
    checksum for (a multipart upload without one, or with a composite one)."""
    headers, digests = state["headers"], state["digests"]

    def refuse(reason):
        raise errors.TransferError(what=what, where=where, reason=reason)

    sha256, checked = digests.sha256.digest(), []
    if expected_sha256:
        if sha256.hex() != expected_sha256:
            refuse("its SHA-256 is {}, not the {} given by --sha256".format(
                sha256.hex(), expected_sha256))
        checked.append("--sha256")
    computed = dict(((name, check.digest()) for name, check in digests.checks.items()),
                    sha256=sha256)
    for name, ours in sorted(computed.items()):
        theirs = sent_checksum(headers, name)
        if theirs:
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
    composite = [name[len("x-amz-checksum-"):].upper() for name in sorted(headers)
                 if name.startswith("x-amz-checksum-") and name != "x-amz-checksum-type"]
    return ("s3://{}/{}: only its length was checked: S3 sent {} and no MD5 ETag; pass "
            "--sha256 to check the bytes".format(bucket, key, "only a composite {} (of the "
                                                 "parts, not the object)".format(
                                                     " and ".join(composite)) if composite
                                                 else "no checksum of the whole object"))


def room_for_another(deadline):
    return deadline.remaining() > MIN_ATTEMPT_SECONDS


def _pause(bucket, attempts):
    from bosky import retry
    session = bucket.session
    retry.wait_before_retry(retry.backoff_delay(attempts, retry.TRANSIENT, session.world.random),
                            bucket.deadline, session.clock.sleep, session.log, attempts)
