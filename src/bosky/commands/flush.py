"""`bosky flush`: send the events earlier runs spooled, oldest first."""

from bosky import errors
from bosky.commands import options

NAME = "flush"
HINT = "bosky flush"
SUMMARY = "send events spooled by earlier runs"
ENDPOINT_SERVICE = "events"
USAGE = "bosky flush [OPTIONS]"
DESCRIPTION = """\
Send the events earlier runs spooled, oldest first, in batches of up to 10.
Each is deleted only after EventBridge returned its EventId.  Concurrent
flushes are safe: one holds the spool's lock, the others leave it the work.
Where each goes: the endpoint and region configured now (--endpoint-url,
--region, AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_REGION, the config files), else
the ones stored with the event (the systemd timer's case).  A file that is
not a record bosky wrote goes to bad/, an event EventBridge refuses for good
(its entry, or a bus that is gone) to rejected/ with the reason; neither
holds up the others.
"""
EPILOG = """\
exit status:
  0  the spool is empty (or another flush is sending it)
  1  EventBridge refused an event for good (moved to rejected/), a file was
     not a record (moved to bad/), or a request failed in a way retrying
     cannot fix (the events stay spooled)
  2  usage error
  75 events remain spooled (out of time); run bosky flush again later
"""


def add_arguments(parser):
    options.add_delivery(parser)
    options.add_aws(parser, instance=False)
    options.add_common(parser)


def run(args, session):
    from bosky import resend
    the_spool = session.spool()
    the_spool.check()  # an untrusted spool is refused, never reported as empty
    deadline = session.deadline()
    report = resend.flush(session, deadline, keep_waiting=lambda: wait_a_little(session,
                                                                                deadline))
    world = session.world
    if report.busy:
        world.warn("another bosky flush holds {}; it will send the events".format(
            the_spool.path))
        return errors.EXIT_OK
    for name, why in report.bad:
        world.warn("spool file {} is not a record bosky wrote; moved to {}/: {}".format(
            name, "bad", why))
    if args.verbose:
        world.stdout.write("sent {} event(s); {} still spooled in {}\n".format(
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


def wait_a_little(session, deadline):
    """Sleep briefly while the deadline allows; False once it does not."""
    if deadline.remaining() < 0.5:
        return False
    session.clock.sleep(0.1)
    return True
