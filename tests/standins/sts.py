"""STS (AssumeRole, AssumeRoleWithWebIdentity) and the container credentials endpoint."""

import json
from urllib.parse import parse_qsl

from .base import TEST_KEY_ID, TEST_SECRET, StandIn, query_error
from .eventbridge import verify_sigv4

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
        return query_error(status, code, message, "https://sts.amazonaws.com/doc/2011-06-15/")

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
