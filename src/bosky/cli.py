"""The command line: the real world read once, dispatch, and the one place errors become
exit statuses.

`main` reads the environment and the streams once (a `system.World`), picks
the command from the registry (`bosky.commands`), parses its options, reads
bosky's config file and the AWS files, resolves the settings once
(`settings.resolve`), builds the process's one `Session` and runs the
command.  It is the only place that catches `errors.BoskyError`.  Network
modules are imported inside the commands, so `--help` and `--version` stay
fast (a test checks this).
"""

import sys
import time

from bosky import __version__, errors


def main(argv=None, env=None, stdin=None, stdout=None, stderr=None):
    """Run bosky; return the exit status.  Arguments default to the real process's."""
    started = time.monotonic()
    import os
    argv = sys.argv[1:] if argv is None else argv
    stdout = sys.stdout if stdout is None else stdout
    if argv == ["--version"]:  # the common case, answered before argparse is even loaded
        stdout.write("bosky {}\n".format(__version__))
        return errors.EXIT_OK
    from bosky.system import World
    world = World(dict(os.environ if env is None else env), sys.stdin if stdin is None
                  else stdin, stdout, sys.stderr if stderr is None else stderr, started,
                  debug="--debug" in argv)
    parsed = []  # the parsed args, once there are any (for --no-fail)
    previous = _stop_on_sigterm()
    try:
        return dispatch(argv, world, parsed)
    except errors.BoskyError as exc:
        world.error_line(errors.describe(exc))
        return _unless_no_fail(parsed, exc.exit_status)
    except (KeyboardInterrupt, errors.Terminated) as exc:
        spooled = getattr(exc, "spooled", None)
        world.error_line("bosky: {}; {}".format(
            "terminated (SIGTERM)" if isinstance(exc, errors.Terminated) else "interrupted",
            "the event is kept in {} and `bosky flush` will send it".format(spooled[-1])
            if spooled else getattr(parsed[1] if len(parsed) > 1 else None, "INTERRUPTED",
                                    "the event may not have been sent")))
        return 128 + exc.signal_number if isinstance(exc, errors.Terminated) else \
            errors.EXIT_INTERRUPTED
    except BrokenPipeError:  # our output was closed (| head): nothing more can be said
        _quiet_stdout()
        return errors.EXIT_NOT_DELIVERED
    except Exception as exc:  # a bug: one line, unless --debug asks for the traceback
        world.report(exc)
        return _unless_no_fail(parsed, errors.EXIT_NOT_DELIVERED)
    finally:
        _restore(previous)
        _flush_or_quiet(sys.stderr)


def dispatch(argv, world, parsed):
    """Parse the command line and run the command; `parsed` receives the args."""
    from bosky import commands
    from bosky.commands import options
    name = argv[0] if argv and argv[0] in commands.NAMES else commands.DEFAULT
    command = commands.load(name)
    parser = options.build_parser(command)
    words = argv[1:] if name != commands.DEFAULT else argv
    if wants_help(words):  # before parsing: required options must not block --help
        if hasattr(command, "help_description"):
            parser.description = command.help_description()
        world.stdout.write(parser.format_help())
        return errors.EXIT_OK
    args = options.parse_args(parser, words)
    parsed.extend((args, command))
    status = command.early(args, world) if hasattr(command, "early") else None
    if status is not None:
        return status
    world.log("bosky {} on Python {}, {}".format(__version__, sys.version.split()[0],
                                                 _loaded_from()))
    from bosky.session import Session
    return command.run(args, Session(load_settings(args, world, command), world))


def wants_help(words):
    """-h/--help among the options (not after --, where they belong to a wrapped command)."""
    options = words[:words.index("--")] if "--" in words else words
    return "-h" in options or "--help" in options


def load_settings(args, world, command):
    """Read bosky's config file and the AWS files (the I/O), then resolve, once."""
    from bosky import profiles, settings
    path = args.config or settings.DEFAULT_CONFIG_PATH
    file_values = read_config_file(path, explicit=args.config is not None)
    aws_files = profiles.load_profile_files(world.env, world.home, world.read_text)
    resolved = settings.resolve(vars(args), world.env, file_values, path, aws_files,
                                command.ENDPOINT_SERVICE, getattr(command, "SETTINGS", None),
                                getattr(command, "SENDS_EVENTS", True))
    world.log("AWS profile {} from {}{}".format(
        resolved.profile, resolved.origin["profile"],
        " (" + ", ".join(aws_files.sources) + ")" if aws_files.sources
        else " (no AWS config files)"))
    return resolved


def read_config_file(path, explicit):
    """The config file's values; a missing default file is fine, a named one is not."""
    from bosky import settings
    from bosky.system import read_regular_file
    try:
        text = read_regular_file(path, 1024 * 1024).decode("utf-8", "replace")
    except FileNotFoundError:
        if explicit:
            raise errors.ConfigFileError(path=path, reason="no such file (named by --config)")
        return {}
    except OSError as exc:
        raise errors.ConfigFileError(path=path, reason="cannot read it: {}; point --config "
                                     "at a readable file".format(exc.strerror))
    return settings.parse_config_text(text, path)


def _loaded_from():
    from bosky import loaded_from
    return loaded_from()


def _stop_on_sigterm():
    """SIGTERM ends the run like Ctrl-C does, so that pending events are spooled first."""
    import signal

    def terminate(number, frame):
        raise errors.Terminated(number)
    try:
        return signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (main called in-process, from a test)
        return None


def _restore(previous):
    if previous is not None:
        import signal
        signal.signal(signal.SIGTERM, previous)


def _quiet_stdout(stream=None):
    """Point stdout (or `stream`) at /dev/null so the interpreter's final flush cannot fail
    again (it would make the exit status 120)."""
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, (stream or sys.stdout).fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _flush_or_quiet(stream):
    """Flush a standard stream; one that is full or closed is quietened instead."""
    try:
        stream.flush()
    except (OSError, ValueError, AttributeError):
        _quiet_stdout(stream)


def _unless_no_fail(parsed, status):
    """--no-fail: not delivered (1) or spooled (75) must never stop the user's script."""
    args = parsed[0] if parsed else None
    if getattr(args, "no_fail", False) and status in (errors.EXIT_NOT_DELIVERED,
                                                      errors.EXIT_TEMPFAIL):
        return errors.EXIT_OK
    return status
