"""The command line: parsing, dispatch, and the one place errors become exit statuses.

`main` reads the environment once and passes a copy down; it is the only
place that catches `errors.BoskyError`.  Network modules are imported inside
the commands, so `--help` and `--version` stay fast (a test checks this).
"""

import sys
import time

from bosky import __version__, errors

def wants_help(words):
    """-h/--help among the options (not after --, where they belong to a wrapped command)."""
    options = words[:words.index("--")] if "--" in words else words
    return "-h" in options or "--help" in options


def choose_status(statuses, exit_code=None):
    """The one status the flags ask for; --exit-code N means pass for 0, else fail."""
    statuses = list(statuses or [])
    if exit_code is not None:
        statuses.append("pass" if exit_code == 0 else "fail")
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
        raise errors.ConfigFileError(path=path, reason="cannot read it: {}; point --config "
                                     "at a readable file".format(exc.strerror))
    return config.parse_config_text(text, path)


def load_settings(args, env):
    from bosky import config
    path = args.config or config.DEFAULT_CONFIG_PATH
    file_values = read_config_file(path, explicit=args.config is not None)
    flags = {name: getattr(args, name, None) for name in config.SOURCES}
    for name in ("no_spool", "no_context", "details", "complete_lifecycle", "group"):
        flags[name] = getattr(args, name, None)
    return config.resolve_settings(flags, env, file_values, path)


def make_deps(env, streams, debug, started):
    """The real outside world; `started` is time.monotonic() when main began."""
    import os
    from bosky import loaded_from, system, wiring
    _, stdout, stderr = streams

    def log(text):
        if debug:
            stderr.write("bosky: debug: [{:6.3f}s] {}\n".format(time.monotonic() - started,
                                                               text))

    log("bosky {} on Python {}, {}".format(__version__, sys.version.split()[0], loaded_from()))

    def warn(text):
        stderr.write("bosky: warning: {}\n".format(text))

    def error_line(line):
        stderr.write(line + "\n")

    transports = {}  # one per CA bundle: each keeps its openers and TLS contexts

    def send(method, url, headers, body, timeout, label, use_proxy=True, ca_bundle=None,
             hint=""):
        from bosky import transport  # urllib.request: only runs that send pay for it
        if ca_bundle not in transports:
            transports[ca_bundle] = transport.Transport(env, ca_bundle, log)
        return transports[ca_bundle].request(method, url, headers, body, timeout, label,
                                             direct=not use_proxy, hint=hint)
    return wiring.Deps(env, send, time.time, time.monotonic, time.sleep, system.random_fraction,
                       system.random_uuid, os.geteuid(), stdout, log, warn,
                       age=lambda: system.read_process_age(started),
                       read_text=system.read_text_file,
                       home=system.home_directory(env, os.geteuid()),
                       run_process=system.run_process, error_line=error_line, files=system)


def make_reporter(args, env, streams, started, **overrides):
    """The Reporter the event-sending commands share: settings from args, the real deps."""
    from bosky import emit
    settings = load_settings(args, env)
    settings.__dict__.update(overrides)
    return emit.Reporter(settings, make_deps(env, streams, args.debug, started))


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
    exit_code = parse_exit_code(args.exit_code)
    status = events.sanitize_text(choose_status(args.statuses, exit_code))
    message = events.sanitize_text(read_message(args.message, stdin))
    fields = {} if exit_code is None else {"ExitCode": exit_code}
    deps = make_deps(env, streams, args.debug, started)
    return emit.emit(settings, emit.EventSpec(status, message, fields), deps,
                     dry_run=args.dry_run, verbose=args.verbose)


def parse_exit_code(value):
    if value is None:
        return None
    try:
        code = int(value)
    except ValueError:
        code = -1
    if code < 0:
        raise errors.UsageError(reason="--exit-code {!r}: expected a whole number, 0 or more, "
                                       "such as $?".format(value))
    return code


def cmd_run(args, env, streams, started):
    from bosky import steps
    if not args.command:
        raise errors.UsageError(reason="bosky run: no command; e.g. bosky run -- make install")
    reporter = make_reporter(args, env, streams, started)
    status = steps.run_step(reporter, args.command, args.name).exit_status
    steps.complete_hook_quietly(reporter, status)
    return status


def cmd_run_parts(args, env, streams, started):
    from bosky import steps
    reporter = make_reporter(args, env, streams, started)
    status = steps.run_parts(reporter, args.directory, args.keep_going)
    steps.complete_hook_quietly(reporter, status)
    return status


