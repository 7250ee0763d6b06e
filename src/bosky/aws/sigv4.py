"""AWS Signature Version 4, one function per step of the specification.

canonical request -> string to sign -> signing key -> signature ->
Authorization header.  Nothing here reads the clock or the environment: the
signing time and the credentials are arguments, so every step can be checked
against AWS's published example values (see tests/test_sigv4.py).

Reference: IAM User Guide, "Create a signed AWS API request"; the rules for
non-S3 services (paths are normalised and encoded twice).
"""

import hashlib
import hmac
import posixpath
import re
from urllib.parse import quote, unquote, urlsplit

from bosky.urls import host_header  # the Host value signed is the one sent

ALGORITHM = "AWS4-HMAC-SHA256"

# Headers botocore leaves out of the signature: proxies and clients may add,
# drop or rewrite them on the way, which would break a signature that covered them.
UNSIGNED_HEADERS = frozenset((
    "connection", "expect", "keep-alive", "proxy-authenticate",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
    "user-agent", "x-amzn-trace-id", "authorization", "content-length",
))

_WHITESPACE_RUN = re.compile(r"\s+")


def amz_date(now):
    """`X-Amz-Date` for a UTC datetime: 20150830T123600Z."""
    return now.strftime("%Y%m%dT%H%M%SZ")


def canonical_uri(path):
    """The URI line: dot segments removed, slashes collapsed, encoded again."""
    if not path:
        return "/"
    normalized = posixpath.normpath(path)
    if normalized.startswith("//"):  # normpath keeps a leading "//" (POSIX rule)
        normalized = "/" + normalized.lstrip("/")
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query(query):
    """The query line: each key and value re-encoded, pairs sorted."""
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        key, _, value = part.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"),
                      quote(unquote(value), safe="-_.~")))
    return "&".join("{}={}".format(k, v) for k, v in sorted(pairs))


def canonical_headers(headers):
    """(canonical header block, signed header list) from (name, value) pairs.

    Repeated names are joined with "," in the order given; values are trimmed
    and inner whitespace runs collapsed to one space.
    """
    merged = {}
    for name, value in headers:
        name = name.lower().strip()
        if name in UNSIGNED_HEADERS:
            continue
        value = _WHITESPACE_RUN.sub(" ", str(value).strip())
        merged.setdefault(name, []).append(value)
    names = sorted(merged)
    block = "".join("{}:{}\n".format(n, ",".join(merged[n])) for n in names)
    return block, ";".join(names)


def payload_hash(body):
    return hashlib.sha256(body).hexdigest()


def canonical_request(method, uri, query, header_block, signed_headers, body_hash):
    return "\n".join((method.upper(), uri, query, header_block, signed_headers, body_hash))


def credential_scope(date_stamp, region, service):
    return "{}/{}/{}/aws4_request".format(date_stamp, region, service)


def string_to_sign(request_date, scope, canonical):
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return "\n".join((ALGORITHM, request_date, scope, digest))


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key, date_stamp, region, service):
    k_date = _hmac(("AWS4" + secret_key).encode("utf-8"), date_stamp)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "aws4_request")


def signature(key, text_to_sign):
    return hmac.new(key, text_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization_header(access_key_id, scope, signed_headers, sig):
    return "{} Credential={}/{}, SignedHeaders={}, Signature={}".format(
        ALGORITHM, access_key_id, scope, signed_headers, sig)


def s3_canonical_uri(path):
    """S3's URI line: the path exactly as sent (already encoded once), no normalising."""
    return path or "/"


def sign_request(method, url, headers, body, credentials, region, service, now,
                 content_sha256=None):
    """Return the headers to send: `headers` plus Host, date, token, Authorization.

    `headers` is a dict of the request's own headers (Content-Type,
    X-Amz-Target, ...); `now` is the UTC datetime to sign with.  Given
    `content_sha256` (the body's hex SHA-256, which S3 wants on every request
    as x-amz-content-sha256), the request is signed the S3 way: that value is
    sent, signed, and is the payload line, and the path is signed as sent.
    """
    request_date = amz_date(now)
    signed = dict(headers)
    signed["Host"] = host_header(url)
    signed["X-Amz-Date"] = request_date
    if credentials.session_token:
        signed["X-Amz-Security-Token"] = credentials.session_token
    parts = urlsplit(url)
    if content_sha256 is None:
        uri, body_hash = canonical_uri(parts.path), payload_hash(body)
    else:
        signed["X-Amz-Content-SHA256"] = content_sha256
        uri, body_hash = s3_canonical_uri(parts.path), content_sha256
    block, signed_names = canonical_headers(signed.items())
    canonical = canonical_request(method, uri, canonical_query(parts.query), block,
                                  signed_names, body_hash)
    scope = credential_scope(request_date[:8], region, service)
    key = signing_key(credentials.secret_access_key, request_date[:8], region, service)
    sig = signature(key, string_to_sign(request_date, scope, canonical))
    signed["Authorization"] = authorization_header(
        credentials.access_key_id, scope, signed_names, sig)
    return signed
