"""Texts bosky prints for the user to keep: the IAM policy and the config template."""

import json

from bosky import config, events
from bosky.aws import endpoints

CONFIG_TEMPLATE = """\
# bosky configuration ({path})
# Precedence: flags > environment variables > this file > defaults.
# One `key = value` per line; lines starting with # are comments.

# The event's Source; EventBridge rules match it as "source".  Not "aws.*".
# project = my-service

# The event's detail-type (1-128 characters).
# detail_type = {detail_type}

# A custom event bus, by name or ARN; unset means the account's default bus.
# event_bus = boot-events

# The AWS region; unset means AWS_REGION, AWS_DEFAULT_REGION, the AWS
# profile's region, then the instance's own from the instance metadata service.
# region = us-east-1

# The AWS profile (from ~/.aws/config and ~/.aws/credentials) for credentials,
# region and endpoints; AWS_PROFILE overrides it.  Unset: environment keys,
# then the default profile, container and instance-profile credentials.
# profile = boot-reporter

# Send to this URL instead of events.<region>.amazonaws.com (for example a
# VPC interface endpoint without private DNS).
# endpoint_url = https://vpce-0123-abcd.events.us-east-1.vpce.amazonaws.com

# Seconds bosky may take in all, retries included, before it gives up
# (and spools the event for `bosky flush`).
# timeout = {timeout:g}

# Stop retrying after this many attempts (unset: retry until the timeout).
# max_attempts = 5

# Where undelivered events wait; unset means /var/spool/bosky when writable,
# else the user's state directory.
# spool_dir = /var/spool/bosky
"""


def config_template(path):
    return CONFIG_TEMPLATE.format(path=path, detail_type=config.DEFAULT_DETAIL_TYPE,
                                  timeout=config.DEFAULT_TIMEOUT)


def event_bus_arn(event_bus, region):
    """The bus ARN a policy should name; wildcards where bosky cannot know the value."""
    if event_bus and events.EVENT_BUS_ARN.match(event_bus):
        return event_bus
    partition = endpoints.partition_for_region(region)[0] if region else "aws"
    return "arn:{}:events:{}:*:event-bus/{}".format(partition, region or "*",
                                                    event_bus or "default")


def autoscaling_group_arn(group, region):
    partition = endpoints.partition_for_region(region)[0] if region else "aws"
    return "arn:{}:autoscaling:{}:*:autoScalingGroup:*:autoScalingGroupName/{}".format(
        partition, region or "*", group or "*")


def permissions_policy(settings):
    """The IAM policy bosky's features need, as pretty JSON text: one statement each."""
    statement = {
        "Sid": "BoskyPutEvents",
        "Effect": "Allow",
        "Action": "events:PutEvents",
        "Resource": event_bus_arn(settings.event_bus, settings.region),
    }
    if settings.origin["project"] != "default":
        # Lets the role send only this project's events (EventBridge condition key).
        statement["Condition"] = {"StringEquals": {"events:source": settings.project}}
    lifecycle = {
        "Sid": "BoskyLifecycleHooks",  # --complete-lifecycle, bosky lifecycle, bosky watch
        "Effect": "Allow",
        "Action": ["autoscaling:CompleteLifecycleAction",
                   "autoscaling:RecordLifecycleActionHeartbeat"],
        "Resource": autoscaling_group_arn(getattr(settings, "group", None), settings.region),
    }
    policy = {"Version": "2012-10-17", "Statement": [statement, lifecycle]}
    return json.dumps(policy, indent=2)


TRAP_SCRIPT = """\
# bosky trap: report this script's failures to EventBridge (eval "$(bosky trap)").
# Each failing command sends a fail event naming it, its line and exit status;
# reporting never changes how the script runs (--no-fail, || true).
__bosky_reported=0
__bosky_on_err() {{
  local rc=$? line=${{BASH_LINENO[0]:-$LINENO}} cmd=$BASH_COMMAND
  __bosky_reported=1
  {bosky} --no-fail --exit-code "$rc" --detail Line="$line" --detail FailedCommand="$cmd" \\
    --detail Script="$0"{extra} "${{0##*/}}: '$cmd' failed with exit status $rc at line $line" || true
  return "$rc"
}}
trap '__bosky_on_err' ERR
"""

TRAP_ON_EXIT = """\
# On exit: pass when the script ended with 0; fail if it ended otherwise unreported.
__bosky_on_exit() {{
  local rc=$?
  if [ "$rc" -eq 0 ]; then
    {bosky} --no-fail --pass --detail Script="$0"{extra} "${{0##*/}} finished" || true
  elif [ "$__bosky_reported" -eq 0 ]; then
    {bosky} --no-fail --exit-code "$rc" --detail Script="$0"{extra} \\
      "${{0##*/}} exited with status $rc" || true
  fi
}}
trap '__bosky_on_exit' EXIT
"""


def trap_script(bosky_command, extra_args, on_exit):
    """Bash that installs the traps; `bosky_command` and `extra_args` are shell-quoted."""
    import shlex
    extra = "".join(" " + shlex.quote(arg) for arg in extra_args)
    values = {"bosky": bosky_command, "extra": extra}
    return TRAP_SCRIPT.format(**values) + (TRAP_ON_EXIT.format(**values) if on_exit else "")
