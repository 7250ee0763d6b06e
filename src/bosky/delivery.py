"""Delivering entries to EventBridge: retries, partial failures, clock skew, the deadline.

`deliver` sends a list of entries and keeps sending what is still pending
until every entry is accepted or finally rejected, the deadline leaves no
room for another attempt, `max_attempts` is reached, or `stop` is set.  It
never raises for a delivery failure: the caller gets an `Outcome` saying
which entries were accepted (with EventIds), rejected (a non-retryable entry
error) or still pending (with the last error), and spools or reports them.
What it learns (the clock offset, refreshed credentials) stays in the session.
"""

from bosky import errors, events, retry
from bosky.aws import eventbridge

REQUEST_TIMEOUT_CAP = 10.0   # seconds per attempt, so one hung request cannot eat the deadline


class Target(object):
    __slots__ = ("url", "region")

    def __init__(self, url, region):
        self.url, self.region = url, region


class Outcome(object):
    def __init__(self):
        self.accepted = []   # [(entry, EventId)]
        self.rejected = []   # [(entry, EntryFailedError)]
        self.pending = []    # entries not delivered yet
        self.last_error = None
        self.fatal = None    # a whole-request error that retrying cannot fix
        self.attempts = 0


def deliver(session, entries, target, deadline, fresh=False, stop=None, max_attempts=None,
            request_cap=REQUEST_TIMEOUT_CAP):
    """Send `entries` until done or out of time.  `fresh` entries (built by this process)
    get their Time corrected if the service shows the local clock is wrong; `stop`
    (a threading.Event) ends the retries early, its wait replacing the backoff sleep."""
    outcome, pending, fixed = Outcome(), list(entries), set()
    max_attempts = max_attempts or session.settings.max_attempts
    sleep = stop.wait if stop is not None else session.clock.sleep
    while pending:
        outcome.attempts += 1
        kind, pending = _attempt(session, pending, target, deadline, outcome, request_cap)
        if kind is None:
            break
        if kind in (retry.SKEW, retry.EXPIRED) and kind not in fixed:
            fixed.add(kind)
            if _recover(session, kind, outcome, pending, fresh, deadline):
                continue
        if kind in (retry.FATAL, retry.SKEW, retry.EXPIRED):
            outcome.fatal = outcome.last_error
            break
        if (max_attempts and outcome.attempts >= max_attempts) or (stop and stop.is_set()):
            break
        if not retry.wait_before_retry(
                retry.backoff_delay(outcome.attempts, kind, session.world.random),
                deadline, sleep, session.log, outcome.attempts) or (stop and stop.is_set()):
            break
    outcome.pending = pending
    return outcome


def _attempt(session, pending, target, deadline, outcome, request_cap):
    """One PutEvents; returns (retry kind or None when nothing is left, still pending)."""
    try:
        timeout = deadline.timeout_for(request_cap, "sending to EventBridge")
        results, request_id = eventbridge.put_events(
            session.http.request, target.url, target.region,
            session.credentials.get(deadline), pending, session.clock.utcnow(), timeout)
    except errors.DeadlineExceeded as exc:
        outcome.last_error = outcome.last_error or exc
        return retry.TRANSIENT, pending
    except errors.BoskyError as exc:
        outcome.last_error = exc
        kind = retry.classify(exc)
        session.log("attempt {} failed ({}): {}".format(outcome.attempts, kind, exc))
        return kind, pending
    return _sort_results(session, pending, results, request_id, outcome)


def _sort_results(session, pending, results, request_id, outcome):
    """(retry kind or None, entries to resend): accepted and rejected go to `outcome`."""
    kind, resend = None, []
    for entry, result in zip(pending, results):
        if result.event_id:
            outcome.accepted.append((entry, result.event_id))
            continue
        error = events.entry_error(result, request_id)
        if result.error_code in retry.RETRYABLE_ENTRY_CODES:
            outcome.last_error = error
            resend.append(entry)
            kind = retry.THROTTLE if result.error_code == "ThrottlingException" \
                else retry.TRANSIENT
            session.log("attempt {}: entry not accepted, will resend: {}".format(
                outcome.attempts, error))
        else:
            outcome.rejected.append((entry, error))
    return kind, resend


def _recover(session, kind, outcome, pending, fresh, deadline):
    """Fix what a SKEW or EXPIRED error says, once: True when it is worth another try."""
    before = session.clock.offset
    try:
        if not session.recover(kind, outcome.last_error, deadline):
            return False
    except errors.BoskyError as exc:  # the credentials could not be fetched again
        outcome.last_error = exc
        return False
    if fresh and kind == retry.SKEW:  # built with the wrong clock: say when it happened
        for entry in pending:
            entry["Time"] = int(entry["Time"] + session.clock.offset - before)
    return True
