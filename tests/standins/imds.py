"""IMDS as EC2 serves it (IMDSv2 tokens, v1 fallback, failure modes)."""

import json
import uuid

from .base import ROLE_NAME, TEST_KEY_ID, TEST_SECRET, StandIn

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
                 key_id=TEST_KEY_ID, secret=TEST_SECRET, token="IQoJb3JpZ2luX2VjEXAMPLE",
                 tags=None):
        super().__init__()
        self.mode = mode
        self.tokens = set()
        self.failing = {}  # path -> how many GETs of it answer 500 first (-1: all of them)
        self.paths = {
            "/latest/dynamic/instance-identity/document":
                json.dumps(document or identity_document()),
            "/latest/meta-data/services/partition": partition,
            "/latest/meta-data/local-hostname": "ip-10-0-0-12.ec2.internal",
        }
        # Tags are served only when the instance allows tag access in its metadata options.
        if tags is not None:
            self.paths["/latest/meta-data/tags/instance"] = "\n".join(sorted(tags))
            for key, value in tags.items():
                self.paths["/latest/meta-data/tags/instance/" + key] = value
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
        if self.failing.get(request.path):
            self.failing[request.path] -= 1
            return 500, {}, b"Internal Server Error"
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
