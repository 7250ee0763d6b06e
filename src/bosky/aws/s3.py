"""Amazon S3 on the wire: s3:// URLs, addressing as the SDKs do it, requests and replies.

Facts (botocore 1.43 auth.py, utils.py, the S3 API reference, AWS-NOTES 9):
- Virtual-hosted addressing (BUCKET.s3.REGION.SUFFIX) for a bucket that is one
  DNS label (3-63 lower-case letters, digits and hyphens, not an IP address);
  path-style (s3.REGION.SUFFIX/BUCKET) for any dotted bucket, over HTTPS, and
  for custom endpoints (VPC interface endpoints, stand-ins) unless the profile
  says `s3 = addressing_style = virtual`.  us-east-1 uses its regional host, as
  AWS CLI v2 does.  FIPS is s3-fips, dual-stack s3.dualstack, and S3 keeps
  amazonaws.com for dual-stack (no api.aws).
- Keys are encoded once, `/` and `~` left as they are (3.6's quote would encode
  `~`), and that path is what SigV4 signs: no normalising, no second encoding.
- Errors are <Error><Code/><Message/><RequestId/><Region/>...</Error>; a HEAD
  error has no body.  A bucket in another region answers 301 (or 400, or 307)
  with x-amz-bucket-region: the request is signed again for that region.
Pure functions: no I/O here.
"""

import base64
import ipaddress
import re
import xml.etree.ElementTree as ElementTree
from urllib.parse import quote

from bosky import errors
from bosky.aws import endpoints, query

SIGNING_NAME = "s3"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10000
DNS_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
ANY_BUCKET = re.compile(r"[A-Za-z0-9._-]{1,255}")  # what S3 has ever allowed (legacy names)
REDIRECT_STATUSES = (301, 307, 400)

# What the IAM action is, and what else to check, when S3 says AccessDenied.
ACCESS_HINTS = {
    "GET": ("s3:GetObject", "a key that does not exist reads as AccessDenied too unless the "
                            "role has s3:ListBucket on the bucket; an SSE-KMS object also "
                            "needs kms:Decrypt on its key"),
    "PUT": ("s3:PutObject", "SSE-KMS uploads also need kms:GenerateDataKey on the key"),
    "POST": ("s3:PutObject", "SSE-KMS uploads also need kms:GenerateDataKey on the key"),
    "DELETE": ("s3:AbortMultipartUpload", ""),
}


def check_bucket_name(name, what="the bucket", fix=""):
    """`name` if S3 could ever have allowed it as a bucket's name; UsageError if not (an
    empty or wildcard --bucket would make a policy that grants every bucket)."""
    if not ANY_BUCKET.fullmatch(name):
        raise errors.UsageError(reason="{} {!r} is not a bucket name{}".format(
            what, name[:100], fix))
    return name


def parse_url(text):
    """(bucket, key) from s3://BUCKET/KEY; UsageError naming what is wrong."""
    if not text.startswith("s3://"):
        raise errors.UsageError(reason="{!r} is not an s3:// URL".format(text))
    bucket, slash, key = text[len("s3://"):].partition("/")
    check_bucket_name(bucket, "malformed s3:// URL {!r}: the bucket".format(text[:300]),
                      "; expected s3://BUCKET/KEY")
    if not slash or not key:
        raise errors.UsageError(reason="malformed s3:// URL {!r}: no key; expected "
                                       "s3://BUCKET/KEY".format(text))
    if "\x00" in key or len(key.encode("utf-8", "surrogateescape")) > 1024:
        raise errors.UsageError(reason="malformed s3:// URL {!r}: a key is at most 1024 bytes "
                                       "of UTF-8, without NUL".format(text[:80]))
    return bucket, key


def is_dns_bucket(bucket):
    """Whether the bucket can be a host name label: virtual-hosted addressing works."""
    if not DNS_BUCKET.fullmatch(bucket):
        return False
    try:
        ipaddress.ip_address(bucket)
        return False
    except ValueError:
        return True


def quote_key(key):
    """The key as it goes in the path: UTF-8, encoded once, `/` and `~` kept."""
    return quote(key.encode("utf-8", "surrogateescape"), safe="/~")


def host_for(region, fips=False, dualstack=False):
    """s3[-fips][.dualstack].REGION.SUFFIX (S3 keeps amazonaws.com for dual-stack)."""
    _, _, suffix = endpoints.partition_for_region(region)
    return "s3{}{}.{}.{}".format("-fips" if fips else "", ".dualstack" if dualstack else "",
                                 region, suffix)


