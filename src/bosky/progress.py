"""Transfer progress on stderr: bytes, rate and time left, on one line redrawn in place.

Shown when stderr is a terminal (or with --progress), never in user data's log
unless asked; updates at most a few times a second.  The clock is passed in.
"""

UPDATE_SECONDS = 0.25


def size_text(count):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return "{:.1f} {}".format(count, unit) if unit != "B" else "{} B".format(count)
        count /= 1024.0


class Progress(object):
    def __init__(self, stream, clock, enabled, label):
        self._stream, self._clock, self.enabled, self._label = stream, clock, enabled, label
        self._total = self._started = None
        self._shown_at, self._last = 0.0, 0

    def start(self, total):
        self._total, self._started = total, self._clock()

    def update(self, done):
        self._last = done
        now = self._clock()
        if self.enabled and now - self._shown_at >= UPDATE_SECONDS:
            self._shown_at = now
            self._show("\r" + self.line(done, now) + "\033[K")

    def _show(self, text):
        """Progress is a courtesy: a closed or full stderr turns it off, never fails the
        transfer."""
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError, AttributeError):
            self.enabled = False

    def line(self, done, now):
        seconds = max(now - (self._started or now), 1e-6)
        rate = done / seconds
        parts = ["{}: {}".format(self._label, size_text(done))]
        if self._total:
            parts[0] += " of {} ({:.0f}%)".format(size_text(self._total),
                                                  100.0 * done / self._total)
        parts.append("{}/s".format(size_text(int(rate))))
        if self._total and rate > 0 and done < self._total:
            left = int((self._total - done) / rate)
            parts.append("{}:{:02d} left".format(left // 60, left % 60))
        return "  ".join(parts)

    def finish(self):
        if self.enabled:
            self._show("\r" + self.line(self._last, self._clock()) + "\033[K\n")
