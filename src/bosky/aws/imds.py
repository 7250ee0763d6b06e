"""The EC2 instance metadata service (IMDS): the IMDSv2 token, reads, and what they taught.

Facts (EC2 User Guide, "Use instance metadata"): PUT /latest/api/token with a
TTL header returns a token that every GET carries; 401 means the token is
missing or expired.  Like the SDKs, a PUT answered 403/404/405 means IMDSv2
is not offered there and reads go without a token (unless v1 is disabled).

One client serves a whole process: the token is kept until shortly before
its TTL ends, settled answers (the identity document, tags) are read once,
and a service that did not answer is not asked again (bosky off EC2 gives up
after one short timeout, not one per lookup) -- except for `bosky watch`,
which must poll through hiccups.  IMDS is link-local: never through a proxy.
"""

from bosky import errors

DEFAULT_ENDPOINT = "http://169.254.169.254"
IPV6_ENDPOINT = "http://[fd00:ec2::254]"
TOKEN_PATH = "/latest/api/token"
TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
TOKEN_TTL_SECONDS = 21600
TOKEN_MARGIN_SECONDS = 60.0  # a token this close to its end is replaced before use
IDENTITY_DOCUMENT = "/latest/dynamic/instance-identity/document"
PARTITION = "/latest/meta-data/services/partition"
ROLE_LIST = "/latest/meta-data/iam/security-credentials/"
USER_DATA = "/latest/user-data"
LABEL = "instance metadata (IMDS)"

UNREACHABLE_HINT = ("off EC2, pass --instance-id and --region and set AWS credentials in "
                    "the environment; in a container, raise the instance's metadata hop "
                    "limit to 2")
REFUSED_HINT = ("is instance metadata turned off for this instance (HttpEndpoint)? Off EC2, "
                "pass --instance-id and --region and set AWS credentials in the environment")


def endpoint_for(settings):
    """Base URL: the configured endpoint, else by endpoint mode (IPv4/IPv6)."""
    if settings.imds_endpoint:
        return settings.imds_endpoint
    if str(settings.imds_endpoint_mode or "").strip().lower() == "ipv6":
        return IPV6_ENDPOINT
    return DEFAULT_ENDPOINT


class ImdsClient(object):
    """Reads from IMDS with `request` (the transport's); `monotonic` dates the token."""

    def __init__(self, request, settings, monotonic, log, remember_failures=True):
        import _thread  # the start event's thread may read context while the main one does
        self._request, self._monotonic, self._log = request, monotonic, log
        self.base = endpoint_for(settings)
        self.disabled = settings.imds_disabled
        self._v1_disabled = settings.imds_v1_disabled
        self._timeout, self._attempts = settings.imds_timeout, settings.imds_attempts
        self._remember_failures = remember_failures
        self._token, self._token_until = None, 0.0  # None: not fetched; "": IMDSv1 mode
        self._unreachable = None  # the TransportError seen, if IMDS did not answer
        self._answers = {}        # path -> (status, body) already read by this process
        self._lock = _thread.allocate_lock()
        self.token_requests = 0   # for --debug and the tests

    @property
    def token_version(self):
        """2 when reads carry an IMDSv2 token, 1 after a v1 fallback, None before any read."""
        return None if self._token is None else (2 if self._token else 1)

    def get(self, path, deadline, optional=False, cache=True):
        """The body at `path` (bytes); None for a 404 when `optional`.  Settled answers
        are kept for the process unless `cache` is False (a watcher's polls); role
        credentials never are (they expire)."""
        with self._lock:
            answer = self._answers.get(path) if cache else None
            if answer is None:
                answer = self._fetch(path, deadline)
                if cache and answer[0] in (200, 404) and \
                        not (path.startswith(ROLE_LIST) and path != ROLE_LIST):
                    self._answers[path] = answer
        status, body = answer
        if status == 200:
            return body
        if status == 404 and optional:
            return None
        raise errors.ImdsError(reason="GET {} was answered HTTP {}; {}".format(
            self.base + path, status, REFUSED_HINT if status == 403 else UNREACHABLE_HINT),
            status=status)

    def _send(self, method, path, headers, deadline):
        if self.disabled:
            raise errors.ImdsError(reason="disabled by AWS_EC2_METADATA_DISABLED=true; pass "
                                          "--instance-id and --region")
        if self._unreachable is not None:
            raise self._unreachable
        for attempt in range(1, self._attempts + 1):
            timeout = deadline.timeout_for(self._timeout, "reading instance metadata")
            try:
                return self._request(method, self.base + path, headers, None, timeout, LABEL,
                                     direct=True, hint=UNREACHABLE_HINT)
            except errors.TransportError as exc:
                if attempt == self._attempts:
                    if self._remember_failures:
                        self._unreachable = exc
                    raise
                self._log("IMDS attempt {} failed: {}".format(attempt, exc))

    def _fetch_token(self, deadline):
        self.token_requests += 1
        reply = self._send("PUT", TOKEN_PATH, {TOKEN_TTL_HEADER: str(TOKEN_TTL_SECONDS)},
                           deadline)
        token = reply.body.decode("ascii", "replace").strip() if reply.status == 200 else ""
        if token:
            self._log("IMDS: got an IMDSv2 token")
            self._token_until = self._monotonic() + TOKEN_TTL_SECONDS - TOKEN_MARGIN_SECONDS
            return token
        if reply.status in (403, 404, 405) and not self._v1_disabled:
            self._log("IMDS: token request answered {}, reading without a token (IMDSv1)"
                      .format(reply.status))
            return ""
        raise errors.ImdsError(
            reason="the token request to {} was answered HTTP {} {}; {}".format(
                self.base + TOKEN_PATH, reply.status, reply.reason,
                "IMDSv1 is disabled by AWS_EC2_METADATA_V1_DISABLED"
                if self._v1_disabled else UNREACHABLE_HINT), status=reply.status)

    def _fetch(self, path, deadline):
        for attempt in (1, 2):
            if self._token is None or (self._token and self._monotonic() > self._token_until):
                self._token = self._fetch_token(deadline)
            headers = {TOKEN_HEADER: self._token} if self._token else {}
            reply = self._send("GET", path, headers, deadline)
            if reply.status == 401 and attempt == 1:
                self._token = None  # expired or refused token: fetch a new one once
                continue
            break
        return reply.status, reply.body
