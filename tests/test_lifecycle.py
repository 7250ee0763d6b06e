"""Lifecycle hooks and the termination watcher, through the built .pyz."""

import signal
import subprocess
import sys
import threading

import pytest

import standins
from conftest import base_env, run_pyz, wait_until
from test_e2e import ENV_KEYS, INSTANCE

TARGET_STATE = "/latest/meta-data/autoscaling/target-lifecycle-state"
SPOT_ACTION = "/latest/meta-data/spot/instance-action"
GROUP_TAGS = {"aws:autoscaling:groupName": "web-asg"}


@pytest.fixture
def asg():
    server = standins.AutoScalingStandIn().start()
    yield server
    server.stop()


def env_for(asg, eventbridge=None, imds_url=None, **extra):
    merged = dict(ENV_KEYS, AWS_REGION="us-east-1", AWS_ENDPOINT_URL_AUTO_SCALING=asg.url)
    if eventbridge is not None:
        merged["AWS_ENDPOINT_URL_EVENTBRIDGE"] = eventbridge.url
    merged.update(extra)
    return base_env(imds_url, **merged)


def lifecycle(pyz, asg, *args, **env):
    return run_pyz(pyz, ["lifecycle"] + list(args), env_for(asg, **env))


def test_complete_sends_the_exact_form_fields_signed_for_autoscaling(pyz, asg):
    result = lifecycle(pyz, asg, "complete", "--hook", "boot-gate", "--group", "web-asg",
                       "--instance-id", INSTANCE)
    assert result.returncode == 0, result.stderr
    assert asg.calls == [("CompleteLifecycleAction", {
        "Action": "CompleteLifecycleAction", "Version": "2011-01-01",
        "LifecycleHookName": "boot-gate", "AutoScalingGroupName": "web-asg",
        "LifecycleActionResult": "CONTINUE", "InstanceId": INSTANCE})]
    scope = asg.requests[0].header("authorization").split("Credential=")[1].split(",")[0]
    assert scope.split("/")[2:] == ["us-east-1", "autoscaling", "aws4_request"]


def test_heartbeat_with_a_token_sends_no_result(pyz, asg):
    token = "bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635"
    result = lifecycle(pyz, asg, "heartbeat", "--hook", "drain", "--group", "g", "--token",
                       token, "--instance-id", INSTANCE)
    assert result.returncode == 0, result.stderr
    [(action, params)] = asg.calls
    assert action == "RecordLifecycleActionHeartbeat"
    assert params["LifecycleActionToken"] == token and "LifecycleActionResult" not in params


def test_the_group_comes_from_the_instance_tags(pyz, asg):
    imds = standins.ImdsStandIn(tags=GROUP_TAGS).start()
    try:
        result = lifecycle(pyz, asg, "complete", "--hook", "boot-gate", "--result", "ABANDON",
                           imds_url=imds.url)
    finally:
        imds.stop()
    assert result.returncode == 0, result.stderr
    params = asg.calls[0][1]
    assert params["AutoScalingGroupName"] == "web-asg"
    assert params["LifecycleActionResult"] == "ABANDON" and params["InstanceId"] == INSTANCE


def test_no_group_and_no_tag_access_says_to_pass_group(pyz, asg, imds_server):
    result = lifecycle(pyz, asg, "complete", "--hook", "boot-gate", imds_url=imds_server.url)
    assert result.returncode == 2 and "pass --group NAME" in result.stderr.decode()
    assert asg.calls == []


def test_no_active_lifecycle_action_is_retried_until_the_hook_is_active(pyz, asg):
    asg.script = ["no-active", "no-active"]
    result = lifecycle(pyz, asg, "complete", "--hook", "boot-gate", "--group", "g",
                       "--instance-id", INSTANCE)
    assert result.returncode == 0, result.stderr
    assert len(asg.calls) == 3


def test_no_active_lifecycle_action_gives_up_at_the_deadline(pyz, asg):
    asg.mode = "no-active"
    result = lifecycle(pyz, asg, "complete", "--hook", "boot-gate", "--group", "g",
                       "--instance-id", INSTANCE, "--timeout", "1.5")
    assert result.returncode == 1
    assert "No active Lifecycle Action found" in result.stderr.decode()
    assert len(asg.calls) >= 2


def test_access_denied_names_the_missing_iam_action(pyz, asg):
    asg.mode = "deny"
    result = lifecycle(pyz, asg, "complete", "--hook", "h", "--group", "g",
                       "--instance-id", INSTANCE)
    assert result.returncode == 1 and len(asg.calls) == 1
    assert "autoscaling:CompleteLifecycleAction" in result.stderr.decode().splitlines()[-1]


