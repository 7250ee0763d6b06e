"""Where a bootstrap's variables come from: IMDS user data, a file, or standard input.

Each read ends by the fetch deadline.  IMDS is asked again, with backoff, while
it does not answer or fails (a timeout, a 5xx, a reply cut short): on an AMI
whose user data holds only the variables, running the modules without them
because IMDS was slow once would be a boot that "passed" as the wrong role.
Only a 404 means there is no user data.  With --instance-id (off EC2) IMDS is
not asked at all.  Parsing is uservars.py's.
"""

from bosky import errors

LIMIT = 64 * 1024  # EC2 allows 16 KB of user data; more is not the seed's key=value text


def read(session, args, deadline):
    """(bytes or None, where they came from)."""
    if args.user_data == "-":
        return _read_stdin(session.world.stdin, deadline), "standard input"
    if args.user_data:
        from bosky.system import read_regular_file
        try:
            return read_regular_file(args.user_data, LIMIT), args.user_data
        except OSError as exc:
            raise errors.UsageError(reason="--user-data {}: {}; give a file, or - for standard "
                                           "input".format(args.user_data, exc.strerror or exc))
    if session.settings.instance_id or session.settings.imds_disabled:
        session.log("IMDS not asked for user data (--instance-id, or IMDS disabled)")
        return None, "IMDS user data"
    return _read_imds(session, deadline), "IMDS user data"


def _read_imds(session, deadline):
    from bosky import retry
    from bosky.aws import imds
    client = imds.ImdsClient(session.http.request, session.settings, session.clock.monotonic,
                             session.log, remember_failures=False)
    attempt = 0
    while True:
        attempt += 1
        try:
            return client.get(imds.USER_DATA, deadline, optional=True, cache=False)
        except errors.BoskyError as exc:
            if not _worth_asking_again(exc) or deadline.remaining() < 1.0:
                raise errors.ImdsError(reason="the user data could not be read ({}); the "
                                              "bootstrap needs its variables".format(
                                                  exc.message))
            session.log("user data: attempt {} failed ({}); asking again".format(
                attempt, exc.message))
            retry.wait_before_retry(retry.backoff_delay(attempt, retry.TRANSIENT,
                                                        session.world.random), deadline,
                                    session.clock.sleep, session.log, attempt)


def _worth_asking_again(exc):
    """No reply, or a server error; not a refusal (403: IMDS is off, or the hop limit)."""
    if isinstance(exc, errors.TransportError):
        return exc.fields["retryable"]
    return isinstance(exc, errors.ImdsError) and exc.fields.get("status", 0) >= 500


def _read_stdin(stdin, deadline):
    """Standard input up to LIMIT (+ 1, to see it is over) bytes, ending by the deadline."""
    from bosky.system import read_input
    if stdin is None or not hasattr(stdin, "buffer"):
        raise errors.UsageError(reason="--user-data -: standard input is closed")
    try:
        return read_input(stdin, LIMIT + 1, deadline)
    except TimeoutError:
        raise errors.LocalFileError(where="--user-data -", reason="standard input did not "
                                    "end within --fetch-timeout; close it, or give a file")