def cmd_trap(args, env, streams, started):
    import os
    import shlex
    from bosky import templates
    command = args.command or "{} {}".format(shlex.quote(sys.executable),
                                             shlex.quote(os.path.abspath(sys.argv[0])))
    streams[1].write(templates.trap_script(command, args.forward, args.on_exit))
    return errors.EXIT_OK


def cmd_flush(args, env, streams, started):
    from bosky import backlog
    settings = load_settings(args, env)
    return backlog.flush_command(settings, make_deps(env, streams, args.debug, started),
                                 verbose=args.verbose)


def cmd_doctor(args, env, streams, started):
    from bosky import doctor
    settings = load_settings(args, env)
    return doctor.doctor(settings, make_deps(env, streams, args.debug, started))


def cmd_lifecycle(args, env, streams, started):
    from bosky import lifecycle
    reporter = make_reporter(args, env, streams, started, no_context=True)  # no event sent
    if args.action == "complete":
        lifecycle.complete(reporter, args.hook, args.result, args.group, args.token)
    else:
        lifecycle.heartbeat(reporter, args.hook, args.group, args.token)
    return errors.EXIT_OK


def cmd_watch(args, env, streams, started):
    from bosky import watch
    if args.interval <= 0 or args.heartbeat_interval <= 0:
        raise errors.UsageError(reason="--interval and --heartbeat-interval must be more than 0")
    reporter = make_reporter(args, env, streams, started)
    return watch.watch(reporter, args.interval, args.hook, args.on_terminate,
                       args.heartbeat_interval)


def cmd_boot_report(args, env, streams, started):
    from bosky import boot
    if args.wait < 0:
        raise errors.UsageError(reason="--wait must be 0 or more seconds")
    reporter = make_reporter(args, env, streams, started)
    return boot.boot_report_command(reporter, args.run_dir, args.log, args.wait,
                                    args.every_boot, args.state_dir)


COMMANDS = {"boot-report": cmd_boot_report, "flush": cmd_flush, "doctor": cmd_doctor, "run": cmd_run,
            "run-parts": cmd_run_parts, "trap": cmd_trap, "lifecycle": cmd_lifecycle,
            "watch": cmd_watch}


def main(argv=None, env=None, stdin=None, stdout=None, stderr=None):
    """Run bosky; return the exit status.  Arguments default to the real process's."""
    started = time.monotonic()
    import os
    argv = sys.argv[1:] if argv is None else argv
    env = dict(os.environ if env is None else env)
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    if argv == ["--version"]:  # the common case, answered before argparse is even loaded
        stdout.write("bosky {}\n".format(__version__))
        return errors.EXIT_OK
    debug = "--debug" in argv
    parsed = []  # the parsed args, once there are any (for --no-fail)
    try:
        return dispatch(argv, env, (stdin, stdout, stderr), started, parsed)
    except errors.BoskyError as exc:
        stderr.write(errors.describe(exc) + "\n")
        return _unless_no_fail(parsed, exc.exit_status)
    except KeyboardInterrupt:
        stderr.write("bosky: interrupted; the event may not have been sent\n")
        return errors.EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line, unless --debug asks for the traceback
        if debug:
            import traceback
            traceback.print_exc(file=stderr)
        stderr.write(errors.describe(exc) + "\n")
        return _unless_no_fail(parsed, errors.EXIT_NOT_DELIVERED)


def dispatch(argv, env, streams, started, parsed):
    """Parse the command line and run the command; `parsed` receives the args."""
    from bosky.parsers import build_parser, parse_args
    command = argv[0] if argv and argv[0] in COMMANDS else "emit"
    parser = build_parser(command)
    words = argv[1:] if command in COMMANDS else argv
    if wants_help(words):  # before parsing: required options must not block --help
        streams[1].write(parser.format_help())
        return errors.EXIT_OK
    args = parse_args(parser, words)
    parsed.append(args)
    if args.help:
        streams[1].write(parser.format_help())
        return errors.EXIT_OK
    return COMMANDS.get(command, cmd_emit)(args, env, streams, started)


def _unless_no_fail(parsed, status):
    """--no-fail: not delivered (1) or spooled (75) must never stop the user's script."""
    args = parsed[0] if parsed else None
    if getattr(args, "no_fail", False) and status in (errors.EXIT_NOT_DELIVERED,
                                                      errors.EXIT_TEMPFAIL):
        return errors.EXIT_OK
    return status
