"""Auto Scaling's lifecycle actions over the Query API, signature-checked."""

from urllib.parse import parse_qsl

from .base import TEST_KEY_ID, TEST_SECRET, StandIn, query_error
from .eventbridge import verify_sigv4

NAMESPACE = "http://autoscaling.amazonaws.com/doc/2011-01-01/"


class AutoScalingStandIn(StandIn):
    """CompleteLifecycleAction and RecordLifecycleActionHeartbeat.

    mode (every request) or script (one per request, then mode): "ok";
    "no-active" (400 ValidationError: No active Lifecycle Action found);
    "deny" (403 AccessDenied).  `calls` holds (action, form fields) as received.
    """

    def __init__(self, region="us-east-1", secrets=None):
        super().__init__()
        self.region, self.mode, self.script, self.calls = region, "ok", [], []
        self.secrets = secrets or {TEST_KEY_ID: TEST_SECRET}

    def respond(self, request):
        params = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        self.calls.append((params.get("Action"), params))
        if request.header("content-type") != "application/x-www-form-urlencoded; charset=utf-8":
            return query_error(400, "InvalidParameterValue", "bad Content-Type", NAMESPACE)
        problem = verify_sigv4(request, self.secrets, self.host)
        if problem:
            return query_error(403, problem[0], problem[1], NAMESPACE)
        scope = request.header("authorization").split("Credential=")[1].split(",")[0]
        if scope.split("/")[2:4] != [self.region, "autoscaling"]:
            return query_error(403, "SignatureDoesNotMatch", "wrong scope " + scope, NAMESPACE)
        mode = self.script.pop(0) if self.script else self.mode
        if mode == "no-active":
            return query_error(400, "ValidationError", "No active Lifecycle Action found with "
                               "instance ID " + params.get("InstanceId", "?"), NAMESPACE)
        if mode == "deny":
            return query_error(403, "AccessDenied", "User is not authorized to perform: "
                               "autoscaling:CompleteLifecycleAction", NAMESPACE)
        action = params.get("Action")
        body = ('<{0}Response xmlns="{1}"><{0}Result/><ResponseMetadata><RequestId>'
                "asg-req-1</RequestId></ResponseMetadata></{0}Response>").format(action, NAMESPACE)
        return 200, {"Content-Type": "text/xml"}, body.encode("utf-8")