@pytest.mark.parametrize("args,expected", [
    (["complete", "--hook", "bad hook!", "--group", "g"], "invalid lifecycle hook name"),
    (["complete", "--hook", "h", "--group", "g", "--token", "nope"], "36-character UUID"),
    (["complete", "--hook", "h", "--result", "MAYBE"], "invalid choice"),
    (["complete", "--group", "g"], "--hook"),
])
def test_bad_lifecycle_input_is_a_usage_error(pyz, asg, args, expected):
    result = lifecycle(pyz, asg, *(args + ["--instance-id", INSTANCE]))
    assert result.returncode == 2 and expected in result.stderr.decode()
    assert asg.calls == []


# -- --complete-lifecycle on events and steps ------------------------------------------

@pytest.mark.parametrize("status,result", [("--pass", "CONTINUE"), ("--fail", "ABANDON")])
def test_an_event_then_completes_the_launch_hook(pyz, asg, eventbridge, status, result):
    run = run_pyz(pyz, [status, "user data done", "--complete-lifecycle", "boot-gate",
                        "--group", "web-asg", "--instance-id", INSTANCE],
                  env_for(asg, eventbridge))
    assert run.returncode == 0, run.stderr
    assert len(eventbridge.accepted) == 1
    assert asg.calls[0][1]["LifecycleActionResult"] == result


def test_complete_lifecycle_needs_pass_or_fail(pyz, asg, eventbridge):
    run = run_pyz(pyz, ["--info", "x", "--complete-lifecycle", "boot-gate", "--group", "g",
                        "--instance-id", INSTANCE], env_for(asg, eventbridge))
    assert run.returncode == 2 and "needs a pass or fail status" in run.stderr.decode()
    assert eventbridge.requests == [] and asg.calls == []


def test_the_hook_is_completed_even_when_the_event_is_not_delivered(pyz, asg, eventbridge):
    eventbridge.mode = "error"
    run = run_pyz(pyz, ["--fail", "x", "--complete-lifecycle", "boot-gate", "--group", "g",
                        "--instance-id", INSTANCE], env_for(asg, eventbridge))
    assert run.returncode == 1 and "AccessDeniedException" in run.stderr.decode()
    assert asg.calls[0][1]["LifecycleActionResult"] == "ABANDON"


def test_run_abandons_the_launch_hook_when_the_command_fails(pyz, asg, eventbridge):
    run = run_pyz(pyz, ["run", "--complete-lifecycle", "boot-gate", "--group", "g",
                        "--instance-id", INSTANCE, "--", "sh", "-c", "exit 6"],
                  env_for(asg, eventbridge))
    assert run.returncode == 6
    assert asg.calls[0][1]["LifecycleActionResult"] == "ABANDON"


# -- bosky watch ------------------------------------------------------------------------

def start_watch(pyz, asg, eventbridge, imds, *args, s3_url=None):
    command = [sys.executable, pyz, "watch", "--interval", "0.1"] + list(args)
    env = env_for(asg, eventbridge, imds.url, AWS_ACCESS_KEY_ID=None,
                  AWS_SECRET_ACCESS_KEY=None, AWS_ENDPOINT_URL_S3=s3_url)
    env.pop("AWS_ACCESS_KEY_ID", None)
    env.pop("AWS_SECRET_ACCESS_KEY", None)
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def later(seconds, action):
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def statuses(eventbridge):
    return [item["detail"]["Status"] for item in eventbridge.accepted]


def test_watch_handles_an_auto_scaling_termination(pyz, asg, eventbridge):
    imds = standins.ImdsStandIn(tags=GROUP_TAGS).start()
    imds.paths[TARGET_STATE] = "InService"
    try:
        proc = start_watch(pyz, asg, eventbridge, imds, "--hook", "drain", "--on-terminate",
                           "echo shipping logs; sleep 1.2", "--heartbeat-interval", "0.4")
        later(0.8, lambda: imds.paths.__setitem__(TARGET_STATE, "Terminated"))
        out, err = proc.communicate(timeout=60)
    finally:
        imds.stop()
    assert proc.returncode == 0, err
    assert out == b"shipping logs\n"
    assert sorted(statuses(eventbridge)) == ["pass", "start", "terminating"]
    actions = [action for action, _ in asg.calls]
    assert actions[-1] == "CompleteLifecycleAction" and "RecordLifecycleActionHeartbeat" in actions
    assert asg.calls[-1][1]["LifecycleActionResult"] == "CONTINUE"
    assert asg.calls[-1][1]["AutoScalingGroupName"] == "web-asg"


def test_watch_handles_a_spot_interruption_notice(pyz, asg, eventbridge):
    imds = standins.ImdsStandIn().start()
    try:
        proc = start_watch(pyz, asg, eventbridge, imds)
        later(0.5, lambda: imds.paths.__setitem__(
            SPOT_ACTION, '{"action": "terminate", "time": "2026-11-21T10:02:00Z"}'))
        proc.communicate(timeout=60)
    finally:
        imds.stop()
    assert proc.returncode == 0
    [event] = [item["detail"] for item in eventbridge.accepted]
    assert event["Status"] == "terminating"
    assert event["Message"] == "spot interruption: terminate at 2026-11-21T10:02:00Z"
    assert asg.calls == []  # no --hook: nothing to complete


