"""One deadline for the whole run (`--timeout`), measured on a clock passed in.

The run starts when the process does, not when bosky's code first runs: on a
busy boot the interpreter alone can take seconds to start, and the user's
`--timeout 30` means 30 seconds of their boot.  `process_age` reads that
from Linux's /proc text (the file reading is the caller's).
"""

from bosky import errors

# `exec bosky` from a long-running shell keeps the shell's start time; an age
# beyond this cannot be interpreter start-up, so it is not charged to the run.
MAX_STARTUP_SECONDS = 5.0


def process_age(stat_text, uptime_text, ticks_per_second):
    """Seconds since the process started, from /proc/self/stat and /proc/uptime text.

    Field 22 of stat is the start time in clock ticks since boot; the command
    name (field 2) may hold spaces and parentheses, so fields are counted
    after its closing parenthesis.  Returns None when the text is unusable.
    """
    try:
        started = int(stat_text.rsplit(")", 1)[1].split()[19]) / float(ticks_per_second)
        uptime = float(uptime_text.split()[0])
    except (IndexError, ValueError, ZeroDivisionError):
        return None
    age = max(0.0, uptime - started)
    return age if age <= MAX_STARTUP_SECONDS else None


class Deadline(object):
    """Seconds left out of a total, from a monotonic `clock` function; `option` is what
    set it (--timeout, --fetch-timeout), for the message when it runs out."""

    __slots__ = ("total", "option", "_clock", "_end")

    def __init__(self, total, clock, already_used=0.0, option="--timeout"):
        self.total, self.option = total, option
        self._clock = clock
        self._end = clock() + total - already_used

    def remaining(self):
        return max(0.0, self._end - self._clock())

    def within(self, seconds):
        """A deadline ending `seconds` from now, or with this one if that is sooner (its
        message still names this one's total: that is what the user set)."""
        inner = Deadline(max(0.0, min(seconds, self.remaining())), self._clock,
                         option=self.option)
        inner.total = self.total
        return inner

    def timeout_for(self, cap, doing):
        """The timeout for the next request: at most `cap`, never past the deadline.

        Raises DeadlineExceeded (naming what bosky was `doing`) when no time is left.
        """
        left = self.remaining()
        if left <= 0.01:
            raise errors.DeadlineExceeded(timeout=self.total, doing=doing, option=self.option)
        return min(cap, left)
