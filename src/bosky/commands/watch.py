"""`bosky watch`: a termination handler with no daemon framework, queue or SDK.

IMDS says when the instance is going away: `autoscaling/target-lifecycle-state`
turns `Terminated` (Auto Scaling, with a termination hook holding the
instance) and `spot/instance-action` appears two minutes before a spot
interruption.  The watcher polls both; on either it sends a `terminating`
event, runs the on-terminate command as a reported step (heartbeating the
hook so a long job keeps the instance), completes the hook with CONTINUE and
exits 0.  Each poll has its own short deadline; IMDS hiccups (no answer, a
reply that cannot be read) are logged and polled through; the token is
renewed as it expires; SIGTERM (systemd stopping the service) ends it with 0.
"""

import os
import signal
import threading

from bosky import errors, jsonin
from bosky.aws import imds
from bosky.commands import options

NAME = "watch"
HINT = "bosky watch"
SUMMARY = "wait for termination: report, run a command, complete the hook"
ENDPOINT_SERVICE = "events"
USAGE = "bosky watch [--hook NAME] [--on-terminate CMD] [OPTIONS]"
DESCRIPTION = """\
Run until this instance is being terminated: poll IMDS every --interval for
autoscaling/target-lifecycle-state = Terminated and for a spot interruption
notice; then send a `terminating` event, run --on-terminate (reported like
`bosky run`, heartbeating --hook while it runs), complete --hook with
CONTINUE, and exit 0.  Survives IMDS hiccups and token expiry; exits 0 on
SIGTERM.  --timeout bounds each report and hook call, not the watch.
"""
TARGET_STATE = "/latest/meta-data/autoscaling/target-lifecycle-state"
SPOT_ACTION = "/latest/meta-data/spot/instance-action"
POLL_TIMEOUT = 5.0
INTERVAL_RANGE = (0.1, 86400.0)


def add_arguments(parser):
    watch = parser.add_argument_group("watch")
    watch.add_argument("--interval", metavar="SECONDS", default="5",
                       help="how often to ask IMDS (default 5)")
    watch.add_argument("--on-terminate", metavar="CMD|S3URL",
                       help="a shell command to run on termination, reported like bosky run; "
                            "or s3://BUCKET/KEY: a script fetched when termination starts")
    watch.add_argument("--on-terminate-sha256", metavar="HEX",
                       help="with an s3:// --on-terminate: the script's SHA-256, checked "
                            "before it runs")
    watch.add_argument("--heartbeat-interval", metavar="SECONDS", default="120",
                       help="heartbeat the hook this often while CMD runs (default 120)")
    options.add_lifecycle(parser, hook_option=True)
    options.add_event(parser, lifecycle=False)


def termination_notice(client, deadline):
    """Why the instance is being terminated, or None while it is not."""
    state = client.get(TARGET_STATE, deadline, optional=True, cache=False)
    if state is not None and state.strip() == b"Terminated":
        return "Auto Scaling is terminating this instance (target lifecycle state Terminated)"
    spot = client.get(SPOT_ACTION, deadline, optional=True, cache=False)
    if spot is not None:
        try:
            notice = jsonin.loads(spot)
            return "spot interruption: {} at {}".format(notice["action"], notice["time"])
        except (ValueError, KeyError, TypeError):
            return "spot interruption notice: {}".format(spot.decode("utf-8", "replace")[:200])
    return None


def wait_for_termination(session, client, interval, stop):
    """Poll until a notice appears (returned) or `stop` is set (None)."""
    while not stop.is_set():
        try:
            notice = termination_notice(client, session.deadline(POLL_TIMEOUT))
        except errors.BoskyError as exc:  # a hiccup: say so in --debug, ask again next time
            session.log("IMDS did not answer this poll: {}".format(exc))
            notice = None
        if notice:
            return notice
        stop.wait(interval)
    return None


def heartbeat_while(session, hook, interval, done):
    """Record heartbeats every `interval` seconds until `done` is set."""
    from bosky import hooks, steps
    while not done.wait(interval):
        try:
            hooks.heartbeat(session, hook, session.settings.group)
        except Exception as exc:  # noqa: BLE001 -- reported; the command goes on
            steps.report_error(session.world, exc)


