"""`bosky boot-report`: wait for cloud-init, then report its verdict once per instance.

Reads cloud-init's files, builds the event from `cloudinit`'s summary, adds
the output log's tail on failure, and sends it with the usual delivery
guarantees (spooled if the network is not there).  With --complete-lifecycle
it gates the launch hook on the verdict: CONTINUE for pass and degraded,
ABANDON for fail.  A marker under the state directory makes it report once
per instance unless --every-boot.
"""

import os

from bosky import cloudinit, errors
from bosky.commands import options

NAME = "boot-report"
HINT = "bosky boot-report"
SUMMARY = "report cloud-init's verdict on this boot (bake into an AMI)"
ENDPOINT_SERVICE = "events"
USAGE = "bosky boot-report [--wait S] [OPTIONS]"
DESCRIPTION = """\
Wait (up to --wait) for cloud-init to finish, then send one event with its
verdict: pass, fail (any stage or result.json has errors) or degraded (only
recoverable errors), with Stages, Errors (the failing modules, such as
scripts_user), BootSeconds, Datasource, CloudInitStatus, the instance context
and, on failure, OutputTail from the output log.  If cloud-init does not
finish in time, a fail event names the stage it is stuck in.  Reports once per
instance (a marker in --state-dir) unless --every-boot; a later run says why
it sent nothing with --verbose.  --dry-run prints the event instead.  With
--complete-lifecycle HOOK: CONTINUE on pass or degraded, ABANDON on fail.
Exit status: as for any event (0 sent, 75 spooled, 1 not delivered); 2 off a
cloud-init machine.
"""
TAIL_BYTES = 4096
CLOUD_INIT_STATUS = {"pass": "done", "fail": "error", "degraded": "degraded"}


def add_arguments(parser):
    boot = parser.add_argument_group("boot report")
    boot.add_argument("--run-dir", metavar="DIR", default="/run/cloud-init",
                      help="where cloud-init writes status.json and result.json "
                           "(default /run/cloud-init)")
    boot.add_argument("--log", metavar="FILE", default="/var/log/cloud-init-output.log",
                      help="the output log whose tail a failure event carries")
    boot.add_argument("--wait", metavar="SECONDS", default="300",
                      help="how long to wait for cloud-init to finish (default 300)")
    boot.add_argument("--every-boot", action="store_true",
                      help="report every boot, not once per instance")
    boot.add_argument("--state-dir", metavar="DIR", default="/var/lib/bosky",
                      help="where the once-per-instance marker lives (default /var/lib/bosky)")
    boot.add_argument("--dry-run", action="store_true",
                      help="print the event as JSON instead of sending it (no marker)")
    options.add_event(parser)


def spec_for(summary, problem, status_doc, wait, log_tail):
    """The EventSpec for what was found: a summary, a boot still running, or nothing readable."""
    from bosky.report import EventSpec
    if summary is None:
        fields = {"CloudInitStatus": "unreadable"}
        message = "cloud-init's status could not be read within {:g} s: {}".format(wait, problem)
        return EventSpec("fail", message, fields, tail=log_tail)
    if not summary.done:
        fields = cloudinit.detail_fields(summary, "running")
        message = "cloud-init did not finish within {:g} s: {}".format(
            wait, cloudinit.where_it_is(status_doc))
        return EventSpec("fail", message, fields, tail=log_tail)
    fields = cloudinit.detail_fields(summary, CLOUD_INIT_STATUS[summary.status])
    return EventSpec(summary.status, cloudinit.message_for(summary), fields,
                     tail=log_tail if summary.status == "fail" else None)


def run(args, session):
    from bosky import system
    from bosky.report import Reporter
    from bosky.commands.emit import send_then_complete
    args.wait = options.parse_seconds(args.wait, "--wait", 0, 86400)
    if not os.path.isdir(args.run_dir):
        raise errors.UsageError(reason="not a cloud-init machine: {} does not exist (pass "
                                       "--run-dir if cloud-init keeps its state elsewhere)"
                                       .format(args.run_dir))
    world, reporter = session.world, Reporter(session)
    marker = None if args.every_boot or args.dry_run else marker_path(session, args.state_dir)
    if marker is not None and world.read_text(marker) is not None:
        said = "boot already reported for this instance ({} exists); --every-boot reports " \
               "again".format(marker)
        session.log(said)
        if args.verbose:
            world.error_line("bosky: " + said)
        return errors.EXIT_OK
    summary, status_doc, problem = cloudinit.wait_for_cloud_init(
        world.read_text, os.path.join(args.run_dir, "status.json"),
        os.path.join(args.run_dir, "result.json"), args.wait, world.monotonic, world.sleep)
    tail_bytes = system.read_tail(args.log, TAIL_BYTES)
    tail = tail_bytes.decode("utf-8", "replace") if tail_bytes is not None else None
    spec = spec_for(summary, problem, status_doc, args.wait, tail)
    if args.dry_run:
        return reporter.send(spec, dry_run=True)
    try:
        if session.settings.complete_lifecycle:
            send_then_complete(reporter, spec, "ABANDON" if spec.status == "fail" else
                               "CONTINUE")
        else:
            reporter.send(spec, verbose=args.verbose)
    except errors.SpooledError:
        mark(world, marker)  # the event is safe in the spool: this boot is reported
        raise
    mark(world, marker)
    return errors.EXIT_OK


def marker_path(session, state_dir):
    instance = session.identity(session.deadline()).instance_id
    return os.path.join(state_dir, "boot-reported.{}".format(instance.replace("/", "_")))


def mark(world, marker):
    from bosky import system
    if marker is not None:
        try:
            system.touch(marker)
        except OSError as exc:  # the report went out; only "once per instance" is at stake
            world.warn("cannot write {}: {}; the next boot may report again".format(
                marker, exc.strerror))
