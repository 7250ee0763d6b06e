"""The emit pipeline: settings -> identity -> region -> event -> delivery -> result.

`emit` reads as the numbered steps of one run.  Every input from the outside
world arrives through `wiring.Deps`, so tests can drive it against loopback
stand-ins.  Delivery never reports success without an EventId; an event that
could not be delivered in time for a transient reason is spooled (exit 75).
"""

import json

from bosky import backlog, endpoints, errors, events, identity, imds
from bosky.delivery import Target
from bosky.wiring import Run


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


def emit(settings, status, message, deps, dry_run=False, verbose=False):
    """Send one event; return the exit status (failures are raised)."""
    log = deps.log
    # 1. Refuse bad names before any network wait.
    events.check_names(settings.project, settings.detail_type)
    events.check_status(status)
    run = Run(settings, deps)
    # 2. Which instance, in which region, to which endpoint.
    found = resolve_identity(settings, run.imds, log)
    run.region, _ = resolve_region(run, found)
    target, _ = resolve_target(run, run.region)
    region = run.region
    # 3. The event, checked against EventBridge's rules.
    detail = events.build_detail(status, message, found.instance_id, deps.token())
    entry = events.build_entry(settings.project, settings.detail_type, detail,
                               [found.resource], settings.event_bus, run.sender.now())
    events.validate_entry(entry)
    log("event: {} bytes by EventBridge's count".format(events.entry_size(entry)))
    if dry_run:
        deps.stdout.write(dry_run_document(target.url, region, [entry]) + "\n")
        return errors.EXIT_OK
    # 4. Deliver with retries until the deadline; then report, or keep it for later.
    outcome = run.sender.deliver([entry], target, fresh=True)
    if outcome.accepted:
        log("EventBridge accepted the event: EventId {} (attempt {})".format(
            outcome.accepted[0][1], outcome.attempts))
        if verbose:
            deps.stdout.write(outcome.accepted[0][1] + "\n")
        flush_backlog(run)
        return errors.EXIT_OK
    raise_undelivered(run, outcome, entry, target)


def raise_undelivered(run, outcome, entry, target):
    """Raise the error for an event that was not accepted, spooling it if that can help."""
    if outcome.rejected:
        raise outcome.rejected[0][1]
    if outcome.fatal:
        raise outcome.fatal
    reason = outcome.last_error.message if outcome.last_error else "no attempt was possible"
    if run.settings.no_spool:
        raise errors.NotDeliveredError(reason=reason, attempts=outcome.attempts)
    path = backlog.keep(run.spool(), entry, target, reason, run.deps)
    run.deps.log("kept in the spool: " + path)
    raise errors.SpooledError(reason=reason, path=path, attempts=outcome.attempts)


def flush_backlog(run):
    """After a success, send what earlier runs spooled, within what is left of the deadline.

    Best effort by design: this run's own event was delivered, so nothing
    here may turn its success into a failure; problems go to --debug.
    """
    if run.settings.no_spool:
        return
    try:
        the_spool = run.spool()
        if not the_spool.records():
            return
        report = backlog.flush(the_spool, run.sender, keep_waiting=lambda: False)
        run.deps.log("backlog: sent {}, {} still spooled{}".format(
            report.sent, report.remaining, " (another flush is running)" if report.busy else ""))
    except (errors.BoskyError, OSError) as exc:
        run.deps.log("backlog not flushed: {}".format(exc))


def flush(settings, deps, verbose=False):
    """`bosky flush`: send the spool's events; the exit status says what is left."""
    run = Run(settings, deps)
    the_spool = run.spool()
    report = backlog.flush(the_spool, run.sender, keep_waiting=run.wait_a_little)
    if report.busy:
        deps.warn("another bosky flush holds {}; it will send the events".format(
            the_spool.path))
        return errors.EXIT_OK
    for name, why in report.bad:
        deps.warn("unreadable spool file {} moved to {}/: {}".format(name, "bad", why))
    if verbose:
        deps.stdout.write("sent {} event(s); {} still spooled in {}\n".format(
            report.sent, report.remaining, the_spool.path))
    if report.fatal:
        raise report.fatal
    if report.rejected:
        raise errors.RejectedError(count=len(report.rejected), path=the_spool.path,
                                   first=report.rejected[0][1].message)
    if report.remaining:
        raise errors.FlushIncompleteError(
            remaining=report.remaining, path=the_spool.path,
            reason=report.last_error.message if report.last_error else "out of time")
    return errors.EXIT_NOT_DELIVERED if report.bad else errors.EXIT_OK
