"""Reporting steps: `bosky run` (one command) and `bosky run-parts` (a bundle of them).

A step sends a `start` event, runs the command, then sends `pass` or `fail`
with Step, ExitCode, DurationSeconds, Command and OutputTail.  The start event
goes out from a thread, so the command starts at once even when the network
is not up yet; the finish never overtakes it: when the command ends, the
start's retries stop and, if it is still not delivered, it goes in the same
PutEvents as the finish, ahead of it (or into the spool ahead of it).
Reporting never changes the step's outcome: bosky exits with the command's
own status, so an event that cannot be delivered is reported on stderr (and
spooled) here instead of stopping the run -- the one place besides
`cli.main` that turns bosky errors into lines.
"""

import os
import re
import stat
import threading

from bosky import child, errors
from bosky.delivery import deliver
from bosky.report import EventSpec

# run-parts(8): Debian runs names of letters, digits, _ and - only; Red Hat's also
# names with a dot (10-setup.sh), but not backups and package-manager leftovers.
# bosky takes Red Hat's rule, with Debian's leftovers added to the skip list.
PART_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
SKIPPED_SUFFIXES = ("~", ",v", ".rpmsave", ".rpmorig", ".rpmnew", ".swp", ".cfsaved",
                    ".dpkg-old", ".dpkg-dist", ".dpkg-new", ".dpkg-tmp", ".dpkg-bak",
                    ".ucf-old", ".ucf-dist", ".ucf-new")


def report_error(world, problem):
    """Print a failure the way cli.main would, without stopping the step."""
    world.report(problem)


class Starter(object):
    """The start event of a step, sent from a thread while the command runs."""

    def __init__(self, reporter, spec):
        self._reporter, self._spec = reporter, spec
        self._stop, self._outcome, self._error = threading.Event(), None, None
        self._thread = threading.Thread(target=self._send, name="bosky-start", daemon=True)
        self._thread.start()

    def _send(self):
        try:
            session = self._reporter.session
            deadline = session.deadline()
            entry, target = self._reporter.build(self._spec, deadline)
            self._outcome = deliver(session, [entry], target, deadline, fresh=True,
                                    stop=self._stop)
        except Exception as exc:  # noqa: BLE001 -- reported by finish(), never fatal here
            self._error = exc

    def finish(self):
        """Stop retrying; the start entry if it must go ahead of the finish, else None."""
        self._stop.set()
        self._thread.join()  # bounded by one attempt's cap
        outcome, world = self._outcome, self._reporter.world
        if self._error is not None:
            report_error(world, self._error)
        elif outcome.rejected or outcome.fatal:
            report_error(world, outcome.rejected[0][1] if outcome.rejected else outcome.fatal)
        elif outcome.pending:
            return outcome.pending[0]
        return None


def outcome_message(step, finished):
    if finished.start_error:
        return "{} could not start: {}".format(step, finished.start_error)
    if finished.signal:
        return "{} was killed by signal {} after {:.1f} s".format(step, finished.signal,
                                                                 finished.seconds)
    return "{} exited {} after {:.1f} s".format(step, finished.exit_status, finished.seconds)


def run_step(reporter, argv, step=None, cwd=None, env=None):
    """Run one command as a reported step; returns its Finished."""
    step = step or os.path.basename(argv[0])
    base = {"Step": step, "Command": list(argv)}
    base.update(reporter.step_fields)
    starter = Starter(reporter, EventSpec("start", "{} started".format(step), base))
    finished = child.run_child(argv, reporter.session.clock.monotonic, cwd=cwd, env=env)
    if finished.start_error:
        reporter.world.error_line("bosky: error: " + finished.start_error)
    fields = dict(base, ExitCode=finished.exit_status,
                  DurationSeconds=round(finished.seconds, 3))
    tail = finished.tail.decode("utf-8", "replace") or (finished.start_error or "")
    spec = EventSpec("pass" if finished.exit_status == 0 else "fail",
                     outcome_message(step, finished), fields, tail=tail)
    send_after(reporter, starter.finish(), spec)
    return finished


