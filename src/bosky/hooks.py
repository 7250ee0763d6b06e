"""Auto Scaling lifecycle hooks: complete or heartbeat the action waiting for this instance.

The group comes from --group, else the instance's `aws:autoscaling:groupName`
tag through IMDS.  Early in user data the launch hook may not be active yet,
so "No active Lifecycle Action found" is retried like a transient error
until the deadline; other errors follow the usual retry rules.  Every call
takes its own deadline and the session's instance, credentials and clock.
"""

from bosky import context, errors, retry
from bosky.aws import autoscaling

COMPLETE = "CompleteLifecycleAction"
HEARTBEAT = "RecordLifecycleActionHeartbeat"
CALL_TIMEOUT = 10.0


def result_for_status(status):
    """CONTINUE for pass, ABANDON for fail; other statuses cannot gate a hook."""
    result = {"pass": "CONTINUE", "fail": "ABANDON"}.get(status)
    if result is None:
        raise errors.UsageError(reason="--complete-lifecycle needs a pass or fail status (--pass, "
                                       "--fail or --exit-code), not {!r}".format(status))
    return result


def resolve_group(session, given, deadline):
    if given:
        return given
    body = session.imds.get(context.GROUP_TAG_PATH, deadline, optional=True)
    group = body.decode("utf-8", "replace").strip() if body else ""
    if not group:
        raise errors.UsageError(reason="no Auto Scaling group: pass --group NAME (the instance's "
                                       "aws:autoscaling:groupName tag is not readable through "
                                       "IMDS: enable instance metadata tags, or the instance is "
                                       "not in a group)")
    return group


def classify(exc):
    return retry.TRANSIENT if autoscaling.is_not_active_yet(exc) else retry.classify(exc)


def call(session, action, hook, group=None, token=None, result=None):
    """Send one lifecycle action for this instance, with retries, under a fresh deadline."""
    autoscaling.check_hook(hook)
    autoscaling.check_token(token)
    deadline = session.deadline()
    instance_id = session.identity(deadline).instance_id
    region, _ = session.region(deadline)
    group = resolve_group(session, group, deadline)
    url, origin = session.endpoint("autoscaling", region)
    params = autoscaling.action_params(action, hook, group, instance_id, token, result)
    session.log("{} for hook {} in group {} at {} (from {})".format(action, hook, group, url,
                                                                     origin))

    def attempt():
        signing = (session.credentials.get(deadline), region, autoscaling.SIGNING_NAME,
                   session.clock.utcnow(), deadline.timeout_for(CALL_TIMEOUT,
                                                                 "calling Auto Scaling"))
        autoscaling.send_action(session.http.request, url, params, signing)

    retry.call_with_retries(attempt, classify, deadline, session.clock.sleep,
                            session.world.random, session.log, session.settings.max_attempts,
                            recover=lambda kind, exc: session.recover(kind, exc, deadline))
    session.log("{} {} done".format(action, result or ""))


def complete(session, hook, result, group=None, token=None):
    call(session, COMPLETE, hook, group, token, autoscaling.check_result(result))


def heartbeat(session, hook, group=None, token=None):
    call(session, HEARTBEAT, hook, group, token)


def complete_quietly(session, exit_status, report_error):
    """--complete-lifecycle after run/run-parts/bootstrap: CONTINUE for 0, else ABANDON;
    an error is reported with `report_error`, the command's own exit status stands."""
    hook = session.settings.complete_lifecycle
    if not hook:
        return
    try:
        complete(session, hook, "CONTINUE" if exit_status == 0 else "ABANDON",
                 session.settings.group)
    except Exception as exc:  # noqa: BLE001 -- reported, never allowed to end the step
        report_error(exc)
