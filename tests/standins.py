"""Loopback stand-ins for AWS: IMDS and EventBridge, real HTTP servers on 127.0.0.1.

Used by the tests and by `make demo`.  Each server runs in a daemon thread on
an ephemeral port, records every request, and behaves like the service it
stands in for, including its failure modes.  The EventBridge stand-in checks
each request's SigV4 signature with its own small verifier (written from the
spec, sharing no code with bosky), so a signing bug cannot hide.

Standard library only, and Python 3.6 compatible, like bosky itself.
"""

import calendar
import hashlib
import hmac
import http.server
import json
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import uuid
from email.utils import formatdate
from urllib.parse import parse_qsl, urlsplit

TEST_KEY_ID = "AKIDSTANDIN0EXAMPLE"
TEST_SECRET = "standin/secret+key/EXAMPLEKEY0000000000"
ROLE_NAME = "bosky-test-role"
HANG_SECONDS = 8.0
CONTENT_TYPE = "application/x-amz-json-1.1"


class Recorded(object):
    __slots__ = ("method", "path", "headers", "body")

    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def header(self, name):
        return self.headers.get(name.lower())


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that gave up at its deadline hangs up mid-reply: expected, not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Recorded(self.command, self.path, headers, body)
        self.server.standin.requests.append(request)
        status, reply_headers, reply = self.server.standin.respond(request)
        if status == "hang":
            time.sleep(HANG_SECONDS)
            return
        if status == "cut":  # headers and half a body, then the reset: a reply cut short
            self.send_response(200)
            self.send_header("Content-Length", "200")
            self.end_headers()
            self.wfile.write(b'{"FailedEntryCount": 0, "Entr')
            self.wfile.flush()
            status = "reset"
        if status == "reset":  # close with RST: the client sees a reset, not a reply
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in reply_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_PUT = do_POST = _handle


class StandIn(object):
    """Base: start/stop, the URL, the request log; `tls` = (certfile, keyfile) serves HTTPS."""

    def __init__(self, tls=None):
        self.requests = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.standin = self
        self.scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self):
        return "{}://127.0.0.1:{}".format(self.scheme, self._server.server_address[1])

    @property
    def host(self):
        return "127.0.0.1:{}".format(self._server.server_address[1])

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def respond(self, request):
        raise NotImplementedError


# --------------------------------------------------------------------- IMDS


def identity_document(instance_id="i-0123456789abcdef0", region="us-east-1",
                      account="123456789012"):
    return {"accountId": account, "architecture": "x86_64",
            "availabilityZone": region + "a", "imageId": "ami-0abcdef1234567890",
            "instanceId": instance_id, "instanceType": "t3.micro",
            "pendingTime": "2026-11-21T10:00:00Z", "privateIp": "10.0.0.12",
            "region": region, "version": "2017-09-30"}


class ImdsStandIn(StandIn):
    """IMDS as EC2 serves it.  mode: "v2" (tokens required), "v1" (no token
    service: PUT 404, GETs work), "disabled" (403), "hang", "garbage"."""

    def __init__(self, mode="v2", document=None, partition="aws", role=ROLE_NAME,
                 key_id=TEST_KEY_ID, secret=TEST_SECRET, token="IQoJb3JpZ2luX2VjEXAMPLE"):
        super().__init__()
        self.mode = mode
        self.tokens = set()
        self.paths = {
            "/latest/dynamic/instance-identity/document":
                json.dumps(document or identity_document()),
            "/latest/meta-data/services/partition": partition,
        }
        if role:
            self.paths["/latest/meta-data/iam/security-credentials/"] = role
            self.paths["/latest/meta-data/iam/security-credentials/" + role] = json.dumps({
                "Code": "Success", "LastUpdated": "2026-11-21T10:00:00Z", "Type": "AWS-HMAC",
                "AccessKeyId": key_id, "SecretAccessKey": secret, "Token": token,
                "Expiration": "2099-01-01T00:00:00Z"})

    def respond(self, request):
        if self.mode in ("hang", "disabled"):
            return ("hang", {}, b"") if self.mode == "hang" else (403, {}, b"Forbidden")
        if request.method == "PUT" and request.path == "/latest/api/token":
            return self._token(request)
        if request.method != "GET":
            return 405, {}, b""
        if self.mode == "v2" and request.header("x-aws-ec2-metadata-token") not in self.tokens:
            return 401, {}, b""
        if self.mode == "garbage":
            return 200, {}, b"\x00<html>not metadata"
        body = self.paths.get(request.path)
        if body is None:
            return 404, {"Content-Type": "text/html"}, b"<html>404 - Not Found</html>"
        return 200, {"Content-Type": "text/plain"}, body.encode("utf-8")

    def _token(self, request):
        if self.mode == "v1":
            return 404, {}, b""
        if request.header("x-forwarded-for"):
            return 403, {}, b""
        try:
            ttl = int(request.header("x-aws-ec2-metadata-token-ttl-seconds"))
        except (TypeError, ValueError):
            return 400, {}, b""
        if not 1 <= ttl <= 21600:
            return 400, {}, b""
        token = "AQAEA" + uuid.uuid4().hex
        self.tokens.add(token)
        return 200, {"X-aws-ec2-metadata-token-ttl-seconds": str(ttl)}, token.encode("ascii")


# --------------------------------------------------------------- EventBridge


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256)


