"""Reporting: an event spec -> this instance's PutEvents entry -> delivered, or spooled.

A `Reporter` serves one process (`bosky run` sends two events per step,
`run-parts` more): the instance, its region, endpoint and context come from
the session, asked once.  Each send takes its own deadline.  Nothing is
called delivered without an EventId; an event not delivered in time for a
transient reason is spooled (exit 75) so that `bosky flush` can send it.
After a success, a little of the spool that waits for the same endpoint goes
along (`resend.send_along`); the rest is `bosky flush`'s job.
"""

import json

from bosky import errors, events, fit
from bosky.delivery import Target, deliver


class EventSpec(object):
    """What one event says: its status and message, extra Detail fields, an output tail."""

    __slots__ = ("status", "message", "fields", "tail")

    def __init__(self, status, message, fields=None, tail=None):
        self.status, self.message = status, message
        self.fields, self.tail = dict(fields or {}), tail


class Reporter(object):
    """Builds and sends the events of one bosky process."""

    def __init__(self, session):
        self.session, self.settings, self.world = session, session.settings, session.world
        self._target = None
        self.step_fields = {}  # added to every step's events (bootstrap: Vars, BundleSha256)

    def target(self, deadline):
        """Where PutEvents goes: the endpoint for the session's region (resolved once)."""
        if self._target is None:
            region, _ = self.session.region(deadline)
            url, origin = self.session.endpoint("events", region)
            self.session.log("endpoint {} from {}".format(url, origin))
            self._target = Target(url, region)
        return self._target

    def build(self, spec, deadline):
        """The entry for `spec` and where it goes; ValidationError for what EventBridge
        would refuse (nothing is sent then)."""
        settings = self.settings
        events.check_names(settings.project, settings.detail_type)
        events.check_status(spec.status)
        found = self.session.identity(deadline)
        target = self.target(deadline)
        fields = dict(self.session.context(deadline), **spec.fields)
        fields.update(settings.details)
        event_uuid, epoch = self.world.uuid(), self.session.clock.now()

        def make_entry(tail):
            if tail is not None:
                fields[events.OUTPUT_TAIL_FIELD] = tail
            detail = events.build_detail(spec.status, spec.message, found.instance_id,
                                         event_uuid, fields)
            return events.build_entry(settings.project, settings.detail_type, detail,
                                      [found.resource], settings.event_bus, epoch)

        entry = fit.fit_entry(make_entry, fields, spec.tail)
        events.validate_entry(entry)
        self.session.log("event: {} bytes by EventBridge's count".format(
            events.entry_size(entry)))
        return entry, target

    def send(self, spec, dry_run=False, verbose=False, deadline=None):
        """Send one event with its own deadline (or `deadline`); returns the exit status
        (failures raise)."""
        deadline = deadline or self.session.deadline()
        entry, target = self.build(spec, deadline)
        if dry_run:
            self.world.stdout.write(dry_run_document(target, [entry]) + "\n")
            return errors.EXIT_OK
        return self.send_entries([entry], target, deadline, verbose=verbose)

    def send_entries(self, entries, target, deadline, verbose=False):
        """Deliver entries built by this process, in order; spool what is still pending.

        Interrupted (Ctrl-C, SIGTERM) while sending, it spools them all before the
        interruption goes on: one may then arrive twice, with the same EventUuid.
        """
        try:
            outcome = deliver(self.session, entries, target, deadline, fresh=True)
        except (KeyboardInterrupt, errors.Terminated) as stop:
            stop.spooled = self.keep_all(entries, target, "interrupted while sending")
            raise
        if outcome.rejected or outcome.pending or outcome.fatal:
            self.settle(outcome, target)
        for _, event_id in outcome.accepted:
            self.session.log("EventBridge accepted the event: EventId {} (attempt {})".format(
                event_id, outcome.attempts))
            if verbose:
                self.world.stdout.write(event_id + "\n")
        if not self.settings.no_spool and self.session.spool_waits():
            from bosky import resend  # the common case, nothing waiting, never loads it
            resend.send_along(self.session, target)
        return errors.EXIT_OK

    def settle(self, outcome, target):
        """Raise the error for entries that were not accepted, spooling the ones worth it."""
        if outcome.pending and not outcome.fatal and not self.settings.no_spool:
            reason = outcome.last_error.message if outcome.last_error else \
                "no attempt was possible"
            paths = self.keep_all(outcome.pending, target, reason)
            if not outcome.rejected:
                raise errors.SpooledError(reason=reason, path=paths[-1],
                                          attempts=outcome.attempts)
        if outcome.rejected:
            raise outcome.rejected[0][1]
        if outcome.fatal:
            raise outcome.fatal
        reason = outcome.last_error.message if outcome.last_error else "no attempt was possible"
        raise errors.NotDeliveredError(reason=reason, attempts=outcome.attempts)


    def keep_all(self, entries, target, reason):
        """Spool `entries` in order (unless --no-spool); their paths."""
        if self.settings.no_spool:
            return []
        from bosky import resend  # the spool is for the runs that need it
        paths = [resend.keep(self.session, entry, target, reason) for entry in entries]
        self.session.log("kept in the spool: " + ", ".join(paths))
        return paths


def dry_run_document(target, entries):
    return json.dumps({"endpoint": target.url, "region": target.region,
                       "request": json.loads(events.request_body(entries).decode("utf-8"))},
                      indent=2, ensure_ascii=False)
