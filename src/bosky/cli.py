"""The command line: parsing, dispatch, and the one place errors become exit statuses.

`main` reads the environment once and passes a copy down; it is the only
place that catches `errors.BoskyError`.  Network modules are imported inside
the commands, so `--help` and `--version` stay fast (a test checks this).
"""

import argparse
import sys
import time

from bosky import __version__, errors
from bosky.helptext import (DESCRIPTION, DOCTOR_DESCRIPTION, DOCTOR_EPILOG, EPILOG,
                            FLUSH_DESCRIPTION, FLUSH_EPILOG)

class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message):
        raise errors.UsageError(reason=message + " (see bosky --help)")


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
    parser.add_argument("message", nargs="*", metavar="MESSAGE",
                        help="the message; - reads it from standard input")
    event = parser.add_argument_group("event")
    event.add_argument("--project", metavar="NAME", help="the event's Source "
                       "(default: $BOSKY_PROJECT, the config file, else 'unknown')")
    event.add_argument("--detail-type", metavar="TEXT", help="default 'User Data'")
    event.add_argument("--event-bus", metavar="NAME|ARN", help="default: the default bus")
    event.add_argument("--no-spool", action="store_true",
                       help="never spool: an undelivered event exits 1")
    event.add_argument("--dry-run", action="store_true",
                       help="print the request as JSON instead of sending it")
    _add_aws_options(parser)
    _add_delivery_options(parser)
    _add_common_options(parser)
    info = parser.add_argument_group("information")
    info.add_argument("--permissions", action="store_true",
                      help="print the IAM policy bosky needs")
    info.add_argument("--generate-config", action="store_true",
                      help="print a commented config file")
    info.add_argument("--version", action="store_true", help="print the version")


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
}


