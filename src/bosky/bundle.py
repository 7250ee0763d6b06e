"""Where a bootstrap bundle comes from: fetched, and its SHA-256 checked, before anything
is unpacked.

A source is s3://BUCKET/KEY (signed with the instance's role: a private bucket
instead of a password in user data), an http(s):// URL (its SHA-256 must be
given: nothing else vouches for its bytes), a local archive, or a local
directory (used as it is).  A pointer (the seed's "latest build" file) is a
small text file whose first line names the bundle -- a key in the pointer's
own bucket, a path beside a local pointer, or a full s3:// or http(s):// URL
-- and, optionally after a space, its SHA-256.
"""

import hashlib
import os

from bosky import errors, transfer

POINTER_LIMIT = 64 * 1024
MAX_BUNDLE_BYTES = 4 * 1024 ** 3
URL_KINDS = ("http", "https")


class Source(object):
    """One place: kind is "s3", "http", "https", "file" or "dir"."""

    __slots__ = ("kind", "text", "bucket", "key")

    def __init__(self, kind, text, bucket=None, key=None):
        self.kind, self.text, self.bucket, self.key = kind, text, bucket, key

    def name(self):
        """The last part of its path, for the archive's file name and messages."""
        return os.path.basename((self.key or self.text).rstrip("/").split("?")[0]) or "bundle"


def parse(text):
    """A Source from the command line or a pointer's line; UsageError for a bad one."""
    from bosky import urls
    from bosky.aws import s3
    if text.startswith("s3://"):
        bucket, key = s3.parse_url(text)
        return Source("s3", text, bucket, key)
    scheme = text.partition("://")[0]
    if scheme in URL_KINDS:
        if urls.split_url(text) is None or urls.has_userinfo(text):
            raise errors.UsageError(reason="{!r} is not a URL bosky can fetch (no user:password "
                                           "in it)".format(urls.shown(text)))
        return Source(scheme, text)
    if "://" in text:
        raise errors.UsageError(reason="{!r}: a bundle is s3://, https://, a local archive or "
                                       "a directory".format(text))
    return Source("dir" if os.path.isdir(text) else "file", text)


def parse_pointer(text, pointer):
    """(Source of the bundle, SHA-256 or None) from a pointer file's text."""
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        raise errors.ValidationError(reason="the pointer {} is empty".format(pointer.text))
    words = lines[0].split()
    if len(words) > 2:
        raise errors.ValidationError(reason="the pointer {}'s first line is not `BUNDLE "
                                            "[SHA256]`".format(pointer.text))
    digest = transfer.check_sha256_option(words[1], "the SHA-256 in the pointer {}".format(
        pointer.text)) if len(words) == 2 else None
    ref = words[0]
    if "://" in ref:
        return parse(ref), digest
    if any(part in (".", "..") for part in ref.split("/")):  # a path-style endpoint (or
        # anything that normalizes paths) would read another bucket
        raise errors.ValidationError(reason="the pointer {} names {!r}: a key with . or .. "
                                            "in it; name the bundle's key as it is".format(
                                                pointer.text, ref[:200]))
    if pointer.kind == "s3":  # a key in the pointer's own bucket
        return parse("s3://{}/{}".format(pointer.bucket, ref.lstrip("/"))), digest
    if pointer.kind in URL_KINDS:
        from urllib.parse import urljoin
        return parse(urljoin(pointer.text, ref)), digest
    return parse(os.path.join(os.path.dirname(os.path.abspath(pointer.text)), ref)), digest


def read_pointer(session, pointer, deadline):
    """The pointer file's text (small, UTF-8), from wherever it is."""
    if pointer.kind == "s3":
        from bosky.s3client import Bucket
        with Bucket(session, pointer.bucket, deadline).request(
                "GetObject", "GET", pointer.key, stream=True) as reply:
            data = reply.read_up_to(POINTER_LIMIT + 1)
    elif pointer.kind in URL_KINDS:
        with _open_url(session, pointer.text, deadline, "the pointer") as reply:
            data = reply.read_up_to(POINTER_LIMIT + 1)
    else:
        data = read_file(pointer.text, POINTER_LIMIT)
    if len(data) > POINTER_LIMIT:
        raise errors.ValidationError(reason="the pointer {} is over {} bytes; it names one "
                                            "bundle".format(pointer.text, POINTER_LIMIT))
    return data.decode("utf-8", "replace")