def send_after(reporter, earlier, spec):
    """Send `spec`'s event, behind `earlier` (an entry still pending) if there is one."""
    try:
        deadline = reporter.session.deadline()
        entry, target = reporter.build(spec, deadline)
        reporter.send_entries(([earlier] if earlier else []) + [entry], target, deadline)
    except Exception as exc:  # noqa: BLE001 -- reported, never allowed to end the step
        report_error(reporter.world, exc)


def send_quietly(reporter, spec):
    try:
        reporter.send(spec)
    except Exception as exc:  # noqa: BLE001 -- reported, never allowed to end the step
        report_error(reporter.world, exc)


def skip_reason(name, path):
    """Why run-parts does not run `path`, or None when it does."""
    if name.startswith("."):
        return "a dotfile"
    if name.endswith(SKIPPED_SUFFIXES):
        return "a backup or package-manager file"
    if not PART_NAME.fullmatch(name):
        return "its name is not ASCII letters, digits, _, - and ."
    try:
        info = os.stat(path)
    except OSError as exc:
        return "a broken symlink" if os.path.islink(path) else "cannot be read ({})".format(
            exc.strerror)
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if not os.access(path, os.X_OK):
        return "not executable"
    return None


def list_parts(directory, note):
    """The parts in `directory` to run, in C-locale order, as run-parts(8) picks them;
    `note(name, reason)` hears about each file skipped."""
    try:
        names = sorted(os.listdir(directory))  # code-point order: the C locale's
    except OSError as exc:
        raise errors.UsageError(reason="run-parts {}: {}".format(directory, exc.strerror))
    parts = []
    for name in names:
        path = os.path.join(directory, name)
        reason = skip_reason(name, path)
        if reason:
            note(name, reason)
        else:
            parts.append(path)
    return parts


def run_parts(reporter, directory, keep_going=False, verbose=False):
    """Run each part as a step; stop at the first failure unless keep_going.

    Returns the exit status: the first failing step's, else 0.  A final event
    summarises the bundle with each step's result.
    """
    def note(name, reason):
        line = "run-parts: skipped {}: {}".format(name, reason)
        reporter.session.log(line)
        if verbose:
            reporter.world.error_line("bosky: " + line)
    steps = [(os.path.basename(path), [path], None) for path in list_parts(directory, note)]
    return run_steps(reporter, os.path.basename(os.path.normpath(directory)), steps,
                     keep_going)


def run_steps(reporter, bundle, steps, keep_going=False, env=None, before_summary=None):
    """Run [(name, argv, cwd)] as steps (with `env`, if given), then one summary event;
    returns the first failure's exit status, else 0.  `before_summary(results)` may add
    an event of its own before the summary (bootstrap: no init file found)."""
    results, first_failure = [], None
    for name, argv, cwd in steps:
        finished = run_step(reporter, argv, name, cwd=cwd, env=env)
        results.append({"Step": name, "ExitCode": finished.exit_status,
                        "DurationSeconds": round(finished.seconds, 3)})
        if finished.exit_status != 0 and first_failure is None:
            first_failure = (name, finished.exit_status)
            if not keep_going:
                break
    if before_summary is not None:
        before_summary(results, first_failure)
    if first_failure:
        message = "{}: {} of {} steps ran; {} failed first (exit {})".format(
            bundle, len(results), len(steps), first_failure[0], first_failure[1])
    else:
        message = "{}: all {} steps passed".format(bundle, len(results))
    fields = {"Step": bundle, "Steps": results}
    fields.update(reporter.step_fields)
    send_quietly(reporter, EventSpec("fail" if first_failure else "pass", message, fields))
    return first_failure[1] if first_failure else errors.EXIT_OK