def build_parser(command="emit"):
    add, usage, description, epilog = SUBCOMMANDS.get(command, (
        "_add_emit", "bosky [STATUS] [OPTIONS] MESSAGE", DESCRIPTION, EPILOG))
    parser = _Parser(prog="bosky" if command == "emit" else "bosky " + command, usage=usage,
                     description=description, epilog=epilog, add_help=False,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    globals()[add](parser)
    return parser


def parse_args(parser, argv):
    """Parse with options allowed after the message, as in `bosky "msg" --fail`.

    argparse gives later positional words back as extras (Python 3.6 has no
    parse_intermixed_args), so they are joined to the message here.
    """
    args, extras = parser.parse_known_args(argv)
    unknown = [word for word in extras if word.startswith("-") and word != "-"]
    if unknown or (extras and not hasattr(args, "message")):
        parser.error("unrecognized arguments: " + " ".join(unknown or extras))
    if hasattr(args, "message"):
        args.message = list(args.message) + extras
    return args


def choose_status(statuses):
    chosen = sorted(set(statuses or ["info"]))
    if len(chosen) > 1:
        raise errors.UsageError(reason="choose one status, got {} (see bosky --help)".format(
            " and ".join(chosen)))
    return chosen[0]


def read_message(words, stdin):
    if words == ["-"]:
        data = stdin.buffer.read() if stdin is not None else b""
        # Like $(...) in the shell: trailing newlines are how text ends, not content.
        return data.decode("utf-8", "replace").rstrip("\r\n")
    if not words:
        raise errors.UsageError(reason="missing MESSAGE: say what happened, e.g. "
                                       "bosky --fail \"artifact download returned 404\"")
    return " ".join(words)


def read_config_file(path, explicit):
    """The config file's values; a missing default file is fine, a named one is not."""
    from bosky import config
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        if explicit:
            raise errors.ConfigFileError(path=path, reason="no such file (named by --config)")
        return {}
    except OSError as exc:
        raise errors.ConfigFileError(path=path, reason="cannot read it: {}; fix its "
                                     "permissions or pass --config".format(exc.strerror))
    return config.parse_config_text(text, path)


def load_settings(args, env):
    from bosky import config
    path = args.config or config.DEFAULT_CONFIG_PATH
    file_values = read_config_file(path, explicit=args.config is not None)
    flags = {name: getattr(args, name, None) for name in config.SOURCES}
    flags["no_spool"] = getattr(args, "no_spool", False)
    return config.resolve_settings(flags, env, file_values, path)


def make_deps(env, streams, debug, started):
    """The real outside world; `started` is time.monotonic() when main began."""
    import functools
    import os
    import random
    from bosky import system, transport, wiring
    _, stdout, stderr = streams

    def log(text):
        if debug:
            stderr.write("bosky: debug: [{:6.3f}s] {}\n".format(time.monotonic() - started,
                                                               text))

    def warn(text):
        stderr.write("bosky: warning: {}\n".format(text))

    send = functools.partial(transport.send, env=env)
    return wiring.Deps(env, send, time.time, time.monotonic, time.sleep, random.random,
                       system.random_uuid, os.geteuid(), stdout, log, warn,
                       age=lambda: system.read_process_age(started),
                       read_text=system.read_text_file,
                       home=system.home_directory(env, os.geteuid()),
                       run_process=system.run_process)


def cmd_emit(args, env, streams, started):
    stdin, stdout, _ = streams
    if args.version:
        stdout.write("bosky {}\n".format(__version__))
        return errors.EXIT_OK
    if args.generate_config:
        from bosky import config, templates
        stdout.write(templates.config_template(args.config or config.DEFAULT_CONFIG_PATH))
        return errors.EXIT_OK
    settings = load_settings(args, env)
    if args.permissions:
        from bosky import templates
        stdout.write(templates.permissions_policy(settings) + "\n")
        return errors.EXIT_OK
    from bosky import emit, events
    status = events.sanitize_text(choose_status(args.statuses))
    message = events.sanitize_text(read_message(args.message, stdin))
    settings.project = events.sanitize_text(settings.project)
    settings.detail_type = events.sanitize_text(settings.detail_type)
    deps = make_deps(env, streams, args.debug, started)
    return emit.emit(settings, status, message, deps, dry_run=args.dry_run,
                     verbose=args.verbose)


def cmd_flush(args, env, streams, started):
    from bosky import emit
    settings = load_settings(args, env)
    return emit.flush(settings, make_deps(env, streams, args.debug, started),
                      verbose=args.verbose)


def cmd_doctor(args, env, streams, started):
    from bosky import doctor
    settings = load_settings(args, env)
    return doctor.doctor(settings, make_deps(env, streams, args.debug, started))


COMMANDS = {"flush": cmd_flush, "doctor": cmd_doctor}


def main(argv=None, env=None, stdin=None, stdout=None, stderr=None):
    """Run bosky; return the exit status.  Arguments default to the real process's."""
    started = time.monotonic()
    import os
    argv = sys.argv[1:] if argv is None else argv
    env = dict(os.environ if env is None else env)
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    debug = "--debug" in argv
    command = argv[0] if argv and argv[0] in COMMANDS else "emit"
    args = None
    try:
        parser = build_parser(command)
        args = parse_args(parser, argv[1:] if command in COMMANDS else argv)
        if args.help:
            stdout.write(parser.format_help())
            return errors.EXIT_OK
        run = COMMANDS.get(command, cmd_emit)
        return run(args, env, (stdin, stdout, stderr), started)
    except errors.BoskyError as exc:
        stderr.write("bosky: {}: {}\n".format(exc.label, exc.message))
        return _unless_no_fail(args, exc.exit_status)
    except KeyboardInterrupt:
        stderr.write("bosky: interrupted; the event may not have been sent\n")
        return errors.EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line, unless --debug asks for the traceback
        if debug:
            import traceback
            traceback.print_exc(file=stderr)
        stderr.write("bosky: internal error: {}: {}; rerun with --debug and report it\n"
                     .format(exc.__class__.__name__, exc))
        return _unless_no_fail(args, errors.EXIT_NOT_DELIVERED)


def _unless_no_fail(args, status):
    """--no-fail: not delivered (1) or spooled (75) must never stop the user's script."""
    if getattr(args, "no_fail", False) and status in (errors.EXIT_NOT_DELIVERED,
                                                      errors.EXIT_TEMPFAIL):
        return errors.EXIT_OK
    return status