def verify_sigv4(request, secrets, host):
    """None if the request's SigV4 Authorization checks out, else what is wrong."""
    auth = request.header("authorization") or ""
    try:
        algorithm, rest = auth.split(" ", 1)
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        key_id, date, region, service, terminator = fields["Credential"].split("/")
        signed, claimed = fields["SignedHeaders"].split(";"), fields["Signature"]
    except (ValueError, KeyError):
        return "IncompleteSignature", "Authorization header malformed: " + auth[:80]
    if key_id not in secrets:
        return "UnrecognizedClientException", "The security token included in the request is invalid."
    stamp = request.header("x-amz-date") or ""
    if algorithm != "AWS4-HMAC-SHA256" or terminator != "aws4_request" or stamp[:8] != date:
        return "IncompleteSignature", "bad algorithm, scope or date"
    if "host" not in signed or request.header("host") != host:
        return "InvalidSignatureException", "host not signed or not " + host
    lines = ["{}:{}".format(n, " ".join((request.header(n) or "").split())) for n in signed]
    canonical = "POST\n/\n\n{}\n\n{}\n{}".format(
        "\n".join(lines), ";".join(signed), hashlib.sha256(request.body).hexdigest())
    to_sign = "AWS4-HMAC-SHA256\n{}\n{}/{}/{}/aws4_request\n{}".format(
        stamp, date, region, service, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    key = ("AWS4" + secrets[key_id]).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = _hmac(key, part).digest()
    if not hmac.compare_digest(_hmac(key, to_sign).hexdigest(), claimed):
        return "InvalidSignatureException", ("The request signature we calculated does not "
                                             "match the signature you provided.")
    return None


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
            detail = json.loads(entry["Detail"])
            assert isinstance(detail, dict) and entry["Source"] and entry["DetailType"]
        except (ValueError, KeyError, AssertionError):
            return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
        event_id = str(uuid.uuid4())
        self.accepted.append({"EventId": event_id, "entry": entry, "detail": detail})
        return {"EventId": event_id}


# ----------------------------------------------------------------- STS, containers

ROLE_KEY_ID = "ASIAROLE0STANDIN0000"
ROLE_SECRET = "role/secret+key/EXAMPLEKEY00000000000000"
ROLE_TOKEN = "FwoGZXIvYXdzEROLESESSIONTOKEN"


class StsStandIn(StandIn):
    """STS's Query API: AssumeRole (the signature is checked against `secrets`) and
    AssumeRoleWithWebIdentity (must be unsigned, token must equal `web_token`).
    mode "deny" answers 403 AccessDenied in STS's XML error shape."""

    def __init__(self, secrets=None, web_token="eyJhbGciOiJSUzI1NiJ9.standin.token"):
        super().__init__()
        self.secrets = secrets or {TEST_KEY_ID: TEST_SECRET}
        self.web_token, self.mode = web_token, "issue"
        self.calls = []  # (action, params) as received

    def _xml_error(self, status, code, message):
        body = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
                "<Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error>"
                "<RequestId>sts-req-1</RequestId></ErrorResponse>").format(code, message)
        return status, {"Content-Type": "text/xml"}, body.encode("utf-8")

    def respond(self, request):
        params = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        action = params.get("Action")
        self.calls.append((action, params))
        if request.header("content-type") != "application/x-www-form-urlencoded; charset=utf-8":
            return self._xml_error(400, "InvalidParameterValue", "bad Content-Type")
        if action == "AssumeRole":
            problem = verify_sigv4(request, self.secrets, self.host)
            if problem:
                return self._xml_error(403, problem[0], problem[1])
        elif action == "AssumeRoleWithWebIdentity":
            if request.header("authorization"):
                return self._xml_error(400, "InvalidAction", "must be unsigned")
            if params.get("WebIdentityToken") != self.web_token:
                return self._xml_error(400, "InvalidIdentityToken", "Incorrect token audience")
        else:
            return self._xml_error(400, "InvalidAction", "unknown action")
        if self.mode == "deny":
            return self._xml_error(403, "AccessDenied", "User is not authorized to perform "
                                                        "sts:AssumeRole")
        body = ('<{0}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{0}Result>'
                "<Credentials><AccessKeyId>{1}</AccessKeyId><SecretAccessKey>{2}"
                "</SecretAccessKey><SessionToken>{3}</SessionToken><Expiration>"
                "2099-01-01T00:00:00Z</Expiration></Credentials></{0}Result></{0}Response>"
                ).format(action, ROLE_KEY_ID, ROLE_SECRET, ROLE_TOKEN)
        return 200, {"Content-Type": "text/xml"}, body.encode("utf-8")


class ContainerStandIn(StandIn):
    """The ECS / EKS Pod Identity credentials endpoint: checks the Authorization header."""

    def __init__(self, authorization=None, expiration="2099-01-01T00:00:00Z"):
        super().__init__()
        self.authorization, self.expiration = authorization, expiration

    def respond(self, request):
        if self.authorization and request.header("authorization") != self.authorization:
            return 401, {}, b'{"message": "unauthorized"}'
        return 200, {"Content-Type": "application/json"}, json.dumps({
            "AccessKeyId": ROLE_KEY_ID, "SecretAccessKey": ROLE_SECRET, "Token": ROLE_TOKEN,
            "Expiration": self.expiration}).encode("utf-8")
