"""The EC2 instance metadata service (IMDS): IMDSv2 token and reads.

Facts (EC2 User Guide, "Use instance metadata"): PUT /latest/api/token with a
TTL header returns a token that every GET carries; 401 means the token is
missing or expired.  Like the SDKs, a PUT answered 403/404/405 means IMDSv2
is not offered there and reads go without a token (unless v1 is disabled).

IMDS is link-local: requests never go through an HTTP proxy.  A service
that did not answer once is not asked again in the same run, so bosky off
EC2 gives up after one short timeout instead of one per lookup.
"""

from bosky import errors

DEFAULT_ENDPOINT = "http://169.254.169.254"
IPV6_ENDPOINT = "http://[fd00:ec2::254]"
TOKEN_PATH = "/latest/api/token"
TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
TOKEN_TTL_SECONDS = 21600
DEFAULT_TIMEOUT = 1.0
IDENTITY_DOCUMENT = "/latest/dynamic/instance-identity/document"
PARTITION = "/latest/meta-data/services/partition"
ROLE_LIST = "/latest/meta-data/iam/security-credentials/"

UNREACHABLE_HINT = ("off EC2, pass --instance-id and --region and set AWS credentials in "
                    "the environment; in a container, raise the instance's metadata hop "
                    "limit to 2")


REFUSED_HINT = ("is instance metadata turned off for this instance (HttpEndpoint)? Off EC2, "
                "pass --instance-id and --region and set AWS credentials in the environment")


def endpoint_from_env(env):
    """Base URL: AWS_EC2_METADATA_SERVICE_ENDPOINT, else by endpoint mode (IPv4/IPv6)."""
    explicit = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "").strip()
    if explicit:
        return explicit.rstrip("/")
    if env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "").lower() == "ipv6":
        return IPV6_ENDPOINT
    return DEFAULT_ENDPOINT


def is_disabled(env):
    return env.get("AWS_EC2_METADATA_DISABLED", "").strip().lower() == "true"


def timeout_from_env(env):
    try:
        value = float(env.get("AWS_METADATA_SERVICE_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        raise errors.ValidationError(reason="AWS_METADATA_SERVICE_TIMEOUT must be a number "
                                            "of seconds")
    return value if value > 0 else DEFAULT_TIMEOUT


class ImdsClient(object):
    """Reads from IMDS through `send` (transport.send with the env bound)."""

    def __init__(self, send, env, deadline, log, remember_failures=True):
        self._send = send
        self._base = endpoint_from_env(env)
        self._disabled = is_disabled(env)
        self._v1_disabled = env.get("AWS_EC2_METADATA_V1_DISABLED", "").lower() == "true"
        self._timeout = timeout_from_env(env)
        self._deadline = deadline
        self._log = log
        self._token = None        # None: not fetched yet; "": IMDSv1 mode
        # A run gives up on an IMDS that did not answer once; a long watch must not.
        self._remember_failures = remember_failures
        self._unreachable = None  # the TransportError seen, if IMDS did not answer
        self._answers = {}        # path -> (status, body) already read this run

    @property
    def disabled(self):
        return self._disabled

    @property
    def token_version(self):
        """2 when reads carry an IMDSv2 token, 1 after a v1 fallback, None before any read."""
        return None if self._token is None else (2 if self._token else 1)

    def _request(self, method, path, headers):
        if self._disabled:
            raise errors.ImdsError(reason="disabled by AWS_EC2_METADATA_DISABLED=true; pass "
                                          "--instance-id and --region")
        if self._unreachable is not None:
            raise self._unreachable
        url = self._base + path
        timeout = self._deadline.timeout_for(self._timeout, "reading instance metadata")
        try:
            return self._send(method, url, headers, b"" if method == "PUT" else None,
                              timeout, "instance metadata (IMDS)", use_proxy=False,
                              hint=UNREACHABLE_HINT)
        except errors.TransportError as exc:
            if self._remember_failures:
                self._unreachable = exc
            raise

    def _fetch_token(self):
        reply = self._request("PUT", TOKEN_PATH, {TOKEN_TTL_HEADER: str(TOKEN_TTL_SECONDS)})
        if reply.status == 200 and reply.body:
            self._log("IMDS: got an IMDSv2 token")
            return reply.body.decode("ascii", "replace").strip()
        if reply.status in (403, 404, 405) and not self._v1_disabled:
            self._log("IMDS: token request answered {}, reading without a token (IMDSv1)"
                      .format(reply.status))
            return ""
        raise errors.ImdsError(
            reason="the token request to {} was answered HTTP {} {}; {}".format(
                self._base + TOKEN_PATH, reply.status, reply.reason,
                "IMDSv1 is disabled by AWS_EC2_METADATA_V1_DISABLED"
                if self._v1_disabled else UNREACHABLE_HINT))

    def get(self, path, optional=False, cache=True):
        """The body at `path` (bytes); None for a 404 when `optional`.  Answers are
        remembered for the run (the identity document is read once), unless `cache`
        is False for values that change (a watcher's polls)."""
        answer = self._answers.get(path) if cache else None
        if answer is None:
            answer = self._fetch(path)
            # Keep settled answers, but not credentials (they expire) or passing errors.
            if cache and answer[0] in (200, 404) and \
                    not (path.startswith(ROLE_LIST) and path != ROLE_LIST):
                self._answers[path] = answer
        status, body = answer
        if status == 200:
            return body
        if status == 404 and optional:
            return None
        raise errors.ImdsError(reason="GET {} was answered HTTP {}; {}".format(
            self._base + path, status, REFUSED_HINT if status == 403 else UNREACHABLE_HINT))

    def _fetch(self, path):
        for attempt in (1, 2):
            if self._token is None:
                self._token = self._fetch_token()
            headers = {TOKEN_HEADER: self._token} if self._token else {}
            reply = self._request("GET", path, headers)
            if reply.status == 401 and attempt == 1:
                self._token = None  # expired or refused token: fetch a new one once
                continue
            break
        return reply.status, reply.body
