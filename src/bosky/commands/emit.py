"""`bosky [STATUS] [OPTIONS] MESSAGE`: send one event (the command when no other is named).

Also `--permissions` (the IAM policy), `--generate-config` (a commented config
file) and `--version`; with --complete-lifecycle HOOK the launch hook is
completed after the event, whether or not the event got through.
"""

from bosky import errors, events
from bosky.commands import options

NAME = "emit"
ENDPOINT_SERVICE = "events"
USAGE = "bosky [STATUS] [OPTIONS] MESSAGE"
MAX_STDIN_BYTES = events.MAX_ENTRY_BYTES + 1  # more cannot fit in an event: stop reading

DESCRIPTION = """\
Send a structured event about this instance's boot to Amazon EventBridge.

  bosky --fail "artifact download returned 404"
  bosky --pass --project web "user data finished"
  echo "details" | bosky --status degraded -

The event's Source is the project, its detail-type "User Data", and its
detail {"Status", "Message", "InstanceId", "EventUuid"}; Resources holds the
instance ARN.  Failed sends are retried until --timeout; an event that still
could not be sent for a transient reason is spooled (exit 75).
"""

EPILOG = """\
environment:
  BOSKY_PROJECT (or BOSKEY_PROJECT), BOSKY_DETAIL_TYPE, BOSKY_EVENT_BUS,
  BOSKY_INSTANCE_ID, BOSKY_TIMEOUT, BOSKY_SPOOL_DIR, AWS_MAX_ATTEMPTS
                                          defaults for the flags above
  AWS_REGION, AWS_DEFAULT_REGION          region (else the profile's, else the instance's)
  AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE
                                          the AWS profile and its files
  credentials, first found: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
  (+ AWS_SESSION_TOKEN); AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; the
  profile (keys, credential_process, role_arn); AWS_CONTAINER_CREDENTIALS_*;
  the instance profile (IMDS)
  AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL, AWS_USE_FIPS_ENDPOINT,
  AWS_USE_DUALSTACK_ENDPOINT, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS   endpoints
  AWS_EC2_METADATA_SERVICE_ENDPOINT(_MODE), AWS_EC2_METADATA_DISABLED,
  AWS_EC2_METADATA_V1_DISABLED, AWS_METADATA_SERVICE_TIMEOUT,
  AWS_METADATA_SERVICE_NUM_ATTEMPTS       IMDS
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY       proxy for AWS calls (never IMDS or containers)
  AWS_CA_BUNDLE                           a private CA for TLS inspection

exit status:
  0  EventBridge accepted the event
  1  not delivered (the error line says why and what to do)
  2  usage or validation error (nothing was sent)
  75 not delivered yet: spooled, `bosky flush` will send it
  (with --no-fail, 1 and 75 become 0; the error line is still printed)
"""


def help_description():
    """The main --help's description, with every command's line (imports them all)."""
    from bosky import commands
    lines = ["  {:<22}  {}".format(hint, summary) for hint, summary in commands.summaries()]
    return DESCRIPTION + "\n" + "\n".join(lines) + "\n  (each has its own --help)\n"


def add_arguments(parser):
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
    options.add_event(parser)
    info = parser.add_argument_group("information")
    info.add_argument("--permissions", action="store_true",
                      help="print the IAM policy bosky needs")
    info.add_argument("--bucket", dest="buckets", action="append", metavar="NAME",
                      help="with --permissions: add what bosky s3 cp and bootstrap need on "
                           "this bucket (repeatable)")
    info.add_argument("--generate-config", action="store_true",
                      help="print a commented config file")
    info.add_argument("--version", action="store_true", help="print the version")


def early(args, world):
    """--version and --generate-config need no settings (a broken config file included)."""
    if args.version:
        from bosky import __version__
        world.stdout.write("bosky {}\n".format(__version__))
        return errors.EXIT_OK
    if args.generate_config:
        from bosky import settings
        world.stdout.write(settings.config_template(args.config or
                                                    settings.DEFAULT_CONFIG_PATH))
        return errors.EXIT_OK
    return None


def run(args, session):
    if args.permissions:
        from bosky import policy
        session.world.stdout.write(policy.permissions_policy(session.settings) + "\n")
        return errors.EXIT_OK
    from bosky.report import EventSpec, Reporter
    exit_code = parse_exit_code(args.exit_code)
    status = events.sanitize_text(choose_status(args.statuses, exit_code))
    deadline = session.deadline()  # reading a message from standard input counts too
    message = events.sanitize_text(read_message(args.message, session.world.stdin, deadline))
    fields = {} if exit_code is None else {"ExitCode": exit_code}
    spec = EventSpec(status, message, fields)
    reporter = Reporter(session)
    hook = session.settings.complete_lifecycle
    if hook is None or args.dry_run:
        return reporter.send(spec, dry_run=args.dry_run, verbose=args.verbose,
                             deadline=deadline)
    from bosky import hooks
    result = hooks.result_for_status(spec.status)  # refused before anything is sent
    return send_then_complete(reporter, spec, result, verbose=args.verbose, deadline=deadline)


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


def read_message(words, stdin, deadline):
    if words == ["-"]:
        from bosky.system import read_input
        try:
            data = read_input(stdin, MAX_STDIN_BYTES, deadline) if stdin is not None else b""
        except TimeoutError:
            raise errors.UsageError(reason="the message on standard input did not end within "
                                           "--timeout ({:g} s); close it (is a background "
                                           "process holding it?), or give the message as an "
                                           "argument".format(deadline.total))
        if len(data) >= MAX_STDIN_BYTES:  # stop reading: it cannot fit in an event anyway
            raise errors.ValidationError(reason="the message on standard input is over {} "
                                                "bytes, EventBridge's limit for a whole "
                                                "event; shorten it".format(
                                                    events.MAX_ENTRY_BYTES))
        # Like $(...) in the shell: trailing newlines are how text ends, not content.
        return data.decode("utf-8", "replace").rstrip("\r\n")
    if not words:
        raise errors.UsageError(reason="missing MESSAGE: say what happened, e.g. "
                                       "bosky --fail \"artifact download returned 404\"")
    return " ".join(words)


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


def send_then_complete(reporter, spec, result, verbose=False, deadline=None):
    """Send the event, then complete the launch hook with `result`.

    The hook gates the instance whether or not the event got through, so an
    event failure is held until the hook is done, then raised (or printed, if
    the hook fails too and its error is the one raised).
    """
    from bosky import hooks
    session, event_error = reporter.session, None
    try:
        reporter.send(spec, verbose=verbose, deadline=deadline)
    except errors.BoskyError as exc:
        event_error = exc
    try:
        hooks.complete(session, session.settings.complete_lifecycle, result,
                       session.settings.group)
    except errors.BoskyError:
        if event_error is not None:
            session.world.error_line(errors.describe(event_error))
        raise
    if event_error is not None:
        raise event_error
    return errors.EXIT_OK