def bucket_url(bucket, region, override=None, fips=False, dualstack=False, style=None):
    """(URL up to the bucket, "virtual" or "path"): where this bucket's keys live.

    `override` is a custom endpoint URL (path-style unless style == "virtual").
    """
    if override:
        if fips or dualstack:
            raise errors.ValidationError(reason="a custom S3 endpoint cannot be combined with "
                                                "FIPS or dual-stack endpoints; unset one")
        base = override.rstrip("/")
        if style == "virtual" and is_dns_bucket(bucket):
            scheme, _, rest = base.partition("://")
            return "{}://{}.{}".format(scheme, bucket, rest), "virtual"
        return base + "/" + quote(bucket, safe=""), "path"
    host = host_for(region, fips, dualstack)
    if style != "path" and is_dns_bucket(bucket):
        return "https://{}.{}".format(bucket, host), "virtual"
    return "https://{}/{}".format(host, bucket), "path"


def object_url(base, key, params=()):
    """The object's URL: the bucket URL, the encoded key, the query (values encoded)."""
    url = base + "/" + quote_key(key)
    if params:
        url += "?" + "&".join(name if value is None else "{}={}".format(
            name, quote(str(value), safe="-_.~")) for name, value in params)
    return url


def checksum_header(digest):
    """x-amz-checksum-sha256's value for a SHA-256 digest (base64, as S3 wants it)."""
    return base64.b64encode(digest).decode("ascii")


def _text(root, name):
    node = query.find(root, name) if root is not None else None
    return (node.text or "").strip() if node is not None else ""


def parse_xml(body):
    """The root element of an S3 XML reply, or None.  S3 never sends a DTD, so a body
    holding one is not parsed at all: no entity is ever expanded."""
    if not body.strip() or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return None
    try:
        return ElementTree.fromstring(body)
    except (ElementTree.ParseError, RecursionError, ValueError):
        return None


def parse_error(body, status, reason, headers):
    """(code, message, request id, region or "") of an S3 error reply.

    A HEAD error (or a proxy's) has no body: the status is the code then.
    """
    root = parse_xml(body)
    fallback = {301: "PermanentRedirect", 307: "TemporaryRedirect", 403: "AccessDenied",
                404: "NotFound"}.get(status, str(status))
    code = _text(root, "Code") or fallback
    message = _text(root, "Message") or "HTTP {} {}".format(status, reason).strip()
    request_id = headers.get("x-amz-request-id") or _text(root, "RequestId")
    region = headers.get("x-amz-bucket-region") or _text(root, "Region")
    return code[:100], " ".join(message.split())[:300], request_id[:100], region[:100]


def parse_upload_id(body):
    """The UploadId of an InitiateMultipartUploadResult."""
    upload_id = _text(parse_xml(body), "UploadId")
    if not upload_id:
        raise errors.UnexpectedReplyError(service="S3", reason="no UploadId in the reply to "
                                                               "CreateMultipartUpload")
    return upload_id


def complete_error(body):
    """(code, message) when a 200 CompleteMultipartUpload reply is an <Error>, else None."""
    root = parse_xml(body)
    if root is None:
        return "UnreadableReply", "the reply to CompleteMultipartUpload is not XML"
    if query.local_name(root.tag) == "Error":  # as botocore tells: the root element says
        return _text(root, "Code") or "InternalError", _text(root, "Message")
    return None


def complete_body(parts):
    """The CompleteMultipartUpload document for [(number, ETag, base64 SHA-256)]."""
    items = "".join("<Part><ETag>{}</ETag><PartNumber>{}</PartNumber><ChecksumSHA256>{}"
                    "</ChecksumSHA256></Part>".format(_xml(etag), number, checksum)
                    for number, etag, checksum in parts)
    return '<CompleteMultipartUpload xmlns="{}">{}</CompleteMultipartUpload>'.format(
        NAMESPACE, items).encode("utf-8")


def _xml(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def part_size(total, floor):
    """Bytes per part: `floor` (8 MiB), raised to whole MiB to stay within 10,000 parts."""
    size = max(floor, MIN_PART_BYTES)
    if total is not None and total > size * MAX_PARTS:
        mib = 1024 * 1024
        size = -(-(-(-total // MAX_PARTS)) // mib) * mib  # ceil(total / parts), in MiB
    return size


def access_hint(method, bucket, key, partition="aws"):
    action, more = ACCESS_HINTS.get(method, ("s3:GetObject", ""))
    hint = "the role needs {} on arn:{}:s3:::{}/{}".format(action, partition, bucket, key)
    return hint + ("; " + more if more else "") + " (bosky --permissions --bucket {} prints " \
        "the policy)".format(bucket)
