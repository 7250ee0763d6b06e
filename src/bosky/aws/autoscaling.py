"""Amazon EC2 Auto Scaling lifecycle actions over the Query API.

Wire facts (botocore model autoscaling/2011-01-01, AWS-NOTES 7): Version
2011-01-01, SigV4 service `autoscaling`; CompleteLifecycleAction takes
LifecycleHookName, AutoScalingGroupName, LifecycleActionResult (CONTINUE or
ABANDON), and LifecycleActionToken and/or InstanceId;
RecordLifecycleActionHeartbeat takes the same less the result.  Success is an
XML reply with a RequestId; errors use the Query error shape.
"""

import re

from bosky import errors
from bosky.aws import query

API_VERSION = "2011-01-01"
SIGNING_NAME = "autoscaling"
RESULTS = ("CONTINUE", "ABANDON")
HOOK_NAME = re.compile(r"^[A-Za-z0-9\-_/]{1,255}$")
TOKEN = re.compile(r"^[0-9A-Fa-f-]{36}$")
NO_ACTIVE_ACTION = "No active Lifecycle Action found"

ERROR_HINTS = {
    "AccessDenied": "the role needs autoscaling:CompleteLifecycleAction and "
                    "autoscaling:RecordLifecycleActionHeartbeat (see bosky --permissions)",
    "AccessDeniedException": "the role needs autoscaling:CompleteLifecycleAction and "
                             "autoscaling:RecordLifecycleActionHeartbeat (see bosky --permissions)",
    "ValidationError": "check --hook, --group and the instance: the hook must be attached to "
                       "the group and waiting for this instance",
    "InvalidClientTokenId": "the access key is not valid; check the credentials",
}


def check_hook(hook):
    if not HOOK_NAME.match(hook or ""):
        raise errors.ValidationError(reason="invalid lifecycle hook name {!r}: 1 to 255 letters, "
                                            "digits, - _ /".format(hook))
    return hook


def check_result(result):
    if result not in RESULTS:
        raise errors.ValidationError(reason="invalid lifecycle result {!r}: CONTINUE or "
                                            "ABANDON".format(result))
    return result


def check_token(token):
    if token is not None and not TOKEN.match(token):
        raise errors.ValidationError(reason="invalid lifecycle action token {!r}: a 36-character "
                                            "UUID".format(token))
    return token


def action_params(action, hook, group, instance_id, token=None, result=None):
    """The form fields of CompleteLifecycleAction / RecordLifecycleActionHeartbeat."""
    params = [("Action", action), ("Version", API_VERSION), ("LifecycleHookName", hook),
              ("AutoScalingGroupName", group)]
    if token:
        params.append(("LifecycleActionToken", token))
    if result:
        params.append(("LifecycleActionResult", result))
    if instance_id:
        params.append(("InstanceId", instance_id))
    return params


def is_not_active_yet(exc):
    """The hook has no action waiting for this instance (yet, in early user data)."""
    return isinstance(exc, errors.ServiceError) and \
        NO_ACTIVE_ACTION.lower() in exc.fields["detail"].lower()


def send_action(send, url, params, signing):
    """Send one lifecycle action; raises ServiceError for an error reply."""
    query.call(send, url, params, "Auto Scaling " + dict(params)["Action"], ERROR_HINTS, signing)
