"""moto in server mode, with IAM authentication on, as an independent oracle.

Unlike the stand-ins next to this file, moto shares no code with bosky: it
checks every request's SigV4 signature with botocore's signer and the
caller's IAM policy with its own evaluator.  This module starts it as a
separate process on 127.0.0.1 and sets it up through boto3 (bosky itself
never uses boto3; tests use it only to arrange things and read results).

    server = MotoServer().start()
    key_id, secret = server.make_user("web", policy_document)
    route = server.route("web-fail", '{"detail-type": ["User Data"]}')
    ... run bosky with AWS_ENDPOINT_URL_EVENTBRIDGE=server.url ...
    messages = server.receive(route.queue_url)
    server.stop()

It needs moto with its server extra (`pip install "moto[server]"`: Flask and
flask-cors come with it; boto3 is a dependency of moto itself).  moto 5.2.1
needs Python 3.10 or newer; bosky's side of the tests still runs the built
.pyz as a subprocess.  Facts below were read in moto 5.2.1's source and
checked against a running server.

How authentication is switched on
---------------------------------
moto reads INITIAL_NO_AUTH_ACTION_COUNT once, at import, from its
environment (moto/settings.py; unset means infinity, i.e. no checks).  Every
request that reaches ActionAuthenticatorMixin._authenticate_and_authorize_
action (moto/core/authorization.py) either increments one process-wide
counter, while the counter is below that number, and is then NOT checked at
all (any access key, any signature, no policy), or, once the counter has
reached it, has its signature and then its IAM policy checked.  So:

* The server is started as `python -m moto.server -H 127.0.0.1 -p PORT` with
  INITIAL_NO_AUTH_ACTION_COUNT=3 in its own, minimal environment (no AWS_*
  or MOTO_* variables leak in: MOTO_ACCOUNT_ID, for one, would change the
  account).  The three free requests are exactly the bootstrap of the admin
  user: iam CreateUser, PutUserPolicy ("Action": "*", "Resource": "*") and
  CreateAccessKey, sent by a boto3 client with retries off (a retry would
  use up a free request).  start() then proves that authentication is on:
  the bootstrap key is refused (InvalidClientTokenId) and the admin key is
  accepted.
* What counts: every request to a service dispatched through
  BaseResponse.call_action (IAM, STS, SQS, EventBridge, ... : the JSON and
  query protocols) and every S3 operation (moto/s3/responses.py calls
  _authenticate_and_authorize_s3_action itself).  What does not count and
  is never checked: /moto-api/* (the readiness probe used here is
  GET /moto-api/data.json) and moto's IMDS emulation (/latest/meta-data/).
  The Cognito operations moto lists as public count but are never checked.  POST /moto-api/reset-auth
  with a number sets a new count and resets the counter at run time (not
  used here).
* There is no root user.  After the free requests only two kinds of keys
  exist: IAM users' access keys (AKIA..., from CreateAccessKey) and STS
  assumed-role keys (ASIA..., from AssumeRole).  Any other key id gets 403
  InvalidClientTokenId; an AKIA key sent with any X-Amz-Security-Token
  header is refused the same way; an ASIA key needs its exact session token
  in X-Amz-Security-Token.  The account is 123456789012 throughout.

What moto checks, and what it does not
--------------------------------------
Signature (IAMRequestBase.check_signature in moto/iam/access_control.py):
moto rebuilds the request from the headers named in SignedHeaders (only
those), the raw path and query, and the body, and signs it with the user's
secret using botocore's SigV4Auth (S3SigV4Auth for S3), taking the date
from X-Amz-Date and the region and service from the request's own
Credential= scope.  A wrong secret, a changed body, or a changed signed
header gives 403 SignatureDoesNotMatch.  But:

* The clock is not checked: a request dated 2005 is accepted (AWS refuses
  more than 5 minutes of skew), so bosky's clock correction cannot be tested
  against moto.
* The region is not checked: any region in the scope is accepted, and it
  also chooses the backend (on 127.0.0.1 the EventBridge region comes from
  the Authorization header), so an event signed for us-west-2 lands on
  us-west-2's default bus and never meets rules made in us-east-1.
* The signing name is taken from the scope too.  `eventbridge` is accepted
  as an alias of `events` by the dispatcher, but the IAM action then
  becomes `eventbridge:PutEvents`, which a policy granting
  `events:PutEvents` does not allow (403 AccessDenied): a wrong signing name
  shows up as a policy failure, not a signature failure.
* An EventBridge request without an Authorization header, once
  authentication is on, gets HTTP 500 (a KeyError in moto), not AWS's 403 MissingAuthentication
  Token.
* The session token is compared as a header value whether or not it is
  among the signed headers.
* For S3, a signed X-Amz-Content-SHA256 is trusted as the payload hash: a
  claimed hash that does not match the body, and UNSIGNED-PAYLOAD, are both
  accepted (AWS refuses the first with XAmzContentSHA256Mismatch).

Policy (check_action_permitted): the user's inline and attached policies
and its groups' are evaluated: an explicit Deny wins, else some Allow must
match the action (`service:Operation`, `*` wildcards) and the resource.  But:

* Resources are only real for S3, IAM, SQS and STS.  EventBridge requests
  are checked against the resource "*", so a policy Resource such as
  `arn:aws:events:us-east-1:*:event-bus/default` (what
  `bosky --permissions` prints) or even `arn:aws:events:*` never matches
  and PutEvents is refused; only `"Resource": "*"` allows it.
* Condition keys are not evaluated for identity policies: moto passes no
  request context, so a StringEquals condition sees no values and holds
  (an Allow with `events:source` = web-frontend allows any source), and
  every other operator (StringNotEquals, StringLike, ...) is skipped and
  holds too (a Deny with a condition denies everything).  This covers
  `events:source`, `events:detail-type` and S3 condition keys alike.
* Resource-based policies are mostly not evaluated: the SQS queue policy
  that AWS needs for EventBridge to deliver (route() sets one anyway, as on
  AWS) is ignored, and so are event bus policies.  A bucket policy counts
  only when it explicitly denies an object GET/PUT/DELETE (then 403); an
  Allow in it grants an IAM user nothing.

Error replies: auth failures come back as HTTP 403 with Content-Type
text/html and a query-protocol XML body, even for EventBridge's JSON
protocol, e.g.

    <ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User:
    arn:aws:iam::123456789012:user/NAME is not authorized to perform:
    events:PutEvents</Message><Type>Sender</Type></Error></Errors>
    </ErrorResponse>

(codes AccessDenied, SignatureDoesNotMatch, InvalidClientTokenId), where AWS
answers JSON {"__type": "AccessDeniedException", ...}.  A JSON client that
reads `__type` (botocore included) sees only the status, 403.  ReplyTap
records what moto really answered.

EventBridge and SQS
-------------------
The default bus exists.  Rules live on it; an SQS target receives the event
as moto's default input template builds it: id, time, version, detail-type,
source, region, resources, detail, but no `account` (AWS sends account
too), with `time` rebuilt from the entry's Time (moto expects epoch
seconds there, as botocore sends them) as ISO 8601.  Delivery is
synchronous: PutEvents calls every matching rule's targets before it
replies, so once bosky has exited, every message its event will produce is
already in the queues.  moto sends to the queue with the target ARN's name
in the bus's own region and account, whatever region or account the ARN
names.  It is slow: each matching rule with a target costs about 0.1 s per
event on this 2-core machine (moto's EventTemplateParser has jsonpath_ng
build its PLY parser tables afresh for each of 8 paths), and rules stay on
the bus for the server's life, so remove_route() what a test made.

S3
--
Buckets are addressed path-style (http://127.0.0.1:PORT/BUCKET/KEY): moto
treats a Host that is an IP address, `localhost...`, or a name without dots
as path-style.  Virtual-hosted addressing cannot work by DNS on loopback
(`BUCKET.127.0.0.1` and `BUCKET.localhost` do not resolve here); it works
only by connecting to 127.0.0.1 and sending a Host header ending in
`.amazonaws.com` (`my.dotted.bucket.s3.us-east-1.amazonaws.com` or
`my.dotted.bucket.s3.amazonaws.com`; the signature covers that Host).  With
any other host name moto takes only the first label as the bucket, so a
dotted bucket is misread (`my.dotted.bucket.localhost` means bucket `my`).
A bucket's region is not enforced: a request signed for us-east-1 reaches a
us-west-2 bucket (AWS answers a redirect or AuthorizationHeaderMalformed).
A PUT with Content-Type application/x-www-form-urlencoded stores an empty
object (Flask parses the body as a form); send another type, or none.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore.exceptions
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
ADMIN_USER = "moto-admin"
BOOTSTRAP_KEY = ("bootstrap", "bootstrap")   # any key works for the free requests
FREE_REQUESTS = 3                            # CreateUser, PutUserPolicy, CreateAccessKey
ALLOW_ALL = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

Route = namedtuple("Route", "rule_name rule_arn queue_url queue_arn")


class MotoError(RuntimeError):
    """The moto server could not be started or set up."""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(extra=None):
    """A minimal environment for the server: no AWS_* or MOTO_* settings but ours."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUNBUFFERED": "1",
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           "INITIAL_NO_AUTH_ACTION_COUNT": str(FREE_REQUESTS)}
    for name in ("HOME", "PYTHONPATH", "LANG", "LC_ALL"):  # where moto may be installed
        if os.environ.get(name):
            env[name] = os.environ[name]
    env.update(extra or {})
    return env


