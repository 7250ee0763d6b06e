"""S3 as it answers GET/PUT/multipart, path-style, with its own SigV4 verifier and faults.

The verifier is written from the S3 SigV4 rules (the path signed exactly as
received, x-amz-content-sha256 as the payload line and checked against the
body), sharing no code with bosky.  Faults on demand: a bucket in another
region (301 with x-amz-bucket-region), bodies cut after N bytes (the client
must resume with Range and If-Match), SlowDown, a skewed clock, a part that
always fails, a CompleteMultipartUpload that answers 200 with an <Error>,
actions denied.
"""

import base64
import calendar
import hashlib
import threading
import time
import uuid
from email.utils import formatdate
from urllib.parse import parse_qsl, unquote, urlsplit

from .base import TEST_KEY_ID, TEST_SECRET, Authorization, StandIn

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def verify_s3(request, secrets, host, now):
    """(code, message) of what is wrong with the request's S3 signature, else None."""
    try:
        auth = Authorization(request.header("authorization") or "")
    except (ValueError, KeyError):
        return "AuthorizationHeaderMalformed", "The authorization header is malformed"
    if auth.key_id not in secrets:
        return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist"
    signed = auth.signed
    payload = request.header("x-amz-content-sha256")
    if not payload or "x-amz-content-sha256" not in signed or "host" not in signed:
        return "InvalidRequest", "x-amz-content-sha256 missing or unsigned"
    if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(request.body).hexdigest():
        return "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header " \
                                            "does not match what was computed."
    if request.header("host") != host:
        return "SignatureDoesNotMatch", "host is not " + host
    path, _, query = request.path.partition("?")
    pairs = sorted(part.partition("=")[::2] for part in query.split("&") if part)
    canonical = "\n".join([request.method, path, "&".join("{}={}".format(k, v)
                                                         for k, v in pairs),
                           "".join("{}:{}\n".format(n, " ".join(
                               (request.header(n) or "").split())) for n in signed),
                           ";".join(signed), payload])
    stamp = request.header("x-amz-date") or ""
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, "/".join([auth.date, auth.region,
                                                              auth.service, "aws4_request"]),
                         hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    if auth.algorithm != "AWS4-HMAC-SHA256" or not auth.signs(secrets[auth.key_id], to_sign):
        return "SignatureDoesNotMatch", "The request signature we calculated does not match " \
                                        "the signature you provided."
    if abs(calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")) - now) > 900:
        return "RequestTimeTooSkewed", "The difference between the request time and the " \
                                       "current time is too large."
    return None


class S3StandIn(StandIn):
    """Path-style S3 on 127.0.0.1.  `objects[(bucket, key)] = bytes`; `regions[bucket]` is a
    bucket's region (default `region`); faults are attributes documented where set."""

    def __init__(self, region="us-east-1", secrets=None, tls=None):
        super().__init__(tls)
        self.region, self.secrets = region, secrets or {TEST_KEY_ID: TEST_SECRET}
        self.objects, self.regions, self.checksums = {}, {}, {}
        self.uploads, self.aborted, self.completed = {}, [], []
        self.cut_after = None      # (bytes, times): cut a GET body after that many bytes
        self.slowdown = 0          # answer this many requests 503 SlowDown first
        self.clock_offset = 0.0    # seconds the service's clock is ahead
        self.failing_part = None   # this part number always answers 500
        self.complete_error = 0    # answer this many Completes 200 with an <Error>
        self.denied = set()        # "GET", "PUT", "POST" ... answered 403 AccessDenied
        self.send_checksum = True  # GET with checksum mode gets x-amz-checksum-sha256
        self.corrupt = False       # serve flipped bytes (the checksums then do not match)
        # lie(request, (status, headers, body)) -> (status, headers, body): a lying S3,
        # a proxy that ignores If-Match, a reply no S3 would send.
        self.lie = None
        self.meta = None           # the last PutObject's Content-Type and SSE
        self._lock = threading.Lock()

    def now(self):
        return time.time() + self.clock_offset

    def _reply(self, status, body=b"", headers=None):
        base = {"x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                "Date": formatdate(self.now(), usegmt=True)}
        base.update(headers or {})
        return status, base, body

    def _error(self, status, code, message, **headers):
        body = ("<Error><Code>{}</Code><Message>{}</Message><RequestId>R1</RequestId>"
                "</Error>").format(code, message).encode()
        return self._reply(status, body, dict({"Content-Type": "application/xml"}, **headers))

    def respond(self, request):
        reply = self._respond(request)
        return self.lie(request, reply) if self.lie else reply

    def _respond(self, request):
        parts = urlsplit(request.path)
        bucket, _, key = parts.path.lstrip("/").partition("/")
        key, params = unquote(key), dict(parse_qsl(parts.query, keep_blank_values=True))
        problem = verify_s3(request, self.secrets, self.host, self.now())
        if problem:
            return self._error(403, *problem)
        signed_region = request.header("authorization").split("Credential=")[1].split("/")[2]
        home = self.regions.get(bucket, self.region)
        if signed_region != home:
            return self._error(301, "PermanentRedirect", "The bucket you are attempting to "
                               "access must be addressed using the specified endpoint.",
                               **{"x-amz-bucket-region": home})
        with self._lock:
            if self.slowdown:
                self.slowdown -= 1
                return self._error(503, "SlowDown", "Please reduce your request rate.")
        if request.method in self.denied:
            return self._error(403, "AccessDenied", "Access Denied")
        handler = {"GET": self._get, "PUT": self._put, "POST": self._post,
                   "DELETE": self._delete}.get(request.method)
        return handler(request, bucket, key, params)

    def _get(self, request, bucket, key, params):
        if (bucket, key) not in self.objects:
            return self._error(404, "NoSuchKey", "The specified key does not exist.")
        data, etag = self.objects[(bucket, key)], self._etag(bucket, key)
        if request.header("if-match") and request.header("if-match") != etag:
            return self._error(412, "PreconditionFailed", "At least one of the pre-conditions "
                               "you specified did not hold")
        start, status, headers = 0, 200, {"ETag": etag}
        ranged = request.header("range")
        if ranged:
            start = int(ranged.split("=")[1].split("-")[0])
            status = 206
            headers["Content-Range"] = "bytes {}-{}/{}".format(start, len(data) - 1, len(data))
        checksum = self.checksums.get((bucket, key))
        if request.header("x-amz-checksum-mode") == "ENABLED" and checksum and \
                self.send_checksum and not ranged:
            headers["x-amz-checksum-sha256"] = checksum
        body = data[start:]
        if self.corrupt:
            body = bytes(b ^ 1 for b in body[:1]) + body[1:]
        with self._lock:
            cut = self.cut_after
            if cut and cut[1] > 0 and len(body) > cut[0]:
                self.cut_after = (cut[0], cut[1] - 1)
                return ("cut-body", status), dict(headers, **{"Content-Length": str(
                    len(body))}), body[:cut[0]]
        return self._reply(status, body, headers)

    def _etag(self, bucket, key):
        return '"{}"'.format(hashlib.md5(self.objects[(bucket, key)]).hexdigest())

    def _put(self, request, bucket, key, params):
        checksum = request.header("x-amz-checksum-sha256")
        if checksum and checksum != base64.b64encode(
                hashlib.sha256(request.body).digest()).decode():
            return self._error(400, "BadDigest", "The SHA256 you specified did not match the "
                               "calculated checksum.")
        if "uploadId" in params:
            return self._put_part(request, params)
        self.objects[(bucket, key)] = request.body
        self.checksums[(bucket, key)] = checksum
        self.meta = {"content-type": request.header("content-type"),
                     "sse": request.header("x-amz-server-side-encryption")}
        return self._reply(200, b"", {"ETag": self._etag(bucket, key)})

    def _put_part(self, request, params):
        upload = self.uploads.get(params["uploadId"])
        if upload is None:
            return self._error(404, "NoSuchUpload", "The specified upload does not exist.")
        number = int(params["partNumber"])
        if number == self.failing_part:
            return self._error(500, "InternalError", "We encountered an internal error.")
        etag = '"{}"'.format(hashlib.md5(request.body).hexdigest())
        upload["parts"][number] = (request.body, etag, request.header("x-amz-checksum-sha256"))
        return self._reply(200, b"", {"ETag": etag})

    def _post(self, request, bucket, key, params):
        if "uploads" in params:
            upload_id = "up-" + uuid.uuid4().hex
            self.uploads[upload_id] = {"bucket": bucket, "key": key, "parts": {}}
            body = ('<InitiateMultipartUploadResult xmlns="{}"><Bucket>{}</Bucket><Key>{}</Key>'
                    "<UploadId>{}</UploadId></InitiateMultipartUploadResult>").format(
                        NS, bucket, key, upload_id)
            return self._reply(200, body.encode())
        return self._complete(request, bucket, key, params["uploadId"])

    def _complete(self, request, bucket, key, upload_id):
        import xml.etree.ElementTree as ElementTree
        with self._lock:
            if self.complete_error:
                self.complete_error -= 1
                return self._reply(200, b"<Error><Code>InternalError</Code><Message>We "
                                   b"encountered an internal error.</Message></Error>")
        upload = self.uploads.pop(upload_id, None)
        if upload is None:
            return self._error(404, "NoSuchUpload", "The specified upload does not exist.")
        listed = [(int(p.find("{%s}PartNumber" % NS).text), p.find("{%s}ETag" % NS).text,
                   p.find("{%s}ChecksumSHA256" % NS).text)
                  for p in ElementTree.fromstring(request.body)]
        for number, etag, checksum in listed:
            if upload["parts"].get(number, (None, None, None))[1:] != (etag, checksum):
                return self._error(400, "InvalidPart", "part {} does not match".format(number))
        if [n for n, _, _ in listed] != sorted(upload["parts"]):
            return self._error(400, "InvalidPartOrder", "parts out of order or missing")
        self.objects[(bucket, key)] = b"".join(upload["parts"][n][0] for n, _, _ in listed)
        self.completed.append(upload_id)
        body = ('<CompleteMultipartUploadResult xmlns="{}"><Bucket>{}</Bucket><Key>{}</Key>'
                "<ETag>\"x-{}\"</ETag></CompleteMultipartUploadResult>").format(
                    NS, bucket, key, len(listed))
        return self._reply(200, body.encode())

    def _delete(self, request, bucket, key, params):
        if self.uploads.pop(params.get("uploadId"), None) is None:
            return self._error(404, "NoSuchUpload", "The specified upload does not exist.")
        self.aborted.append(params["uploadId"])
        return self._reply(204)