def test_watch_survives_token_expiry_and_imds_hiccups(pyz, asg, eventbridge):
    imds = standins.ImdsStandIn().start()
    try:
        proc = start_watch(pyz, asg, eventbridge, imds)
        later(0.4, imds.tokens.clear)                              # every token expires
        later(0.7, lambda: setattr(imds, "mode", "disabled"))      # IMDS refuses for a while
        later(1.1, lambda: setattr(imds, "mode", "v2"))
        later(1.5, lambda: imds.paths.__setitem__(TARGET_STATE, "Terminated"))
        proc.communicate(timeout=60)
    finally:
        imds.stop()
    assert proc.returncode == 0
    assert statuses(eventbridge) == ["terminating"]
    assert sum(1 for r in imds.requests if r.method == "PUT") >= 2  # a new token was fetched


def test_sigterm_ends_the_watch_cleanly(pyz, asg, eventbridge, imds_server):
    proc = start_watch(pyz, asg, eventbridge, imds_server)
    # Watching (its handlers set) once it has polled IMDS.
    wait_until(lambda: any(r.path.endswith(TARGET_STATE) for r in imds_server.requests),
               "the watch's first poll")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 0 and eventbridge.requests == [] and asg.calls == []


@pytest.mark.parametrize("script,sha256,ran", [
    (b"#!/bin/sh\necho shipped from the bucket\n", "right", True),
    (b"echo no shebang, run by sh\n", None, True),
    (b"#!/bin/sh\necho tampered\n", "wrong", False),
])
def test_watch_fetches_its_s3_script_when_termination_starts(pyz, asg, eventbridge, script,
                                                             sha256, ran):
    import hashlib
    bucket = standins.S3StandIn().start()
    imds = standins.ImdsStandIn(tags=GROUP_TAGS).start()
    imds.paths[TARGET_STATE] = "InService"
    bucket.objects[("ops", "on-terminate.sh")] = b"#!/bin/sh\necho old version\n"
    digest = hashlib.sha256(script if sha256 == "right" else b"other").hexdigest()
    extra = ["--on-terminate-sha256", digest] if sha256 else []
    try:
        proc = start_watch(pyz, asg, eventbridge, imds, "--hook", "drain", "--on-terminate",
                           "s3://ops/on-terminate.sh", *extra, s3_url=bucket.url)
        # Changed in the bucket once the watch is polling: the version fetched at
        # termination is the one that runs (the seed's daemon works this way).
        wait_until(lambda: any(r.path.endswith(TARGET_STATE) for r in imds.requests),
                   "the watch's first poll")
        bucket.objects[("ops", "on-terminate.sh")] = script
        imds.paths[TARGET_STATE] = "Terminated"
        out, err = proc.communicate(timeout=60)
    finally:
        imds.stop()
        bucket.stop()
    assert proc.returncode == 0, err
    assert out == (script.splitlines()[-1].split(b"echo ")[1] + b"\n" if ran else b"")
    assert statuses(eventbridge) == (["terminating", "start", "pass"] if ran else
                                     ["terminating", "fail"])
    assert asg.calls[-1][1]["LifecycleActionResult"] == "CONTINUE"  # termination goes on


@pytest.mark.parametrize("trouble", ["bucket-keeps-moving"])
def test_watch_completes_the_hook_whatever_breaks_the_s3_fetch(pyz, asg, eventbridge, trouble):
    bucket = standins.S3StandIn().start()
    imds = standins.ImdsStandIn(tags=GROUP_TAGS).start()
    imds.paths[TARGET_STATE] = "InService"
    bucket.objects[("ops", "on-terminate.sh")] = b"#!/bin/sh\necho never\n"
    if trouble == "bucket-keeps-moving":
        bucket.lie = lambda request, reply: (301, {"x-amz-bucket-region": "us-west-2" if (
            "us-east-1" in request.header("authorization")) else "us-east-1"}, b"")
    try:
        command = [sys.executable, pyz, "watch", "--interval", "0.1", "--hook", "drain",
                   "--on-terminate", "s3://ops/on-terminate.sh"]
        env = env_for(asg, eventbridge, imds.url, AWS_ENDPOINT_URL_S3=bucket.url)
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        later(0.5, lambda: imds.paths.__setitem__(TARGET_STATE, "Terminated"))
        out, err = proc.communicate(timeout=60)
    finally:
        imds.stop()
        bucket.stop()
    assert out == b"" and b"Traceback" not in err
    assert statuses(eventbridge) == ["terminating", "fail"]
    assert asg.calls[-1][1]["LifecycleActionResult"] == "CONTINUE"  # termination goes on
