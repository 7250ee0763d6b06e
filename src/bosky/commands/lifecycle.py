"""`bosky lifecycle {complete,heartbeat}`: the lifecycle action waiting for this instance."""

from bosky import errors
from bosky.commands import options

NAME = "lifecycle"
HINT = "bosky lifecycle complete"
SUMMARY = "complete (or heartbeat) an Auto Scaling lifecycle action"
ENDPOINT_SERVICE = "autoscaling"
SENDS_EVENTS = False
USAGE = "bosky lifecycle {complete,heartbeat} --hook NAME [OPTIONS]"
DESCRIPTION = """\
Complete (or heartbeat) the Auto Scaling lifecycle action waiting for this
instance: CompleteLifecycleAction / RecordLifecycleActionHeartbeat, signed
by bosky.  The group comes from --group, else the instance's
aws:autoscaling:groupName tag.  "No active Lifecycle Action found" is retried
until --timeout, since early in user data the hook may not be active yet.
--endpoint-url points at Auto Scaling (AWS_ENDPOINT_URL_AUTO_SCALING works too).
Exit status: 0 done, 1 not done (the error says why), 2 usage error.
"""


def add_arguments(parser):
    parser.add_argument("action", choices=("complete", "heartbeat"),
                        help="complete the action, or record a heartbeat that extends it")
    parser.add_argument("--result", choices=("CONTINUE", "ABANDON"), default="CONTINUE",
                        help="with complete: let the instance go on (default) or abandon it")
    parser.add_argument("--token", metavar="UUID",
                        help="the lifecycle action token (default: by instance ID)")
    options.add_lifecycle(parser, hook_option=True, hook_required=True)
    parser.add_argument("--max-attempts", metavar="N",
                        help="stop retrying after N attempts (default: until --timeout)")
    options.add_aws(parser, endpoint_help="send to this Auto Scaling URL instead")
    options.add_common(parser)


def run(args, session):
    from bosky import hooks
    if args.action == "complete":
        hooks.complete(session, args.hook, args.result, session.settings.group, args.token)
    else:
        hooks.heartbeat(session, args.hook, session.settings.group, args.token)
    return errors.EXIT_OK