def read_file(path, limit):
    """Up to limit + 1 bytes of a local pointer (a regular file: a FIFO would never end)."""
    from bosky.system import read_regular_file
    try:
        return read_regular_file(path, limit + 1)
    except OSError as exc:
        raise errors.UsageError(reason="cannot read {}: {}".format(path, exc.strerror or exc))


def _open_url(session, url, deadline, what):
    """An open 200 reply from `url` (redirects followed), or TransferError."""
    reply = session.http.open("GET", url, {}, None, deadline.timeout_for(
        deadline.remaining(), "fetching " + url), "GET " + url, follow_redirects=True,
        idle=30.0)
    if reply.status != 200:
        reply.close()
        raise errors.TransferError(what="GET " + url, where=what, reason="answered HTTP "
                                   "{} {}".format(reply.status, reply.reason))
    return reply


def fetch(session, source, expected, path, deadline, progress):
    """Put the bundle's archive at `path`, checked against `expected` (if any); its SHA-256.

    A local archive is hashed where it is and not copied: `path` is then unused.
    """
    if source.kind == "s3":
        from bosky import localfiles
        from bosky.s3client import Bucket
        with localfiles.Sink(path, shown="the bundle directory") as sink:
            _, digest = transfer.download(Bucket(session, source.bucket, deadline), source.key,
                                          sink, expected, progress, session.log,
                                          MAX_BUNDLE_BYTES)
        return digest
    if source.kind in URL_KINDS:
        return _download_url(session, source.text, expected, path, deadline, progress)
    digest = hash_file(source.text)
    _check(digest, expected, source.text)
    return digest


def _download_url(session, url, expected, path, deadline, progress):
    whole = hashlib.sha256()
    with _open_url(session, url, deadline, "the bundle directory") as reply, \
            open(path, "wb") as out:
        declared = reply.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > MAX_BUNDLE_BYTES:
            raise errors.TransferError(what="GET " + url, where="the bundle directory",
                                       reason="its Content-Length is over {} bytes".format(
                                           MAX_BUNDLE_BYTES))
        progress.start(None)
        received = 0
        while True:
            data = reply.read(256 * 1024)
            if not data:
                break
            received += len(data)
            if received > MAX_BUNDLE_BYTES:
                raise errors.TransferError(what="GET " + url, where="the bundle directory",
                                           reason="over {} bytes".format(MAX_BUNDLE_BYTES))
            whole.update(data)
            out.write(data)
            progress.update(received)
    progress.finish()
    _check(whole.hexdigest(), expected, url)
    return whole.hexdigest()


def hash_file(path):
    """A local archive's SHA-256: a regular file of at most MAX_BUNDLE_BYTES (a device or
    FIFO would never end, a sparse 5 GiB file would take minutes to refuse)."""
    import stat
    digest = hashlib.sha256()
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BUNDLE_BYTES:
            raise errors.UsageError(reason="the bundle {} is {}".format(path, "over {} bytes"
                                            .format(MAX_BUNDLE_BYTES) if stat.S_ISREG(
                                                info.st_mode) else "not a regular file (a "
                                            "device or FIFO)"))
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(256 * 1024), b""):
                digest.update(block)
    except OSError as exc:
        raise errors.UsageError(reason="cannot read the bundle {}: {}".format(path,
                                                                             exc.strerror))
    return digest.hexdigest()


def _check(digest, expected, where):
    if expected and digest != expected:
        raise errors.TransferError(what="the bundle " + where, where="the bundle directory",
                                   reason="its SHA-256 is {}, not the {} expected".format(
                                       digest, expected))
