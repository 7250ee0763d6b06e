"""Keeping undelivered events and sending them later (`bosky flush`).

`keep` writes one entry to the spool with where it was going; `flush` sends
the spooled entries oldest first, in PutEvents batches, deleting each record
only after EventBridge returned its EventId.  Flushes hold the spool's lock,
so concurrent runs never send the same record twice.  `flush_command` is
`bosky flush`: a flush with its own deadline, and an exit status for what is left.
"""

import os

from bosky import errors, events, spool
from bosky.delivery import Target


class FlushReport(object):
    def __init__(self):
        self.sent = 0
        self.rejected = []   # (record name, error)
        self.bad = []        # (record name, why it could not be read)
        self.remaining = 0
        self.last_error = None
        self.fatal = None
        self.busy = False    # another flush held the lock


def keep(the_spool, entry, target, reason, deps):
    """Spool `entry`; returns the record's path.  Says on stderr what a full spool dropped."""
    name = spool.record_name(int(deps.wall_clock() * 1e9), os.getpid(), deps.token())
    data = spool.encode_record(entry, target.url, target.region, int(deps.wall_clock()), reason)
    try:
        dropped = the_spool.write(name, data)
    except (OSError, errors.SpoolError) as exc:
        # Say both what went wrong with the spool and why the event needed it.
        problem = exc.fields["reason"] if isinstance(exc, errors.SpoolError) else \
            "cannot write {}: {}".format(name, exc.strerror or exc)
        raise errors.SpoolError(path=the_spool.path, reason="{}; the event was not delivered "
                                "either: {}".format(problem, reason))
    if dropped:
        deps.warn("spool full ({} events or {} MiB): dropped the {} oldest: {}".format(
            spool.MAX_FILES, spool.MAX_BYTES // (1024 * 1024), len(dropped), ", ".join(dropped)))
    return os.path.join(the_spool.path, name)


def _load(the_spool, report):
    """[(name, entry, Target)] oldest first; unreadable records are moved to bad/."""
    loaded = []
    for name in the_spool.records():
        try:
            entry, url, region = spool.decode_record(the_spool.read(name))
            loaded.append((name, entry, Target(url, region)))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            why = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
            the_spool.move_aside(name, spool.BAD_DIR, note=why)
            report.bad.append((name, why))
    return loaded


def _groups(loaded):
    """Records grouped by destination, groups in order of their oldest record."""
    groups = {}
    for name, entry, target in loaded:
        groups.setdefault((target.url, target.region), []).append((name, entry))
    return [(Target(url, region), records) for (url, region), records in groups.items()]


def _send_batch(the_spool, sender, target, records, report):
    names = {id(entry): name for name, entry in records}
    outcome = sender.deliver([entry for _, entry in records], target)
    for entry, _ in outcome.accepted:
        the_spool.remove(names[id(entry)])
        report.sent += 1
    for entry, error in outcome.rejected:
        the_spool.move_aside(names[id(entry)], spool.REJECTED_DIR, note=error.message)
        report.rejected.append((names[id(entry)], error))
    report.last_error = outcome.last_error or report.last_error
    report.fatal = outcome.fatal
    return not outcome.pending


def _batches(records):
    """[(name, entry)] cut where events.batch_entries cuts the entries (in order)."""
    remaining = iter(records)
    return [[next(remaining) for _ in batch]
            for batch in events.batch_entries([entry for _, entry in records])]


def flush(the_spool, sender, keep_waiting):
    """Send what the spool holds, oldest first, under the spool's lock.

    `keep_waiting()` is asked (and may sleep) while another flush holds the
    lock; False gives up and reports `busy`.  Sending stops at the first batch
    that cannot be finished (deadline or a fatal error); the rest stays spooled.
    """
    report = FlushReport()
    lock = the_spool.lock(blocking=False)
    while lock is None and keep_waiting():
        lock = the_spool.lock(blocking=False)
    if lock is None:
        report.busy = True
        return report
    with lock:
        for target, records in _groups(_load(the_spool, report)):
            if not all(_send_batch(the_spool, sender, target, batch, report)
                       for batch in _batches(records)):
                break
        report.remaining = len(the_spool.records())
    return report


def flush_command(settings, deps, verbose=False):
    """`bosky flush`: send the spool's events; the exit status says what is left."""
    from bosky.wiring import Run
    run = Run(settings, deps)
    the_spool = run.spool()
    report = flush(the_spool, run.sender, keep_waiting=run.wait_a_little)
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
