"""Which failures to retry, how long to wait, and what the server's clock says.

Pure functions: the random source and times are arguments.  The rules follow
the AWS SDKs' "standard" retry mode (botocore retries/standard.py, Go v2
aws/retry): throttling codes, HTTP 500/502/503/504, connection errors and
timeouts are retried; other client errors are not.  The delay is full jitter,
rand * min(cap, scale * 2**(attempt-1)), with the SDKs' newer scales: 1 s
after throttling, 50 ms after other transient failures, capped at 20 s.
"""

import datetime

from bosky import errors

THROTTLE = "throttle"
TRANSIENT = "transient"
SKEW = "skew"        # the signing time is off the service's clock: re-sign with its time
EXPIRED = "expired"  # the session credentials expired: fetch them again, once
FATAL = "fatal"

MAX_BACKOFF_SECONDS = 20.0
SCALE_SECONDS = {THROTTLE: 1.0, TRANSIENT: 0.05, SKEW: 0.0}

THROTTLING_CODES = frozenset((
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException"))
TRANSIENT_CODES = frozenset((
    "RequestTimeout", "RequestTimeoutException", "InternalFailure", "InternalException",
    "InternalError", "ServiceUnavailable", "ServiceUnavailableException"))
TRANSIENT_STATUSES = frozenset((500, 502, 503, 504))
# PutEventsResultEntry codes worth sending again (API reference); all others are final.
RETRYABLE_ENTRY_CODES = frozenset(("ThrottlingException", "InternalFailure"))
# Codes a service uses when the request's signing time is too far from its clock
# (aws-sdk-js-v3 CLOCK_SKEW_ERROR_CODES, Go v2 clock-skew set).
SKEW_CODES = frozenset(("RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
                        "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure"))
SKEW_MESSAGES = ("signature expired", "signature not yet current", "skew", "time")
EXPIRED_CODES = frozenset(("ExpiredTokenException", "ExpiredToken"))


def classify(exc):
    """THROTTLE, TRANSIENT, SKEW or FATAL for an error raised while sending."""
    if isinstance(exc, errors.TransportError):
        return TRANSIENT if exc.fields["retryable"] else FATAL
    if isinstance(exc, errors.UnexpectedReplyError):
        return TRANSIENT
    if isinstance(exc, errors.ServiceError):
        code = exc.fields["code"]
        if code in THROTTLING_CODES:
            return THROTTLE
        if code in EXPIRED_CODES:
            return EXPIRED
        if code in TRANSIENT_CODES or exc.fields["status"] in TRANSIENT_STATUSES:
            return TRANSIENT
        if code in SKEW_CODES and exc.fields.get("server_date") and \
                any(word in exc.fields["detail"].lower() for word in SKEW_MESSAGES):
            return SKEW
    return FATAL


def backoff_delay(attempt, kind, rand):
    """Seconds to wait after failed attempt number `attempt` (1-based); rand() in [0, 1)."""
    ceiling = min(MAX_BACKOFF_SECONDS, SCALE_SECONDS.get(kind, 0.05) * 2 ** (attempt - 1))
    return rand() * ceiling


def parse_http_date(value):
    """Epoch seconds from an HTTP Date header (RFC 7231 IMF-fixdate), or None."""
    try:
        parsed = datetime.datetime.strptime(value.strip(), "%a, %d %b %Y %H:%M:%S GMT")
    except (ValueError, AttributeError):
        return None
    return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()


def clock_offset(server_date, local_epoch):
    """Seconds to add to the local clock to match the server's, or None if unknown."""
    server = parse_http_date(server_date or "")
    return None if server is None else server - local_epoch


MIN_ATTEMPT_SECONDS = 0.1  # no attempt is started with less time than this left


def wait_before_retry(delay, deadline, sleep, log, attempt):
    """Sleep `delay` (cut to what the deadline allows) before the next attempt.

    False, without sleeping, when the deadline leaves no room for another attempt.
    Both retry loops (PutEvents batches in delivery, single calls here) wait through it.
    """
    room = deadline.remaining() - MIN_ATTEMPT_SECONDS
    if room <= 0:
        return False
    delay = min(delay, room)
    log("retrying in {:.2f} s (attempt {} failed)".format(delay, attempt))
    sleep(delay)
    return True


def call_with_retries(attempt, classify_error, deadline, sleep, rand, log, max_attempts=None,
                      recover=None):
    """Call `attempt()` until it returns, retrying what `classify_error` calls retryable.

    A single API call's loop (PutEvents batches have their own, in delivery):
    waits follow `backoff_delay`, never past `deadline`; the last error is raised.
    `recover(kind, error)` may fix a SKEW or EXPIRED error once (True: try again).
    """
    number, recovered = 0, set()
    while True:
        number += 1
        try:
            return attempt()
        except errors.BoskyError as exc:
            kind = classify_error(exc)
            log("attempt {} failed ({}): {}".format(number, kind, exc))
            if kind in (SKEW, EXPIRED) and kind not in recovered and recover is not None:
                recovered.add(kind)
                if recover(kind, exc):
                    continue
            if kind in (FATAL, SKEW, EXPIRED) or (max_attempts and number >= max_attempts) or \
                    not wait_before_retry(backoff_delay(number, kind, rand), deadline, sleep,
                                          log, number):
                raise
