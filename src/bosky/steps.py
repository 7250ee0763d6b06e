"""Reporting steps: `bosky run` (one command) and `bosky run-parts` (a bundle of them).

A step sends a `start` event, runs the command, then sends `pass` or `fail`
with Step, ExitCode, DurationSeconds, Command and OutputTail.  The start event
goes out from a thread, so the command starts at once even when the network
is not up yet.  Reporting never changes the step's outcome: bosky exits with
the command's own status, so an event that cannot be delivered is reported
on stderr (and spooled) here instead of stopping the run -- the one place
besides `cli.main` that turns bosky errors into lines.
"""

import os
import stat
import threading

from bosky import child, errors
from bosky.emit import EventSpec


def report_error(deps, problem):
    """Print a failure the way cli.main would, without stopping the step."""
    deps.error_line(errors.describe(problem))


def send_quietly(reporter, spec):
    try:
        reporter.send(spec)
    except Exception as exc:  # noqa: BLE001 -- reported, never allowed to end the step
        report_error(reporter.deps, exc)


def start_in_background(reporter, spec):
    thread = threading.Thread(target=send_quietly, args=(reporter, spec), name="bosky-start")
    thread.start()
    return thread


def outcome_message(step, finished):
    if finished.start_error:
        return "{} could not start: {}".format(step, finished.start_error)
    if finished.signal:
        return "{} was killed by signal {} after {:.1f} s".format(step, finished.signal,
                                                                 finished.seconds)
    return "{} exited {} after {:.1f} s".format(step, finished.exit_status, finished.seconds)


def run_step(reporter, argv, step=None):
    """Run one command as a reported step; returns its Finished."""
    step = step or os.path.basename(argv[0])
    base = {"Step": step, "Command": list(argv)}
    starter = start_in_background(reporter, EventSpec("start", "{} started".format(step), base))
    finished = child.run_child(argv, reporter.deps.monotonic)
    if finished.start_error:
        report_error(reporter.deps, finished.start_error)
    fields = dict(base, ExitCode=finished.exit_status,
                  DurationSeconds=round(finished.seconds, 3))
    tail = finished.tail.decode("utf-8", "replace") or (finished.start_error or "")
    spec = EventSpec("pass" if finished.exit_status == 0 else "fail",
                     outcome_message(step, finished), fields, tail=tail)
    send_quietly(reporter, spec)
    starter.join()  # bounded by the start event's own deadline
    return finished


def complete_hook_quietly(reporter, exit_status):
    """--complete-lifecycle after run/run-parts: CONTINUE for 0, else ABANDON; errors are
    reported, the command's exit status stands."""
    hook = reporter.settings.complete_lifecycle
    if not hook:
        return
    from bosky import lifecycle
    try:
        lifecycle.complete(reporter, hook, "CONTINUE" if exit_status == 0 else "ABANDON",
                           reporter.settings.group)
    except Exception as exc:  # noqa: BLE001 -- reported, never allowed to end the step
        report_error(reporter.deps, exc)


def list_parts(directory, log):
    """Executable regular files in `directory`, in lexical order (as run-parts(8) does)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise errors.UsageError(reason="run-parts {}: {}".format(directory, exc.strerror))
    parts = []
    for name in names:
        path = os.path.join(directory, name)
        info = os.stat(path)
        if name.startswith(".") or not stat.S_ISREG(info.st_mode) or \
                not os.access(path, os.X_OK):
            log("run-parts: skipping {} (a dotfile, not a regular file, or not "
                "executable)".format(path))
            continue
        parts.append(path)
    return parts


def run_parts(reporter, directory, keep_going=False):
    """Run each part as a step; stop at the first failure unless keep_going.

    Returns the exit status: the first failing step's, else 0.  A final event
    summarises the bundle with each step's result.
    """
    results, first_failure = [], None
    parts = list_parts(directory, reporter.deps.log)
    for path in parts:
        finished = run_step(reporter, [path], os.path.basename(path))
        results.append({"Step": os.path.basename(path), "ExitCode": finished.exit_status,
                        "DurationSeconds": round(finished.seconds, 3)})
        if finished.exit_status != 0 and first_failure is None:
            first_failure = (os.path.basename(path), finished.exit_status)
            if not keep_going:
                break
    bundle = os.path.basename(os.path.normpath(directory))
    if first_failure:
        message = "{}: {} of {} steps ran; {} failed first (exit {})".format(
            bundle, len(results), len(parts), first_failure[0], first_failure[1])
    else:
        message = "{}: all {} steps passed".format(bundle, len(results))
    send_quietly(reporter, EventSpec("fail" if first_failure else "pass", message,
                                     {"Step": bundle, "Steps": results}))
    return first_failure[1] if first_failure else errors.EXIT_OK
