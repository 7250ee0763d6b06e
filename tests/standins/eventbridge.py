"""PutEvents as EventBridge answers it, with a SigV4 verifier of its own and faults on demand."""

import calendar
import hashlib
import json
import threading
import time
import uuid
from email.utils import formatdate
from urllib.parse import urlsplit

from .base import CONTENT_TYPE, TEST_KEY_ID, TEST_SECRET, Authorization, StandIn


def verify_sigv4(request, secrets, host):
    """None if the request's SigV4 Authorization checks out, else what is wrong."""
    header = request.header("authorization") or ""
    try:
        auth = Authorization(header)
    except (ValueError, KeyError):
        return "IncompleteSignature", "Authorization header malformed: " + header[:80]
    if auth.key_id not in secrets:
        return "UnrecognizedClientException", "The security token included in the request is invalid."
    stamp = request.header("x-amz-date") or ""
    if auth.algorithm != "AWS4-HMAC-SHA256" or auth.terminator != "aws4_request" or \
            stamp[:8] != auth.date:
        return "IncompleteSignature", "bad algorithm, scope or date"
    if "host" not in auth.signed or request.header("host") != host:
        return "InvalidSignatureException", "host not signed or not " + host
    lines = ["{}:{}".format(n, " ".join((request.header(n) or "").split())) for n in auth.signed]
    canonical = "POST\n/\n\n{}\n\n{}\n{}".format(
        "\n".join(lines), ";".join(auth.signed), hashlib.sha256(request.body).hexdigest())
    to_sign = "AWS4-HMAC-SHA256\n{}\n{}/{}/{}/aws4_request\n{}".format(
        stamp, auth.date, auth.region, auth.service,
        hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    if not auth.signs(secrets[auth.key_id], to_sign):
        return "InvalidSignatureException", ("The request signature we calculated does not "
                                             "match the signature you provided.")
    return None


def _status(entry):
    try:
        return json.loads(entry["Detail"]).get("Status")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _not_json(name):
    raise ValueError("{} is not JSON".format(name))


class EventBridgeStandIn(StandIn):
    """PutEvents as EventBridge answers it, with faults on demand.

    mode (every request) or script (one mode per request, in order, then mode):
    "accept"; "partial" (HTTP 200, every entry failed with `entry_error`);
    "throttle" (400 ThrottlingException); "500" (500 InternalFailure); "error"
    (HTTP `error_status` with `error_type`/`error_message`); "hang"; "reset";
    "garbage" (200 with a body that is not JSON); "cut" (headers and part of the
    body, then a reset); "lost" (accepted, then the
    connection is reset before the reply).
    entry_failures: one set of entry indexes per request, failed with `entry_error`.
    clock_offset: seconds the service's clock is ahead; it sends a Date header and,
    like AWS, refuses signatures more than 5 minutes from its clock.
    rate_limit: requests accepted per second; the rest are throttled.
    missing_buses: bus names that do not exist: a request naming one is refused whole
    with ResourceNotFoundException, as EventBridge does.
    slow_statuses: {detail Status: seconds} to wait before answering a request carrying
    an entry with that status (to let a later request overtake it).
    `region` and `token` are what a correctly signed request must carry.
    """

    def __init__(self, mode="accept", region="us-east-1", token=None, secrets=None, tls=None):
        super().__init__(tls)
        self.mode, self.region, self.token = mode, region, token
        self.secrets = secrets or {TEST_KEY_ID: TEST_SECRET}
        self.script, self.entry_failures = [], []
        self.clock_offset, self.rate_limit = 0.0, None
        self.entry_error = ("ThrottlingException", "Rate exceeded")
        self.error_status, self.error_type = 400, "AccessDeniedException"
        self.error_message = "User is not authorized to perform: events:PutEvents"
        self.missing_buses, self.slow_statuses = set(), {}
        self.refuse = None  # refuse(statuses of the request's entries) -> True: answer 500
        self.accepted = []  # entries that passed every check, with their EventIds
        self.throttled = 0  # requests answered ThrottlingException
        self._lock = threading.Lock()
        self._recent = []   # times of recent admitted requests, for rate_limit

    def now(self):
        return time.time() + self.clock_offset

    def _reply(self, status, body):
        return status, {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": str(uuid.uuid4()),
                        "Date": formatdate(self.now(), usegmt=True)}, body

    def _error(self, status, code, message):
        return self._reply(status, json.dumps({"__type": code, "message": message}).encode())

    def check(self, request):
        """(status, code, message) of the first rule the request breaks, else None."""
        if request.method != "POST" or urlsplit(request.path).path != "/":
            return 404, "UnknownOperationException", "POST / expected"
        if request.header("x-amz-target") != "AWSEvents.PutEvents":
            return 400, "UnknownOperationException", "bad X-Amz-Target"
        if request.header("content-type") != CONTENT_TYPE:
            return 400, "SerializationException", "bad Content-Type"
        problem = verify_sigv4(request, self.secrets, self.host)
        if problem:
            return (403,) + problem
        scope = request.header("authorization").split("Credential=")[1].split(",")[0]
        if scope.split("/")[2:4] != [self.region, "events"]:
            return 403, "InvalidSignatureException", "wrong scope " + scope
        signed = request.header("authorization").split("SignedHeaders=")[1].split(",")[0]
        if self.token and (request.header("x-amz-security-token") != self.token
                           or "x-amz-security-token" not in signed.split(";")):
            return 403, "UnrecognizedClientException", "session token missing or unsigned"
        return self._check_time(request.header("x-amz-date"))

    def _check_time(self, stamp):
        signed_at = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
        now = self.now()
        if abs(signed_at - now) <= 300:
            return None
        text = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        if signed_at < now:
            return 400, "InvalidSignatureException", (
                "Signature expired: {} is now earlier than {} ({} - 5 min.)".format(
                    stamp, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now - 300)), text))
        return 400, "InvalidSignatureException", (
            "Signature not yet current: {} is still later than {} ({} + 5 min.)".format(
                stamp, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + 300)), text))

    def _next_mode(self):
        with self._lock:
            return self.script.pop(0) if self.script else self.mode

    def _admit(self):
        with self._lock:
            now = time.time()
            self._recent = [t for t in self._recent if now - t < 1.0]
            if self.rate_limit is not None and len(self._recent) >= self.rate_limit:
                return False
            self._recent.append(now)
            return True

    def respond(self, request):
        mode = self._next_mode()
        if mode in ("hang", "reset", "cut"):
            return mode, {}, b""
        problem = self.check(request)
        if problem:
            return self._error(*problem)
        if mode == "throttle" or not self._admit():
            self.throttled += 1
            return self._error(400, "ThrottlingException", "Rate exceeded")
        if mode == "500":
            return self._error(500, "InternalFailure", "We encountered an internal error.")
        if mode == "error":
            return self._error(self.error_status, self.error_type, self.error_message)
        if mode == "garbage":
            return self._reply(200, b"<html>proxy says hi</html>")
        entries = json.loads(request.body.decode("utf-8"))["Entries"]
        if self.refuse is not None and self.refuse([_status(e) for e in entries]):
            return self._error(500, "InternalFailure", "We encountered an internal error.")
        gone = [e.get("EventBusName") for e in entries if e.get("EventBusName") in
                self.missing_buses]
        if gone:
            return self._error(400, "ResourceNotFoundException",
                               "Event bus {} does not exist.".format(gone[0]))
        time.sleep(max([self.slow_statuses.get(_status(e), 0) for e in entries] or [0]))
        with self._lock:
            failing = self.entry_failures.pop(0) if self.entry_failures else (
                set(range(len(entries))) if mode == "partial" else set())
        results = [self._result(entry, i in failing) for i, entry in enumerate(entries)]
        if mode == "lost":  # accepted, but the reply never arrives (at-least-once's duplicate)
            return "reset", {}, b""
        failed = sum(1 for r in results if "ErrorCode" in r)
        return self._reply(200, json.dumps({"FailedEntryCount": failed,
                                            "Entries": results}).encode("utf-8"))

    def _result(self, entry, fail):
        if fail:
            return {"ErrorCode": self.entry_error[0], "ErrorMessage": self.entry_error[1]}
        try:
            detail = json.loads(entry["Detail"], parse_constant=_not_json)  # strict, as AWS
            assert isinstance(detail, dict) and entry["Source"] and entry["DetailType"]
        except (ValueError, KeyError, AssertionError):
            return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
        event_id = str(uuid.uuid4())
        self.accepted.append({"EventId": event_id, "entry": entry, "detail": detail})
        return {"EventId": event_id}
