"""The command line's parsers: one `_add_<command>` per command, shared option groups.

argparse only, so building a parser imports nothing heavy; `cli` runs the
commands.  `_Parser` raises instead of printing usage and exiting, so every
usage error goes through `cli.main` like any other error.
"""

import argparse

from bosky import errors
from bosky.helptext import (BOOT_REPORT_DESCRIPTION, DESCRIPTION, DOCTOR_DESCRIPTION, DOCTOR_EPILOG, EPILOG,
                            FLUSH_DESCRIPTION, FLUSH_EPILOG, LIFECYCLE_DESCRIPTION,
                            RUN_DESCRIPTION, RUN_PARTS_DESCRIPTION, TRAP_DESCRIPTION,
                            WATCH_DESCRIPTION)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message):
        raise errors.UsageError(reason="{} (see {} --help)".format(message, self.prog))


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, sized without `shutil` (Python 3.8+ imports it, and bz2 and
    lzma with it, every time a parser is built: a tenth of an emit's start-up)."""

    def __init__(self, prog, **kwargs):
        kwargs.setdefault("width", _terminal_columns() - 2)  # as argparse does
        super(_Formatter, self).__init__(prog, **kwargs)


def _terminal_columns():
    """COLUMNS, else the terminal's width, else 80: what shutil.get_terminal_size gives."""
    import os
    import sys
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def _add_common_options(parser):
    """Options every command takes: the deadline, the config file, tracing, help."""
    run = parser.add_argument_group("run")
    run.add_argument("--timeout", metavar="SECONDS",
                     help="deadline for the whole run, retries included (default 30)")
    run.add_argument("-c", "--config", metavar="PATH",
                     help="config file (default /etc/bosky/config, if present)")
    run.add_argument("--debug", action="store_true",
                     help="trace each step on stderr (never secrets)")
    run.add_argument("-h", "--help", action="store_true", help="show this help")


def _add_delivery_options(parser):
    """Options of the commands that send: retry limit, spool, exit status, output."""
    delivery = parser.add_argument_group("delivery")
    delivery.add_argument("--max-attempts", metavar="N",
                          help="stop retrying after N attempts (default: until --timeout)")
    delivery.add_argument("--spool-dir", metavar="DIR",
                          help="where undelivered events wait (default /var/spool/bosky "
                               "if writable, else the user's state directory)")
    delivery.add_argument("--no-fail", action="store_true",
                          help="exit 0 even when not delivered (the error is still printed)")
    delivery.add_argument("--verbose", action="store_true",
                          help="print what was sent on stdout")


def _add_aws_options(parser):
    aws = parser.add_argument_group("AWS")
    aws.add_argument("--region", help="default: $AWS_REGION, $AWS_DEFAULT_REGION, the "
                     "profile's region, IMDS")
    aws.add_argument("--endpoint-url", metavar="URL", help="send to this URL instead")
    aws.add_argument("--profile", metavar="NAME",
                     help="AWS profile from ~/.aws/config and ~/.aws/credentials "
                          "(default: $AWS_PROFILE, else default)")
    aws.add_argument("--instance-id", metavar="ID|ARN",
                     help="skip the IMDS identity lookup (off EC2, for testing)")


def _add_event_options(parser, lifecycle=True):
    """What every event carries, for the commands that send events."""
    event = parser.add_argument_group("event")
    event.add_argument("--project", metavar="NAME", help="the event's Source "
                       "(default: $BOSKY_PROJECT, the config file, else 'unknown')")
    event.add_argument("--detail-type", metavar="TEXT", help="default 'User Data'")
    event.add_argument("--event-bus", metavar="NAME|ARN", help="default: the default bus")
    event.add_argument("--detail", dest="details", action="append", metavar="KEY=VALUE",
                       help="add a field to the event's detail (repeatable)")
    event.add_argument("--no-context", action="store_true",
                       help="leave the instance context (account, zone, type, tags, ...) out")
    event.add_argument("--no-spool", action="store_true",
                       help="never spool: an undelivered event exits 1")
    if lifecycle:
        _add_lifecycle_options(parser)
    _add_aws_options(parser)
    _add_delivery_options(parser)
    _add_common_options(parser)


def _add_lifecycle_options(parser, hook_option=False, hook_required=False):
    """--complete-lifecycle HOOK for the reporting commands, or --hook NAME for lifecycle/watch."""
    hooks = parser.add_argument_group("Auto Scaling lifecycle hook")
    if hook_option:
        hooks.add_argument("--hook", metavar="NAME", required=hook_required,
                           help="the lifecycle hook's name")
    else:
        hooks.add_argument("--complete-lifecycle", metavar="HOOK",
                           help="then complete this launch hook: CONTINUE on pass, ABANDON on "
                                "fail")
    hooks.add_argument("--group", metavar="NAME",
                       help="the Auto Scaling group (default: the instance's "
                            "aws:autoscaling:groupName tag, through IMDS)")


def _add_emit(parser):
    status = parser.add_argument_group("status (choose one; default --info)")
    status.add_argument("-p", "--pass", "--success", dest="statuses", action="append_const",
                        const="pass", help="the step succeeded")
    status.add_argument("-f", "--fail", dest="statuses", action="append_const", const="fail",
                        help="the step failed")
    status.add_argument("-i", "--info", dest="statuses", action="append_const", const="info",
                        help="informational (the default)")
    status.add_argument("-s", "--status", dest="statuses", action="append", metavar="NAME",
                        help="a custom status, e.g. degraded")
    status.add_argument("--exit-code", metavar="N",
                        help="pass when N is 0, else fail; N goes into the detail as ExitCode")
    parser.add_argument("message", nargs="*", metavar="MESSAGE",
                        help="the message; - reads it from standard input")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the request as JSON instead of sending it")
    _add_event_options(parser)
    info = parser.add_argument_group("information")
    info.add_argument("--permissions", action="store_true",
                      help="print the IAM policy bosky needs")
    info.add_argument("--generate-config", action="store_true",
                      help="print a commented config file")
    info.add_argument("--version", action="store_true", help="print the version")


def _add_run(parser):
    parser.add_argument("--name", metavar="STEP",
                        help="the step's name (default: the command's base name)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]",
                        help="the command to run")
    _add_event_options(parser)


def _add_run_parts(parser):
    parser.add_argument("--keep-going", action="store_true",
                        help="run every part even after one fails")
    parser.add_argument("directory", metavar="DIR", help="the directory of parts to run")
    _add_event_options(parser)


def _add_trap(parser):
    parser.add_argument("--on-exit", action="store_true",
                        help="also report pass when the script exits 0 (and fail when it "
                             "exits otherwise unreported)")
    parser.add_argument("--command", metavar="CMD",
                        help="how the traps call bosky (default: this interpreter and file)")
    parser.add_argument("-h", "--help", action="store_true", help="show this help")


def _add_lifecycle(parser):
    parser.add_argument("action", choices=("complete", "heartbeat"),
                        help="complete the action, or record a heartbeat that extends it")
    parser.add_argument("--result", choices=("CONTINUE", "ABANDON"), default="CONTINUE",
                        help="with complete: let the instance go on (default) or abandon it")
    parser.add_argument("--token", metavar="UUID",
                        help="the lifecycle action token (default: by instance ID)")
    _add_lifecycle_options(parser, hook_option=True, hook_required=True)
    parser.add_argument("--max-attempts", metavar="N",
                        help="stop retrying after N attempts (default: until --timeout)")
    _add_aws_options(parser)
    _add_common_options(parser)


def _add_watch(parser):
    watch = parser.add_argument_group("watch")
    watch.add_argument("--interval", metavar="SECONDS", type=float, default=5.0,
                       help="how often to ask IMDS (default 5)")
    watch.add_argument("--on-terminate", metavar="CMD",
                       help="a shell command to run on termination, reported like bosky run")
    watch.add_argument("--heartbeat-interval", metavar="SECONDS", type=float, default=120.0,
                       help="heartbeat the hook this often while CMD runs (default 120)")
    _add_lifecycle_options(parser, hook_option=True)
    _add_event_options(parser, lifecycle=False)


def _add_boot_report(parser):
    boot = parser.add_argument_group("boot report")
    boot.add_argument("--run-dir", metavar="DIR", default="/run/cloud-init",
                      help="where cloud-init writes status.json and result.json "
                           "(default /run/cloud-init)")
    boot.add_argument("--log", metavar="FILE", default="/var/log/cloud-init-output.log",
                      help="the output log whose tail a failure event carries")
    boot.add_argument("--wait", metavar="SECONDS", type=float, default=300.0,
                      help="how long to wait for cloud-init to finish (default 300)")
    boot.add_argument("--every-boot", action="store_true",
                      help="report every boot, not once per instance")
    boot.add_argument("--state-dir", metavar="DIR", default="/var/lib/bosky",
                      help="where the once-per-instance marker lives (default /var/lib/bosky)")
    _add_event_options(parser)


def _add_flush(parser):
    _add_delivery_options(parser)
    _add_common_options(parser)


def _add_doctor(parser):
    _add_aws_options(parser)
    _add_common_options(parser)


SUBCOMMANDS = {
    # name: (add options, usage, description, epilog)
    "flush": ("_add_flush", "bosky flush [OPTIONS]", FLUSH_DESCRIPTION, FLUSH_EPILOG),
    "doctor": ("_add_doctor", "bosky doctor [OPTIONS]", DOCTOR_DESCRIPTION, DOCTOR_EPILOG),
    "run": ("_add_run", "bosky run [--name STEP] [OPTIONS] -- COMMAND [ARGS...]",
            RUN_DESCRIPTION, None),
    "run-parts": ("_add_run_parts", "bosky run-parts [--keep-going] [OPTIONS] DIR",
                  RUN_PARTS_DESCRIPTION, None),
    "trap": ("_add_trap", "bosky trap [--on-exit] [BOSKY OPTIONS...]", TRAP_DESCRIPTION, None),
    "lifecycle": ("_add_lifecycle", "bosky lifecycle {complete,heartbeat} --hook NAME "
                  "[OPTIONS]", LIFECYCLE_DESCRIPTION, None),
    "watch": ("_add_watch", "bosky watch [--hook NAME] [--on-terminate CMD] [OPTIONS]",
              WATCH_DESCRIPTION, None),
    "boot-report": ("_add_boot_report", "bosky boot-report [--wait S] [OPTIONS]",
                    BOOT_REPORT_DESCRIPTION, None),
}


def build_parser(command="emit"):
    add, usage, description, epilog = SUBCOMMANDS.get(command, (
        "_add_emit", "bosky [STATUS] [OPTIONS] MESSAGE", DESCRIPTION, EPILOG))
    parser = _Parser(prog="bosky" if command == "emit" else "bosky " + command, usage=usage,
                     description=description, epilog=epilog, add_help=False,
                     formatter_class=_Formatter)
    globals()[add](parser)
    return parser


def parse_args(parser, argv):
    """Parse with options allowed after the message, as in `bosky "msg" --fail`.

    argparse gives later positional words back as extras (Python 3.6 has no
    parse_intermixed_args), so they are joined to the message here.
    """
    args, extras = parser.parse_known_args(argv)
    if hasattr(args, "on_exit"):  # bosky trap: the rest is for the bosky calls it writes
        args.forward = extras
        return args
    unknown = [word for word in extras if word.startswith("-") and word != "-"]
    if unknown or (extras and not hasattr(args, "message")):
        parser.error("unrecognized arguments: " + " ".join(unknown or extras))
    if hasattr(args, "message"):
        args.message = list(args.message) + extras
    if hasattr(args, "command"):
        args.command = args.command[1:] if args.command[:1] == ["--"] else args.command
    return args
