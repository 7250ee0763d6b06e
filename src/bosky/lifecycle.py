"""Auto Scaling lifecycle hooks: complete or heartbeat the action waiting for this instance.

The group comes from --group, else the instance's `aws:autoscaling:groupName`
tag through IMDS.  Early in user data the launch hook may not be active yet,
so "No active Lifecycle Action found" is retried like a transient error
until the deadline; other errors follow the usual retry rules.
"""

from bosky import context, errors, retry
from bosky.aws import autoscaling, endpoints

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


def resolve_group(given, imds_client):
    if given:
        return given
    body = imds_client.get(context.GROUP_TAG_PATH, optional=True)
    group = body.decode("utf-8", "replace").strip() if body else ""
    if not group:
        raise errors.UsageError(reason="no Auto Scaling group: pass --group NAME (the instance's "
                                       "aws:autoscaling:groupName tag is not readable through "
                                       "IMDS: enable instance metadata tags, or the instance is "
                                       "not in a group)")
    return group


def classify(exc):
    return retry.TRANSIENT if autoscaling.is_not_active_yet(exc) else retry.classify(exc)


def call(reporter, action, hook, group=None, token=None, result=None):
    """Send one lifecycle action for this instance, with retries, under a fresh deadline."""
    autoscaling.check_hook(hook)
    autoscaling.check_token(token)
    run = reporter.new_run()
    where = reporter.instance(run)
    group = resolve_group(group, run.imds)
    url, origin = endpoints.resolve_url("autoscaling", where.region, run.deps.env,
                                        run.aws.profiles, run.aws.profile)
    params = autoscaling.action_params(action, hook, group, where.identity.instance_id, token,
                                       result)
    run.deps.log("{} for hook {} in group {} at {} (from {})".format(action, hook, group, url,
                                                                      origin))

    def attempt():
        signing = (run.sender.credentials(), where.region, autoscaling.SIGNING_NAME, run.now(),
                   run.deadline.timeout_for(CALL_TIMEOUT, "calling Auto Scaling"))
        autoscaling.send_action(run.send, url, params, signing)

    retry.call_with_retries(attempt, classify, run.deadline, run.deps.sleep, run.deps.random,
                            run.deps.log, run.settings.max_attempts)
    run.deps.log("{} {} done".format(action, result or ""))


def complete(reporter, hook, result, group=None, token=None):
    call(reporter, COMPLETE, hook, group, token, autoscaling.check_result(result))


def heartbeat(reporter, hook, group=None, token=None):
    call(reporter, HEARTBEAT, hook, group, token)