def run_on_terminate(reporter, command, hook, heartbeat_interval, sha256=None):
    """Run the command (or the s3:// script, fetched now) as a reported step, heartbeating
    the hook meanwhile.  A script that cannot be fetched is a fail event; the hook is still
    completed by the caller, so termination goes on."""
    from bosky import steps
    done, beater = threading.Event(), None
    if hook:
        beater = threading.Thread(target=heartbeat_while, name="bosky-heartbeat",
                                  args=(reporter.session, hook, heartbeat_interval, done))
        beater.start()
    try:
        if not command.startswith("s3://"):
            return steps.run_step(reporter, ["/bin/sh", "-c", command], "on-terminate")
        return run_fetched_script(reporter, command, sha256)
    finally:
        done.set()
        if beater is not None:
            beater.join()


def run_fetched_script(reporter, url, sha256):
    """Fetch the s3:// script (verified when `sha256`, already checked, is given), run it,
    remove it."""
    import shutil
    import tempfile
    from bosky import localfiles, steps, transfer
    from bosky.commands.s3 import make_bucket
    from bosky.progress import Progress
    from bosky.report import EventSpec
    from bosky.aws import s3
    session, directory = reporter.session, None
    try:
        directory = tempfile.mkdtemp(prefix="bosky-on-terminate-")
        path = os.path.join(directory, "on-terminate")
        bucket_name, key = s3.parse_url(url)
        with localfiles.Sink(path, 0o700) as sink:
            transfer.download(make_bucket(session, bucket_name), key, sink, sha256,
                              Progress(None, session.clock.monotonic, False, key), session.log)
        with open(path, "rb") as handle:
            direct = handle.read(2) == b"#!"
        return steps.run_step(reporter, [path] if direct else ["/bin/sh", path],
                              "on-terminate")
    except Exception as exc:  # noqa: BLE001 -- whatever it was, the hook is still completed
        why = exc.message if isinstance(exc, errors.BoskyError) else "{}: {}".format(
            exc.__class__.__name__, exc)
        steps.send_quietly(reporter, EventSpec("fail", "the on-terminate script {} could not "
                                                       "be fetched: {}".format(url, why),
                                               {"Step": "on-terminate"}))
        steps.report_error(session.world, exc)
        return None
    finally:
        if directory:
            shutil.rmtree(directory, ignore_errors=True)


def run(args, session):
    """Watch until termination or SIGTERM; returns the exit status."""
    from bosky import hooks, steps
    from bosky.report import EventSpec, Reporter
    from bosky import transfer
    interval = options.parse_seconds(args.interval, "--interval", *INTERVAL_RANGE)
    if args.on_terminate_sha256 is not None and not (args.on_terminate or "").startswith(
            "s3://"):
        raise errors.UsageError(reason="--on-terminate-sha256 goes with an s3:// "
                                       "--on-terminate")
    sha256 = transfer.check_sha256_option(args.on_terminate_sha256)
    heartbeat = options.parse_seconds(args.heartbeat_interval, "--heartbeat-interval",
                                      *INTERVAL_RANGE)
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda sig, frame: stop.set())
                for number in (signal.SIGTERM, signal.SIGINT)}
    # Its own client: the session's gives up on an IMDS that once did not answer.
    client = imds.ImdsClient(session.http.request, session.settings, session.clock.monotonic,
                             session.log, remember_failures=False)
    session.log("watching {} and {} every {:g} s".format(TARGET_STATE, SPOT_ACTION, interval))
    try:
        notice = wait_for_termination(session, client, interval, stop)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if notice is None:
        session.log("stopped by a signal; nothing to do")
        return errors.EXIT_OK
    reporter = Reporter(session)
    steps.send_quietly(reporter, EventSpec("terminating", notice, {"Step": "terminate"}))
    try:
        if args.on_terminate:
            run_on_terminate(reporter, args.on_terminate, args.hook, heartbeat, sha256)
    finally:  # termination must go on, whatever the on-terminate step did
        if args.hook:
            hooks.complete(session, args.hook, "CONTINUE", session.settings.group)
    return errors.EXIT_OK
