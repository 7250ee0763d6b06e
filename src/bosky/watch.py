"""`bosky watch`: a termination handler with no daemon framework, queue or SDK.

IMDS says when the instance is going away: `autoscaling/target-lifecycle-state`
turns `Terminated` (Auto Scaling, with a termination hook holding the
instance) and `spot/instance-action` appears two minutes before a spot
interruption.  The watcher polls both; on either it sends a `terminating`
event, runs the on-terminate command as a reported step (heartbeating the
hook so a long job keeps the instance), completes the hook with CONTINUE and
exits 0.  IMDS hiccups are logged and polled through; the token is renewed as
it expires; SIGTERM (systemd stopping the service) ends the watch with 0.
"""

import json
import signal
import threading

from bosky import errors, lifecycle, steps
from bosky.aws import imds
from bosky.emit import EventSpec

TARGET_STATE = "/latest/meta-data/autoscaling/target-lifecycle-state"
SPOT_ACTION = "/latest/meta-data/spot/instance-action"


class Unbounded(object):
    """A deadline that never ends: the watch runs until told otherwise."""

    def remaining(self):
        return float("inf")

    def timeout_for(self, cap, doing):
        return cap


def termination_notice(imds_client):
    """Why the instance is being terminated, or None while it is not."""
    state = imds_client.get(TARGET_STATE, optional=True, cache=False)
    if state is not None and state.strip() == b"Terminated":
        return "Auto Scaling is terminating this instance (target lifecycle state Terminated)"
    spot = imds_client.get(SPOT_ACTION, optional=True, cache=False)
    if spot is not None:
        try:
            notice = json.loads(spot.decode("utf-8"))
            return "spot interruption: {} at {}".format(notice["action"], notice["time"])
        except (ValueError, KeyError, TypeError):
            return "spot interruption notice: {}".format(spot.decode("utf-8", "replace")[:200])
    return None


def wait_for_termination(imds_client, interval, stop, log):
    """Poll until a notice appears (returned) or `stop` is set (None)."""
    while not stop.is_set():
        try:
            notice = termination_notice(imds_client)
        except errors.BoskyError as exc:  # a hiccup: say so in --debug, ask again next time
            log("IMDS did not answer this poll: {}".format(exc))
            notice = None
        if notice:
            return notice
        stop.wait(interval)
    return None


def heartbeat_while(reporter, hook, group, interval, done):
    """Record heartbeats every `interval` seconds until `done` is set."""
    while not done.wait(interval):
        try:
            lifecycle.heartbeat(reporter, hook, group)
        except Exception as exc:  # noqa: BLE001 -- reported; the command goes on
            steps.report_error(reporter.deps, exc)


def run_on_terminate(reporter, command, hook, group, heartbeat_interval):
    done = threading.Event()
    beater = None
    if hook:
        beater = threading.Thread(target=heartbeat_while, name="bosky-heartbeat",
                                  args=(reporter, hook, group, heartbeat_interval, done))
        beater.start()
    try:
        return steps.run_step(reporter, ["/bin/sh", "-c", command], "on-terminate")
    finally:
        done.set()
        if beater is not None:
            beater.join()


def watch(reporter, interval, hook, on_terminate, heartbeat_interval):
    """Watch until termination or SIGTERM; returns the exit status."""
    deps, group = reporter.deps, reporter.settings.group
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda sig, frame: stop.set())
                for number in (signal.SIGTERM, signal.SIGINT)}
    client = imds.ImdsClient(deps.send, deps.env, Unbounded(), deps.log, remember_failures=False)
    deps.log("watching {} and {} every {:g} s".format(TARGET_STATE, SPOT_ACTION, interval))
    try:
        notice = wait_for_termination(client, interval, stop, deps.log)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if notice is None:
        deps.log("stopped by a signal; nothing to do")
        return errors.EXIT_OK
    steps.send_quietly(reporter, EventSpec("terminating", notice, {"Step": "terminate"}))
    if on_terminate:
        run_on_terminate(reporter, on_terminate, hook, group, heartbeat_interval)
    if hook:
        lifecycle.complete(reporter, hook, "CONTINUE", group)
    return errors.EXIT_OK
