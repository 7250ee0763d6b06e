"""The error tree and the exit statuses it maps to.

Every failure bosky expects is one of these classes.  Each carries a message
template and the fields it was raised with, so the text is consistent and the
fields stay available to tests.  `describe` makes the one stderr line for any
problem; `cli.main` prints it and returns `exit_status`.
"""

EXIT_OK = 0
EXIT_NOT_DELIVERED = 1
EXIT_USAGE = 2
EXIT_TEMPFAIL = 75      # EX_TEMPFAIL: spooled, `bosky flush` will deliver it
EXIT_INTERRUPTED = 130


_NEVER_SHOWN = set()


def never_show(*secrets):
    """Texts no message may carry, even when a server echoes them back (a proxy's
    password and its Basic credential, a session token): each becomes ****."""
    _NEVER_SHOWN.update(secret for secret in secrets if isinstance(secret, str) and
                        len(secret) >= 4)


def redact(text):
    for secret in _NEVER_SHOWN:
        if secret in text:
            text = text.replace(secret, "****")
    return text


class BoskyError(Exception):
    """Base class: the event was not delivered."""

    fmt = "{reason}"
    exit_status = EXIT_NOT_DELIVERED
    label = "error"   # cli.main prints "bosky: <label>: <message>"

    def __init__(self, **fields):
        self.fields = fields
        super().__init__(redact(self.fmt.format(**fields)))

    @property
    def message(self):
        return str(self)


# -- exit 2: the input is wrong; retrying the same command cannot help ------


class UsageError(BoskyError):
    """A command-line problem argparse could not catch by itself."""

    exit_status = EXIT_USAGE


class ConfigFileError(BoskyError):
    fmt = "{path}: {reason}"
    exit_status = EXIT_USAGE


class ValidationError(BoskyError):
    """A value bosky or EventBridge would refuse (size, format, reserved names)."""

    exit_status = EXIT_USAGE


class PartialCredentialsError(BoskyError):
    fmt = ("{present} is set but {missing} is not; set both, or unset {present} "
           "to use the instance profile")
    exit_status = EXIT_USAGE


# -- exit 1: the environment or the service stopped delivery -----------------


