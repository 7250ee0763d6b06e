"""Sending events: settings -> instance -> event -> delivery -> result.

A `Reporter` serves one bosky process: it resolves the instance, region,
endpoint and context once, and sends any number of events (`bosky run` sends
two per step), each with its own deadline.  Every input from the outside
world arrives through `wiring.Deps`.  Delivery never reports success without
an EventId; an event not delivered in time for a transient reason is
spooled (exit 75).
"""

import json
import os

from bosky import errors, events, identity
from bosky.aws import endpoints, imds
from bosky.delivery import Target
from bosky.wiring import Run


class EventSpec(object):
    """What one event says: its status and message, extra Detail fields, an output tail."""

    __slots__ = ("status", "message", "fields", "tail")

    def __init__(self, status, message, fields=None, tail=None):
        self.status, self.message = status, message
        self.fields, self.tail = dict(fields or {}), tail


class Instance(object):
    """Where events come from and go: resolved once per process."""

    __slots__ = ("identity", "region", "target", "context")

    def __init__(self, found, region, target, context_fields):
        self.identity, self.region, self.target = found, region, target
        self.context = context_fields


def resolve_identity(settings, imds_client, log):
    if settings.instance_id:
        found = identity.from_given_id(settings.instance_id, settings.origin["instance_id"])
        log("instance {} from {}".format(found.instance_id, settings.origin["instance_id"]))
        return found
    document = imds_client.get(imds.IDENTITY_DOCUMENT)
    partition = imds_client.get(imds.PARTITION, optional=True)
    found = identity.from_identity_document(
        document, partition.decode("ascii", "replace").strip() if partition else None)
    log("instance {} ({}) from the IMDS identity document".format(found.instance_id,
                                                                  found.resource))
    return found


def resolve_region(run, found):
    """(region, origin): --region / AWS_REGION / AWS_DEFAULT_REGION / config / the
    profile's region, else the instance's own (an --instance-id ARN, or IMDS)."""
    settings = run.settings
    if settings.region:
        region, origin = settings.region, settings.origin["region"]
    elif run.aws.profile.get("region"):
        origin = "profile " + run.aws.profile_name
        region = endpoints.check_region(run.aws.profile["region"].strip(), origin)
    elif found.region:
        region, origin = found.region, "the instance identity"
    else:
        _, region, _ = identity.parse_identity_document(run.imds.get(imds.IDENTITY_DOCUMENT))
        origin = "the IMDS identity document"
    run.deps.log("region {} from {}".format(region, origin))
    return region, origin


def resolve_target(run, region):
    """Where PutEvents goes: an endpoint override in the SDKs' order, else the region's host."""
    settings = run.settings
    given = (settings.endpoint_url, settings.origin["endpoint_url"]) \
        if settings.endpoint_url else None
    url, origin = endpoints.resolve_url(
        "events", region, run.deps.env, run.aws.profiles, run.aws.profile, given,
        given_is_flag=settings.origin["endpoint_url"] == "--endpoint-url")
    run.deps.log("endpoint {} from {}".format(url, origin))
    return Target(url, region), origin


def dry_run_document(url, region, entries):
    return json.dumps({"endpoint": url, "region": region,
                       "request": json.loads(events.request_body(entries).decode("utf-8"))},
                      indent=2, ensure_ascii=False)


def fetch_context(run, deps):
    from bosky import context
    return context.fetch_context(run.imds, deps.read_text, deps.log)


