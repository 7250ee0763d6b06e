"""Delivering entries to EventBridge: retries, partial failures, clock skew, the deadline.

`Sender.deliver` sends a list of entries and keeps sending what is still
pending until every entry is accepted or finally rejected, the deadline
leaves no room for another attempt, or `max_attempts` is reached.  It never
raises for a delivery failure: the caller gets an `Outcome` saying which
entries were accepted (with EventIds), rejected (a non-retryable entry error)
or still pending (with the last error), and spools or reports accordingly.
"""

import datetime

from bosky import errors, events, retry
from bosky.aws import eventbridge

REQUEST_TIMEOUT_CAP = 10.0   # seconds per attempt, so one hung request cannot eat the deadline
MIN_SKEW_SECONDS = 60.0      # below this the clock is not why a signature was refused
REFRESH_MARGIN_SECONDS = 300.0


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


class Sender(object):
    """Sends with one deadline, one credential source and one learned clock offset."""

    def __init__(self, deps, send, resolve_credentials, deadline, max_attempts=None):
        self._deps = deps
        self._send = send
        self._resolve_credentials = resolve_credentials
        self._credentials = None
        self._deadline = deadline
        self._max_attempts = max_attempts
        self.clock_offset = 0.0

    def now(self):
        """Epoch seconds by the local clock, corrected by any offset the service showed us."""
        return self._deps.wall_clock() + self.clock_offset

    def credentials(self):
        expiry = self._credentials.expiration if self._credentials else None
        if self._credentials is None or (expiry and expiry.timestamp() - self.now()
                                         < REFRESH_MARGIN_SECONDS):
            self._credentials = self._resolve_credentials()
            self._deps.log("credentials from {} (key id ****{})".format(
                self._credentials.source, self._credentials.access_key_id[-4:]))
        return self._credentials

    def deliver(self, entries, target, fresh=False):
        """Send `entries` until done or out of time; `fresh` entries get their Time
        corrected if the service shows the local clock is wrong."""
        outcome, pending, skew_fixed = Outcome(), list(entries), False
        while pending:
            outcome.attempts += 1
            kind, pending = self._attempt(pending, target, outcome)
            if kind is None:
                break
            if kind == retry.SKEW and not skew_fixed and self._learn_offset(outcome, pending,
                                                                              fresh):
                skew_fixed = True
                continue
            if kind in (retry.FATAL, retry.SKEW):
                outcome.fatal = outcome.last_error
                break
            if self._max_attempts and outcome.attempts >= self._max_attempts:
                break
            if not retry.wait_before_retry(
                    retry.backoff_delay(outcome.attempts, kind, self._deps.random),
                    self._deadline, self._deps.sleep, self._deps.log, outcome.attempts):
                break
        outcome.pending = pending
        return outcome

    def _attempt(self, pending, target, outcome):
        """One PutEvents; returns (retry kind or None when nothing is left, still pending)."""
        try:
            timeout = self._deadline.timeout_for(REQUEST_TIMEOUT_CAP, "sending to EventBridge")
            now = datetime.datetime.fromtimestamp(self.now(), datetime.timezone.utc)
            results, request_id = eventbridge.put_events(
                self._send, target.url, target.region, self.credentials(), pending, now,
                timeout)
        except errors.DeadlineExceeded as exc:
            outcome.last_error = outcome.last_error or exc
            return retry.TRANSIENT, pending
        except errors.BoskyError as exc:
            outcome.last_error = exc
            kind = retry.classify(exc)
            self._deps.log("attempt {} failed ({}): {}".format(outcome.attempts, kind, exc))
            return kind, pending
        return self._sort_results(pending, results, request_id, outcome)

    def _sort_results(self, pending, results, request_id, outcome):
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
                self._deps.log("attempt {}: entry not accepted, will resend: {}".format(
                    outcome.attempts, error))
            else:
                outcome.rejected.append((entry, error))
        return kind, resend

    def _learn_offset(self, outcome, pending, fresh):
        offset = retry.clock_offset(outcome.last_error.fields.get("server_date"),
                                    self._deps.wall_clock())
        if offset is None or abs(offset) < MIN_SKEW_SECONDS:
            return False
        self.clock_offset = offset
        self._deps.log("the local clock is {:+.0f} s off the service's Date; re-signing "
                       "with the service's time".format(-offset))
        if fresh:  # built this run with the wrong clock: say when it really happened
            for entry in pending:
                entry["Time"] = int(entry["Time"] + offset)
        return True
