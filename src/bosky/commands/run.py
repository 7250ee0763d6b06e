"""`bosky run -- COMMAND [ARGS...]`: run one command as a reported step."""

import argparse

from bosky import errors
from bosky.commands import options

NAME = "run"
HINT = "bosky run -- CMD..."
SUMMARY = "run a command as a reported step (start, then pass or fail)"
ENDPOINT_SERVICE = "events"
USAGE = "bosky run [--name STEP] [OPTIONS] -- COMMAND [ARGS...]"
DESCRIPTION = """\
Run COMMAND as a reported step: a start event, then pass or fail with Step,
ExitCode, DurationSeconds, Command and OutputTail (the last 4 KiB of its
output, cut further if needed to fit EventBridge's limit).  Output is shown
live; SIGINT, SIGTERM and SIGHUP are passed on while it runs.  The command
runs even if the start event cannot be delivered, and the finish event never
goes out before the start event.  A background process the command leaves
writing to the output does not hold bosky: its output is relayed, bosky
moves on.  Exit status: the command's own (128+N if signal N killed it, 127
if it could not be started).
"""


def add_arguments(parser):
    parser.add_argument("--name", metavar="STEP",
                        help="the step's name (default: the command's base name)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]",
                        help="the command to run")
    options.add_event(parser)


def run(args, session):
    from bosky import hooks, steps
    from bosky.report import Reporter
    if not args.command:
        raise errors.UsageError(reason="bosky run: no command; e.g. bosky run -- make install")
    reporter = Reporter(session)
    status = steps.run_step(reporter, args.command, args.name).exit_status
    hooks.complete_quietly(session, status, lambda exc: steps.report_error(session.world, exc))
    return status