class NoCredentialsError(BoskyError):
    fmt = ("no AWS credentials: {reason}; attach an instance profile with "
           "events:PutEvents (see bosky --permissions), or set "
           "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


class CredentialsError(BoskyError):
    """A configured credential source is there but did not give credentials."""

    fmt = "credentials from {source}: {reason}"


class ImdsError(BoskyError):
    """The instance metadata service could not answer what bosky needs."""

    fmt = "instance metadata: {reason}"


class TransportError(BoskyError):
    """A request got no HTTP reply.

    `phase` is "connect" when the request cannot have reached the server, and
    "read" when it was sent but the reply never came (it may have been
    received), which later retry logic must treat differently.
    """

    fmt = "{what}: {reason} ({url}){hint_text}"

    def __init__(self, what, phase, reason, url, hint="", retryable=True):
        super().__init__(what=what, phase=phase, reason=reason, url=url,
                         retryable=retryable, hint_text="; " + hint if hint else "")


def _reply_suffixes(request_id, hint):
    """The optional " (request id X)" and "; hint" parts of a reply error."""
    return {
        "request_id": request_id, "hint": hint,
        "request_id_text": " (request id {})".format(request_id) if request_id else "",
        "hint_text": "; {}".format(hint) if hint else "",
    }


class ServiceError(BoskyError):
    """AWS answered the request with an error reply."""

    fmt = ("{service} rejected the request: {code}: {detail}"
           "{request_id_text}{hint_text}")

    def __init__(self, service, code, detail, request_id="", hint="", status=0,
                 server_date=""):
        # server_date: the reply's Date header, from which clock skew is measured.
        super().__init__(service=service, code=code, detail=detail, status=status,
                         server_date=server_date, **_reply_suffixes(request_id, hint))


class EntryFailedError(BoskyError):
    """PutEvents answered 200 but did not accept the entry."""

    fmt = ("EventBridge did not accept the event: {code}: {detail}"
           "{request_id_text}{hint_text}")

    def __init__(self, code, detail, request_id="", hint=""):
        super().__init__(code=code, detail=detail, **_reply_suffixes(request_id, hint))


class UnexpectedReplyError(BoskyError):
    fmt = "{service} sent a reply bosky cannot read ({reason}){request_id_text}; {outcome}"

    def __init__(self, service, reason, request_id="",
                 outcome="the event may not have been delivered"):
        super().__init__(service=service, reason=reason, outcome=outcome,
                         **_reply_suffixes(request_id, ""))


class SpooledError(BoskyError):
    """Not delivered in time for a transient reason; kept in the spool for `bosky flush`."""

    label = "spooled"
    fmt = ("not delivered after {attempts} attempt(s): {reason}; the event is kept in "
           "{path} and `bosky flush` will send it")
    exit_status = EXIT_TEMPFAIL


class NotDeliveredError(BoskyError):
    fmt = ("not delivered after {attempts} attempt(s): {reason}; not spooled "
           "(--no-spool)")


class FlushIncompleteError(BoskyError):
    label = "spooled"
    fmt = ("{remaining} event(s) are still spooled in {path} ({reason}); "
           "run bosky flush again later")
    exit_status = EXIT_TEMPFAIL


class RejectedError(BoskyError):
    fmt = ("EventBridge rejected {count} spooled event(s) for good; they were moved to "
           "{path}/rejected/. The first: {first}")


class SpoolError(BoskyError):
    fmt = "spool {path}: {reason}"


class S3Error(ServiceError):
    """S3 said no: the operation and s3://bucket/key go first in the message."""


class TransferError(BoskyError):
    """Bytes that are not the ones asked for (a checksum, a size): nothing was put in place."""

    fmt = "{what}: {reason}; nothing was written to {where}"


class LocalFileError(BoskyError):
    """A local file, directory or standard stream that cannot take what bosky writes."""

    fmt = "{where}: {reason}"


class BundleError(BoskyError):
    """A bootstrap bundle is refused: nothing of it is kept, nothing runs."""

    fmt = "bundle refused: {reason}"


class DeadlineExceeded(BoskyError):
    fmt = "gave up after {timeout:g} s ({option}) while {doing}; raise {option} if the " \
          "network is slow"


class Terminated(BaseException):
    """SIGTERM arrived (systemd stopping a unit, an instance shutting down): like
    KeyboardInterrupt, it ends the run wherever it is, after pending events are spooled."""

    def __init__(self, signal_number):
        super().__init__(signal_number)
        self.signal_number = signal_number


def describe(problem):
    """The one stderr line for a problem: a BoskyError, any other exception (a bug), or
    a message.  cli.main prints it before exiting; `bosky run` and the watcher print it
    for a report that failed without ending the step.  Text a server sent may hold line
    breaks or control characters: they are escaped, so it stays one line."""
    if isinstance(problem, BoskyError):
        line = "bosky: {}: {}".format(problem.label, problem.message)
    elif isinstance(problem, Exception):
        line = "bosky: internal error: {}: {}; rerun with --debug and report it".format(
            problem.__class__.__name__, problem)
    else:
        line = "bosky: error: {}".format(problem)
    return one_line(line)


MAX_LINE_CHARS = 2000  # a 4 MiB config file of NULs, a 120 KB variable: not all echoed


def one_line(text):
    """`text` with every line break and control character written as an escape, and its
    middle cut when it is too long (the start names the cause, the end the fix)."""
    removed = 0
    if len(text) > 8 * MAX_LINE_CHARS:  # not worth escaping all of a 4 MiB text first
        removed = len(text) - 5 * MAX_LINE_CHARS
        text = text[:4 * MAX_LINE_CHARS] + text[-MAX_LINE_CHARS:]
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(line) <= MAX_LINE_CHARS:
        return line
    keep = MAX_LINE_CHARS // 2
    return "{}...[{} characters cut]...{}".format(line[:keep], len(line) - 2 * keep + removed,
                                                  line[-keep:])