class MotoServer:
    """`python -m moto.server` on a free loopback port, IAM authentication on."""

    def __init__(self, python=None, region=REGION, start_timeout=30.0):
        self.python = python or sys.executable
        self.region = region
        self.start_timeout = start_timeout
        self.process = None
        self.port = None
        self.url = None
        self.admin_key = None
        self._log = None
        self._clients = {}
        self._counter = 0

    # -- process --------------------------------------------------------------

    def command(self, port):
        return [self.python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]

    def start(self):
        for _ in range(3):  # a free port can be taken before moto binds it
            if self._start_once(free_port()):
                break
        else:
            raise MotoError("moto server did not start:\n" + self.log_text())
        self._bootstrap()
        return self

    def _start_once(self, port):
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.command(port), env=server_env(),
                                        stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        self.port, self.url = port, "http://127.0.0.1:{}".format(port)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if "Address already in use" in self.log_text():
                    return False
                raise MotoError("moto server exited with status {} (is moto[server] "
                                "installed?):\n{}".format(self.process.returncode,
                                                          self.log_text()))
            try:
                with urllib.request.urlopen(self.url + "/moto-api/data.json", timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise MotoError("moto server did not answer within {} s:\n{}".format(
            self.start_timeout, self.log_text()))

    def log_text(self):
        """What the server printed (its request log and any traceback)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # moto.server exits 0 on SIGTERM
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- clients --------------------------------------------------------------

    def client(self, service, key_id=None, secret=None, token=None, region=None):
        """A boto3 client for this server: the admin's keys unless others are given.

        No retries (a retried refusal would only hide what happened), S3
        path-style (see the module docstring).
        """
        if key_id is None:
            key_id, secret = self.admin_key
        cache_key = (service, key_id, secret, token, region)
        if cache_key not in self._clients:
            self._clients[cache_key] = boto3.session.Session().client(
                service, endpoint_url=self.url, region_name=region or self.region,
                aws_access_key_id=key_id, aws_secret_access_key=secret,
                aws_session_token=token,
                config=Config(retries={"max_attempts": 1, "mode": "standard"},
                              s3={"addressing_style": "path"},
                              connect_timeout=5, read_timeout=30))
        return self._clients[cache_key]

    def _bootstrap(self):
        iam = self.client("iam", *BOOTSTRAP_KEY)
        iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(UserName=ADMIN_USER, PolicyName="allow-all",
                            PolicyDocument=json.dumps(ALLOW_ALL))
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        self.admin_key = (key["AccessKeyId"], key["SecretAccessKey"])
        try:
            iam.get_user(UserName=ADMIN_USER)
        except botocore.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] != "InvalidClientTokenId":
                raise
        else:
            raise MotoError("moto accepted a request from an unknown key after the "
                            "bootstrap: IAM authentication is not on")
        self.client("iam").get_user(UserName=ADMIN_USER)  # the admin key works

    def unique(self, prefix):
        self._counter += 1
        return "{}-{}".format(prefix, self._counter)

    # -- IAM ------------------------------------------------------------------

    def make_user(self, name, policy_document):
        """Create IAM user `name` with one inline policy; return (key_id, secret).

        policy_document: a dict, or JSON text, or None for a user with no policy.
        """
        iam = self.client("iam")
        iam.create_user(UserName=name)
        if policy_document is not None:
            self.set_user_policy(name, policy_document)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def set_user_policy(self, name, policy_document, policy_name="policy"):
        """Create or replace the user's inline policy `policy_name`."""
        if not isinstance(policy_document, str):
            policy_document = json.dumps(policy_document)
        self.client("iam").put_user_policy(UserName=name, PolicyName=policy_name,
                                           PolicyDocument=policy_document)

    def assume_role(self, role_name, policy_document, session_name="bosky-test"):
        """A role the admin may assume, with this inline policy; return its
        temporary (key_id, secret, session_token)."""
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": "arn:aws:iam::{}:user/{}".format(ACCOUNT_ID, ADMIN_USER)}}]}
        iam = self.client("iam")
        role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
        if not isinstance(policy_document, str):
            policy_document = json.dumps(policy_document)
        iam.put_role_policy(RoleName=role_name, PolicyName="policy",
                            PolicyDocument=policy_document)
        creds = self.client("sts").assume_role(RoleArn=role["Role"]["Arn"],
                                               RoleSessionName=session_name)["Credentials"]
        return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]

    # -- S3 -------------------------------------------------------------------

    def create_bucket(self, name, region=None):
        """Create a bucket (dotted names are fine, path-style); return its name."""
        kwargs = {"Bucket": name}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.client("s3").create_bucket(**kwargs)
        return name

    def put_object(self, bucket, key, body, content_type="application/octet-stream"):
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=body,
                                     ContentType=content_type)

    def get_object(self, bucket, key):
        """The object's bytes (as the admin), or None when there is no such key."""
        try:
            reply = self.client("s3").get_object(Bucket=bucket, Key=key)
        except botocore.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return reply["Body"].read()

    def list_keys(self, bucket, prefix=""):
        pages = self.client("s3").get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    # -- EventBridge and SQS --------------------------------------------------

    def create_queue(self, name):
        """An SQS queue; return (queue_url, queue_arn)."""
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        return url, arn

    def route(self, name, event_pattern, event_bus="default"):
        """Rule `name` on `event_bus` with `event_pattern` (JSON text, used as
        given, or a dict) and a new queue `name` as its only target.

        The queue gets the policy AWS requires for EventBridge to send to it
        (moto does not check it).  Returns a Route.
        """
        if not isinstance(event_pattern, str):
            event_pattern = json.dumps(event_pattern)
        events = self.client("events")
        queue_url, queue_arn = self.create_queue(name)
        rule_arn = events.put_rule(Name=name, EventPattern=event_pattern,
                                   EventBusName=event_bus, State="ENABLED")["RuleArn"]
        policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "EventBridgeSendMessage", "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage", "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}
        self.client("sqs").set_queue_attributes(QueueUrl=queue_url,
                                                Attributes={"Policy": json.dumps(policy)})
        reply = events.put_targets(Rule=name, EventBusName=event_bus,
                                   Targets=[{"Id": "queue", "Arn": queue_arn}])
        if reply.get("FailedEntryCount"):
            raise MotoError("put_targets failed: {}".format(reply))
        return Route(name, rule_arn, queue_url, queue_arn)

    def remove_route(self, route, event_bus="default"):
        """Delete a route()'s target, rule and queue (each matching rule costs
        moto time on every event: see the module docstring)."""
        events = self.client("events")
        events.remove_targets(Rule=route.rule_name, EventBusName=event_bus, Ids=["queue"])
        events.delete_rule(Name=route.rule_name, EventBusName=event_bus)
        self.client("sqs").delete_queue(QueueUrl=route.queue_url)

    def receive(self, queue_url, count=1, timeout=2.0):
        """Messages from the queue, each body parsed as JSON, deleted once read.

        Returns as soon as `count` messages have arrived, else after
        `timeout` seconds with what there is (count=None: always wait the
        whole timeout, to show that nothing more arrives).
        """
        sqs = self.client("sqs")
        bodies = []
        deadline = time.monotonic() + timeout
        while True:
            reply = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                        WaitTimeSeconds=0)
            for message in reply.get("Messages", []):
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url,
                                   ReceiptHandle=message["ReceiptHandle"])
            if (count is not None and len(bodies) >= count) or time.monotonic() >= deadline:
                return bodies
            time.sleep(0.05)


