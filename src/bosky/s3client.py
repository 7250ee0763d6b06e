"""One bucket's requests: addressing, signing, region discovery, retries, errors that say
the fix.

A `Bucket` is made for one command with the session (credentials, clock,
transport) and that command's deadline.  Each request is signed the S3 way
and retried as the SDKs' standard mode does (SlowDown, 5xx, connection
failures); a skewed clock is learned from the reply and the request signed
again, expired credentials are fetched again once.  A bucket in another
region (301/307/400 with x-amz-bucket-region) is asked again, once, signed
for its own region, which the bucket then keeps for the rest of the command.
"""

from bosky import errors, retry
from bosky.aws import endpoints, s3, sigv4

REQUEST_CAP = 60.0  # seconds for a request and its reply's head (bodies: `idle` per read)
IDLE_SECONDS = 30.0  # a transfer that sends nothing for this long is asked again
LARGE_BODY = 64 * 1024

HINTS = {
    "NoSuchKey": "check the key (keys are case-sensitive)",
    "NoSuchBucket": "check the bucket's name",
    "InvalidAccessKeyId": "the access key is not known to S3; check the credentials",
    "SignatureDoesNotMatch": "check the secret key (AWS_SECRET_ACCESS_KEY or the profile's)",
    "PreconditionFailed": "the object changed while it was read; run the copy again",
    "NoSuchUpload": "the multipart upload is gone (aborted or completed elsewhere)",
    "EntityTooLarge": "a single upload is at most 5 GiB",
    "BadDigest": "the bytes S3 received are not the ones sent; run the copy again",
    "InvalidBucketName": "check the bucket's name",
    "PermanentRedirect": "the bucket is in another region; pass --region",
}


class Bucket(object):
    """Requests to one bucket for one command."""

    def __init__(self, session, name, deadline):
        self.session, self.name, self.deadline = session, name, deadline
        settings = session.settings
        self._override = settings.endpoints["s3"][0]
        self._style = _addressing_style(settings)
        self.region, self.region_origin = self._first_region()
        self.partition = endpoints.partition_for_region(self.region)[0]

    def _first_region(self):
        """The configured region, else the instance's, else us-east-1 (S3 then says where
        the bucket is, and the request is signed again for that)."""
        try:
            return self.session.region(self.deadline)
        except errors.BoskyError as exc:
            self.session.log("S3: no region ({}); starting with us-east-1".format(exc))
            return "us-east-1", "a first guess (none configured, none from IMDS)"

    def base_url(self):
        settings = self.session.settings
        return s3.bucket_url(self.name, self.region, self._override, settings.use_fips,
                             settings.use_dualstack, self._style)[0]

    def describe(self):
        """Where this bucket's requests go, for doctor and --debug."""
        settings = self.session.settings
        url, style = s3.bucket_url(self.name, self.region, self._override, settings.use_fips,
                                   settings.use_dualstack, self._style)
        return "{} ({}, region {} from {})".format(url, style, self.region, self.region_origin)

    def request(self, operation, method, key, params=(), headers=None, body=None,
                content_sha256=s3.EMPTY_SHA256, ok=(200,), stream=False, deadline=None):
        """Send one S3 request with retries; the reply (open if `stream`) or S3Error."""
        deadline = deadline or self.deadline
        what = "S3 {} s3://{}/{}".format(operation, self.name, key)

        def attempt():
            send = (what, method, key, params, headers or {}, body, content_sha256, ok,
                    stream, deadline)
            reply = self._send(*send, may_move=True)
            if reply is None:  # the bucket is elsewhere: once more, signed for its region
                reply = self._send(*send, may_move=False)
            return reply

        return retry.call_with_retries(
            attempt, retry.classify, deadline, self.session.clock.sleep,
            self.session.world.random, self.session.log, self.session.settings.max_attempts,
            recover=lambda kind, exc: self.session.recover(kind, exc, deadline))

    def _send(self, what, method, key, params, headers, body, content_sha256, ok, stream,
              deadline, may_move):
        """The reply, or None when the bucket turned out to be elsewhere (once: a bucket
        that moves again, or names the region it was asked in, is an S3Error)."""
        session = self.session
        url = s3.object_url(self.base_url(), key, params)
        signed = sigv4.sign_request(method, url, headers, None, session.credentials.get(
            deadline), self.region, s3.SIGNING_NAME, session.clock.utcnow(), content_sha256)
        # A part or a download may rightly take long: it gets what is left of the deadline,
        # with IDLE_SECONDS for each read or send.  The body goes out in blocks (a file
        # object to http.client), each send bounded, not as one sendall of 8 MiB.
        large = stream or (body is not None and len(body) > LARGE_BODY)
        timeout = deadline.timeout_for(deadline.remaining() if large else REQUEST_CAP,
                                       "talking to S3")
        if body is not None and large:
            signed["Content-Length"], body = str(len(body)), Blocks(body)
        reply = session.http.open(method, url, signed, body, timeout, what,
                                  idle=IDLE_SECONDS if large else None)
        if reply.status in ok:
            if stream:
                return reply
            with reply:
                from bosky.transport import MAX_REPLY_BYTES, Response
                return Response(reply.status, reply.reason, reply.headers,
                                reply.read_all(MAX_REPLY_BYTES))
        with reply:
            error_body = reply.read_up_to(64 * 1024)
        code, message, request_id, region = s3.parse_error(error_body, reply.status,
                                                           reply.reason, reply.headers)
        if may_move and reply.status in s3.REDIRECT_STATUSES and region and \
                region != self.region:
            self._move_to(region, what, request_id, reply.status)
            return None
        raise errors.S3Error(what, code, message, request_id, self.hint(code, method, key),
                      status=reply.status, server_date=reply.headers.get("date", ""))

    def _move_to(self, region, what, request_id, status):
        try:
            endpoints.check_region(region, "S3's x-amz-bucket-region")
        except errors.ValidationError as exc:  # the server's doing, not the user's: exit 1
            raise errors.S3Error(what, "PermanentRedirect", exc.message, request_id,
                                 "check the endpoint: S3 names only real regions",
                                 status=status)
        self.session.log("S3: bucket {} is in {}, not {}; signing again for it".format(
            self.name, region, self.region))
        self.region, self.region_origin = region, "S3 (x-amz-bucket-region)"

    def hint(self, code, method, key):
        if code in ("AccessDenied", "Forbidden"):
            return s3.access_hint(method, self.name, key, self.partition)
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed"):
            return "the bucket is in another region; pass --region"
        return HINTS.get(code, "")


class Blocks(object):
    """A large body as http.client reads a file: in blocks, each sent on its own (bounded
    by the idle time), without a copy of the whole (io.BytesIO copies a bytearray)."""

    def __init__(self, data):
        self._view, self._at = memoryview(data), 0

    def read(self, size=-1):
        end = len(self._view) if size is None or size < 0 else self._at + size
        block = self._view[self._at:end].tobytes()
        self._at += len(block)
        return block


def _addressing_style(settings):
    """The profile's `s3 = addressing_style = ...` (auto, path or virtual), if any."""
    from bosky import profiles
    nested = settings.profile_values.get("s3")
    return profiles.parse_nested(nested).get("addressing_style") if nested else None
