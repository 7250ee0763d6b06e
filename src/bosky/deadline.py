"""One deadline for the whole run (`--timeout`), measured on a clock passed in."""

from bosky import errors


class Deadline(object):
    """Seconds left out of a total, from a monotonic `clock` function."""

    __slots__ = ("total", "_clock", "_end")

    def __init__(self, total, clock):
        self.total = total
        self._clock = clock
        self._end = clock() + total

    def remaining(self):
        return max(0.0, self._end - self._clock())

    def timeout_for(self, cap, doing):
        """The timeout for the next request: at most `cap`, never past the deadline.

        Raises DeadlineExceeded (naming what bosky was `doing`) when no time is left.
        """
        left = self.remaining()
        if left <= 0.01:
            raise errors.DeadlineExceeded(timeout=self.total, doing=doing)
        return min(cap, left)