class ReplyTap:
    """A transparent loopback relay that records what the upstream answered.

    Point a client at tap.url instead of the server's URL: each request is
    forwarded byte for byte (its Host header included, so a signature made
    for the tap's address still verifies: moto checks the Host it receives)
    and the reply is passed back unchanged.  `exchanges` lists, per request,
    a dict with method, path, request_headers, status, reason, headers
    (lower-case names) and body (bytes) of the reply.
    """

    def __init__(self, upstream_url):
        parsed = urllib.parse.urlsplit(upstream_url)
        self.upstream = (parsed.hostname, parsed.port)
        self.exchanges = []
        tap = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                conn = http.client.HTTPConnection(*tap.upstream, timeout=30)
                try:
                    conn.putrequest(self.command, self.path, skip_host=True,
                                    skip_accept_encoding=True)
                    for name, value in self.headers.items():
                        if name.lower() not in ("connection", "keep-alive"):
                            conn.putheader(name, value)
                    conn.endheaders(body or None)
                    reply = conn.getresponse()
                    reply_body = reply.read()
                    reply_headers = reply.getheaders()
                finally:
                    conn.close()
                tap.exchanges.append({
                    "method": self.command, "path": self.path,
                    "request_headers": dict(self.headers.items()),
                    "status": reply.status, "reason": reply.reason,
                    "headers": {k.lower(): v for k, v in reply_headers},
                    "body": reply_body})
                self.send_response(reply.status, reply.reason)
                for name, value in reply_headers:
                    if name.lower() not in ("connection", "transfer-encoding",
                                            "content-length", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply_body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply_body)
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = relay

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = "http://127.0.0.1:{}".format(self._server.server_address[1])
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
