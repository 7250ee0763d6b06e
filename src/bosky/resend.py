"""Keeping undelivered events in the spool and sending them again later.

`keep` writes one entry with where it was going.  `flush` (the heart of
`bosky flush`) sends what the spool holds, oldest first, in PutEvents batches
per destination and event bus, deleting each record only after EventBridge
returned its EventId; it holds the spool's lock, so concurrent flushes never
send the same record twice.  A record of the wrong shape goes to `bad/`, one
EventBridge refuses for good (its entry, or its bus: ResourceNotFoundException)
to `rejected/` with the reason, and neither stops the records behind it.
`send_along` is the small part of a flush a successful event takes with it:
only records for the endpoint that just worked, one request per batch, a
couple of seconds in all, so a stale spool never taxes later events.
"""

import os

from bosky import errors, events, spool
from bosky.delivery import Target, deliver

SEND_ALONG_SECONDS = 2.0
# Whole-request errors that are about the records, not the caller: the bus is gone, an
# entry is malformed.  Sent one by one, the records that still fail are rejected.
RECORD_ERRORS = frozenset(("ResourceNotFoundException", "ValidationException",
                           "InvalidArgument", "SerializationException"))


class FlushReport(object):
    def __init__(self):
        self.sent = 0
        self.rejected = []   # (record name, error)
        self.bad = []        # (record name, why it could not be read)
        self.remaining = 0
        self.last_error = None
        self.fatal = None
        self.busy = False    # another flush held the lock


def keep(session, entry, target, reason):
    """Spool `entry`; returns the record's path.  Says on stderr what a full spool dropped."""
    world, the_spool = session.world, session.spool()
    name = spool.record_name(int(world.wall_clock() * 1e9), os.getpid(), world.uuid())
    data = spool.encode_record(entry, target.url, target.region, int(world.wall_clock()),
                               reason)
    try:
        dropped = the_spool.write(name, data)
    except (OSError, errors.SpoolError) as exc:
        # Say both what went wrong with the spool and why the event needed it.
        problem = exc.fields["reason"] if isinstance(exc, errors.SpoolError) else \
            "cannot write {}: {}".format(name, exc.strerror or exc)
        raise errors.SpoolError(path=the_spool.path, reason="{}; the event was not delivered "
                                "either: {}".format(problem, reason))
    if dropped:
        world.warn("spool full ({} events or {} MiB): dropped the {} oldest: {}".format(
            spool.MAX_FILES, spool.MAX_BYTES // (1024 * 1024), len(dropped), ", ".join(dropped)))
    return os.path.join(the_spool.path, name)


def retarget(session):
    """Where a spooled record goes now: what is configured now (flags, environment, files)
    overrides the stored endpoint and region; the stored ones serve when nothing is."""
    settings = session.settings
    override, _ = settings.endpoints["events"]

    def target_for(url, region):
        if override:
            return Target(override, settings.region or region)
        if settings.region and settings.region != region:  # the stored URL is the old region's
            return Target(session.endpoint("events", settings.region)[0], settings.region)
        return Target(url, region)
    return target_for


def _load(the_spool, report, target_for):
    """[(name, entry, Target)] oldest first; records of the wrong shape are moved to bad/."""
    loaded = []
    for name in the_spool.records():
        try:
            entry, url, region = spool.decode_record(the_spool.read(name))
            loaded.append((name, entry, target_for(url, region)))
        except (OSError, ValueError) as exc:
            why = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
            the_spool.move_aside(name, spool.BAD_DIR, note=why)
            report.bad.append((name, why))
    return loaded


def _groups(loaded):
    """Records grouped by destination and bus (a bus that is gone fails a whole request),
    groups in order of their oldest record."""
    groups = {}
    for name, entry, target in loaded:
        key = (target.url, target.region, entry.get("EventBusName"))
        groups.setdefault(key, []).append((name, entry))
    return [(Target(url, region), records) for (url, region, _), records in groups.items()]


def _batches(records):
    """[(name, entry)] cut where events.batch_entries cuts the entries (in order)."""
    remaining = iter(records)
    return [[next(remaining) for _ in batch]
            for batch in events.batch_entries([entry for _, entry in records])]


def _send_batch(session, the_spool, target, records, report, deadline, attempts):
    """True when the batch is done with (sent, rejected), False to stop the flush."""
    names = {id(entry): name for name, entry in records}
    outcome = deliver(session, [entry for _, entry in records], target, deadline,
                      max_attempts=attempts)
    for entry, _ in outcome.accepted:
        the_spool.remove(names[id(entry)])
        report.sent += 1
    for entry, error in outcome.rejected:
        _reject(the_spool, names[id(entry)], error, report)
    report.last_error = outcome.last_error or report.last_error
    fatal = outcome.fatal
    if fatal is not None and fatal.fields.get("code") in RECORD_ERRORS:
        if len(records) > 1:  # find the records at fault: one request each
            return all(_send_batch(session, the_spool, target, [record], report, deadline,
                                   attempts) for record in records)
        _reject(the_spool, records[0][0], fatal, report)
        return True
    report.fatal = fatal
    return not outcome.pending


def _reject(the_spool, name, error, report):
    the_spool.move_aside(name, spool.REJECTED_DIR, note=error.message)
    report.rejected.append((name, error))


def flush(session, deadline, keep_waiting, only=None, attempts=None):
    """Send what the spool holds, oldest first, under the spool's lock.

    `keep_waiting()` is asked (and may sleep) while another flush holds the
    lock; False gives up and reports `busy`.  `only`: send just the records
    going to this Target.  Sending stops at the first batch that cannot be
    finished (deadline or an error about the caller); the rest stays spooled.
    """
    report, the_spool = FlushReport(), session.spool()
    lock = the_spool.lock(blocking=False)
    while lock is None and keep_waiting():
        lock = the_spool.lock(blocking=False)
    if lock is None:
        report.busy = True
        return report
    with lock:
        the_spool.remove_stale_temporaries(session.world.wall_clock())
        for target, records in _groups(_load(the_spool, report, retarget(session))):
            if only is not None and (target.url, target.region) != (only.url, only.region):
                continue
            if not all(_send_batch(session, the_spool, target, batch, report, deadline,
                                   attempts) for batch in _batches(records)):
                break
        report.remaining = len(the_spool.records())
    return report


def send_along(session, target):
    """After a success, send what waits for the same endpoint: one request per batch,
    SEND_ALONG_SECONDS in all.  Best effort by design: this run's own event was
    delivered, so nothing here may turn its success into a failure (--debug says why)."""
    try:
        report = flush(session, session.deadline(SEND_ALONG_SECONDS), lambda: False,
                       only=target, attempts=1)
        session.log("spool: sent {} along, {} still spooled{}".format(
            report.sent, report.remaining, " (another flush is running)" if report.busy
            else ""))
    except (errors.BoskyError, OSError) as exc:
        session.log("spool not flushed: {}".format(exc))