class Reporter(object):
    """Sends the events of one bosky process."""

    def __init__(self, settings, deps):
        self.settings, self.deps = settings, deps
        import _thread  # threading.Lock is this; importing threading costs a plain emit 2 ms
        self._instance = None
        self._lock = _thread.allocate_lock()  # `bosky run` sends its start event from a thread
        self._runs = 0

    def new_run(self):
        """A Run with a fresh deadline; only the first is charged the process's start-up."""
        self._runs += 1
        return Run(self.settings, self.deps, count_startup=self._runs == 1)

    def instance(self, run):
        with self._lock:
            if self._instance is None:
                found = resolve_identity(self.settings, run.imds, self.deps.log)
                run.region, _ = resolve_region(run, found)
                target, _ = resolve_target(run, run.region)
                # --instance-id means "skip IMDS": no context either (no wait off EC2).
                fields = {} if self.settings.no_context or self.settings.instance_id else \
                    fetch_context(run, self.deps)
                self._instance = Instance(found, run.region, target, fields)
            run.region = self._instance.region
            return self._instance

    def build_entry(self, run, spec):
        events.check_names(self.settings.project, self.settings.detail_type)
        events.check_status(spec.status)
        where = self.instance(run)
        fields = dict(where.context, **spec.fields)
        fields.update(self.settings.details)
        event_uuid = self.deps.token()
        epoch = run.sender.now()

        def make_entry(tail):
            if tail is not None:
                fields[events.OUTPUT_TAIL_FIELD] = tail
            detail = events.build_detail(spec.status, spec.message,
                                         where.identity.instance_id, event_uuid, fields)
            return events.build_entry(self.settings.project, self.settings.detail_type, detail,
                                      [where.identity.resource], self.settings.event_bus, epoch)

        entry = make_entry(None) if spec.tail is None else \
            events.fit_output_tail(make_entry, spec.tail)
        events.validate_entry(entry)
        self.deps.log("event: {} bytes by EventBridge's count".format(events.entry_size(entry)))
        return entry, where.target

    def send(self, spec, dry_run=False, verbose=False):
        """Send one event; return the exit status (failures are raised)."""
        run = self.new_run()
        entry, target = self.build_entry(run, spec)
        if dry_run:
            self.deps.stdout.write(dry_run_document(target.url, target.region, [entry]) + "\n")
            return errors.EXIT_OK
        outcome = run.sender.deliver([entry], target, fresh=True)
        if not outcome.accepted:
            raise_undelivered(run, outcome, entry, target)
        self.deps.log("EventBridge accepted the event: EventId {} (attempt {})".format(
            outcome.accepted[0][1], outcome.attempts))
        if verbose:
            self.deps.stdout.write(outcome.accepted[0][1] + "\n")
        flush_backlog(run)
        return errors.EXIT_OK


def emit(settings, spec, deps, dry_run=False, verbose=False):
    """`bosky [STATUS] MESSAGE`: send one event (then complete a lifecycle hook if asked)."""
    reporter = Reporter(settings, deps)
    if settings.complete_lifecycle is None or dry_run:
        return reporter.send(spec, dry_run=dry_run, verbose=verbose)
    from bosky import lifecycle
    result = lifecycle.result_for_status(spec.status)  # refuse before sending anything
    return send_then_complete(reporter, spec, verbose, result)


def send_then_complete(reporter, spec, verbose, result):
    """Send the event, then complete the launch hook: CONTINUE for pass, ABANDON for fail.

    The hook gates the instance whether or not the event got through, so an
    event failure is held until the hook is done, then raised (or printed, if
    the hook fails too and its error is the one raised).
    """
    from bosky import lifecycle
    event_error = None
    try:
        reporter.send(spec, verbose=verbose)
    except errors.BoskyError as exc:
        event_error = exc
    try:
        lifecycle.complete(reporter, reporter.settings.complete_lifecycle, result,
                           reporter.settings.group)
    except errors.BoskyError:
        if event_error is not None:
            reporter.deps.error_line(errors.describe(event_error))
        raise
    if event_error is not None:
        raise event_error
    return errors.EXIT_OK


def raise_undelivered(run, outcome, entry, target):
    """Raise the error for an event that was not accepted, spooling it if that can help."""
    if outcome.rejected:
        raise outcome.rejected[0][1]
    if outcome.fatal:
        raise outcome.fatal
    from bosky import backlog  # the spool is for the runs that need it
    reason = outcome.last_error.message if outcome.last_error else "no attempt was possible"
    if run.settings.no_spool:
        raise errors.NotDeliveredError(reason=reason, attempts=outcome.attempts)
    path = backlog.keep(run.spool(), entry, target, reason, run.deps)
    run.deps.log("kept in the spool: " + path)
    raise errors.SpooledError(reason=reason, path=path, attempts=outcome.attempts)


def spool_has_records(path):
    try:
        return any(name.endswith(".json") and not name.startswith(".")
                   for name in os.listdir(path))
    except OSError:
        return False


def flush_backlog(run):
    """After a success, send what earlier runs spooled, within what is left of the deadline.

    Best effort by design: this run's own event was delivered, so nothing
    here may turn its success into a failure; problems go to --debug.
    """
    if run.settings.no_spool or not spool_has_records(run.spool_path()):
        return  # the common case: nothing waiting, and the spool code is never loaded
    from bosky import backlog
    try:
        the_spool = run.spool()
        report = backlog.flush(the_spool, run.sender, keep_waiting=lambda: False)
        run.deps.log("backlog: sent {}, {} still spooled{}".format(
            report.sent, report.remaining, " (another flush is running)" if report.busy else ""))
    except (errors.BoskyError, OSError) as exc:
        run.deps.log("backlog not flushed: {}".format(exc))
