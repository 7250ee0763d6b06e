"""What the commands' parsers share: the parser class, and the option groups they reuse.

argparse only, so building a parser imports nothing heavy.  `Parser` raises
instead of printing usage and exiting, so every usage error goes through
`cli.main` like any other error.  The dest names of the options are the
setting names `settings.resolve` reads (project, region, timeout, ...).
"""

import argparse
import math

from bosky import errors


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message):
        raise errors.UsageError(reason="{} (see {} --help)".format(message, self.prog))


class Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, sized without `shutil` (Python 3.8+ imports it, and bz2 and
    lzma with it, every time a parser is built)."""

    def __init__(self, prog, **kwargs):
        kwargs.setdefault("width", _terminal_columns() - 2)  # as argparse does
        super(Formatter, self).__init__(prog, **kwargs)


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


def build_parser(command):
    """The parser of a command module (its USAGE, DESCRIPTION, EPILOG, add_arguments)."""
    name = command.NAME
    parser = Parser(prog="bosky" if name == "emit" else "bosky " + name, usage=command.USAGE,
                    description=command.DESCRIPTION, epilog=getattr(command, "EPILOG", None),
                    add_help=False, formatter_class=Formatter)
    command.add_arguments(parser)
    return parser


def parse_args(parser, argv):
    """Parse with options allowed after the message, as in `bosky "msg" --fail`.

    argparse gives later positional words back as extras (Python 3.6 has no
    parse_intermixed_args), so they are joined to the message here.
    """
    args, extras = parser.parse_known_args(argv)
    if hasattr(args, "forward"):  # bosky trap: the rest is for the bosky calls it writes
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


def add_common(parser, timeout_help="deadline for the whole run, retries included "
                                    "(default 30)"):
    """Options every command takes: the deadline, the config file, tracing, help."""
    run = parser.add_argument_group("run")
    run.add_argument("--timeout", metavar="SECONDS", help=timeout_help)
    run.add_argument("-c", "--config", metavar="PATH",
                     help="config file (default /etc/bosky/config, if present)")
    run.add_argument("--debug", action="store_true",
                     help="trace each step on stderr (never secrets)")
    run.add_argument("-h", "--help", action="store_true", help="show this help")


def add_delivery(parser):
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
                          help="print the EventId of what was delivered on stdout")


def add_aws(parser, endpoint_help="send to this URL instead", instance=True):
    aws = parser.add_argument_group("AWS")
    aws.add_argument("--region", help="default: $AWS_REGION, $AWS_DEFAULT_REGION, the "
                     "profile's region, IMDS")
    aws.add_argument("--endpoint-url", metavar="URL", help=endpoint_help)
    aws.add_argument("--profile", metavar="NAME",
                     help="AWS profile from ~/.aws/config and ~/.aws/credentials "
                          "(default: $AWS_PROFILE, else default)")
    if instance:
        aws.add_argument("--instance-id", metavar="ID|ARN",
                         help="skip the IMDS identity lookup (off EC2, for testing)")


def add_event(parser, lifecycle=True):
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
                       help="never spool: an undelivered event is not kept (a plain "
                            "event then exits 1; a step keeps its own status)")
    if lifecycle:
        add_lifecycle(parser)
    add_aws(parser)
    add_delivery(parser)
    add_common(parser)


def add_lifecycle(parser, hook_option=False, hook_required=False):
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


def parse_seconds(value, flag, low, high):
    """Seconds from `low` to `high` given as an option: inf would overflow a wait, nan or
    1e-300 would make a loop spin."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not math.isfinite(seconds) or not low <= seconds <= high:
        raise errors.UsageError(reason="{} {!r}: expected seconds from {:g} to {:g}".format(
            flag, value, low, high))
    return seconds
