"""Running a wrapped command: live pass-through, a bounded output tail, signals forwarded.

The child inherits standard input.  Its standard output and error come
through pipes that bosky copies, chunk by chunk as they arrive, to its own
standard output and error, so what the user (or cloud-init's log) sees is
unchanged, while the last `tail_bytes` of the combined output are kept for
the event.  SIGINT, SIGTERM and SIGHUP sent to bosky are passed to the child.
The exit status follows the shell: the child's own, 128+N when signal N
killed it, 127 when it could not be started.  A background process the
command leaves behind may keep its output pipes open; bosky stops reading
shortly after the command itself exits rather than waiting for it.
"""

import os
import selectors
import signal
import subprocess

TAIL_BYTES = 4096
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXIT_CANNOT_RUN = 127
POLL_SECONDS = 0.2   # how often to look whether the child has exited
DRAIN_SECONDS = 0.5  # after it exits: output still arriving within this is kept


class Finished(object):
    __slots__ = ("exit_status", "signal", "tail", "start_error", "seconds")

    def __init__(self, exit_status, tail=b"", signal_number=None, start_error=None, seconds=0.0):
        self.exit_status = exit_status
        self.signal = signal_number
        self.tail = tail
        self.start_error = start_error
        self.seconds = seconds


class Tail(object):
    """The last `limit` bytes written to it."""

    def __init__(self, limit):
        self._limit, self._data = limit, bytearray()

    def add(self, chunk):
        self._data += chunk
        if len(self._data) > 2 * self._limit:  # trim now and then, not on every chunk
            del self._data[:-self._limit]

    def value(self):
        return bytes(self._data[-self._limit:])


def _write_all(fd, data):
    """Copy to our own stream; a closed stream must never stall the child."""
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass


def _copy_output(child, tail, out_fd, err_fd, clock):
    """Copy until both pipes close -- or, once the child has exited, until they go quiet.

    A command that starts a background process (`server &`) leaves that process
    holding the pipes: waiting for them to close would hang the step forever.
    """
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ, out_fd)
    selector.register(child.stderr, selectors.EVENT_READ, err_fd)
    exited_at = None
    while selector.get_map():
        ready = selector.select(POLL_SECONDS)
        for key, _ in ready:
            chunk = os.read(key.fileobj.fileno(), 65536)
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            _write_all(key.data, chunk)
            tail.add(chunk)
        if exited_at is None and child.poll() is not None:
            exited_at = clock()
        if exited_at is not None and not ready and clock() - exited_at >= DRAIN_SECONDS:
            break  # the child is gone and what is left of its output has been read
    selector.close()


def run_child(argv, clock, tail_bytes=TAIL_BYTES, out_fd=1, err_fd=2):
    """Run `argv` to the end; a Finished says how it ended and what it printed last."""
    started = clock()
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return Finished(EXIT_CANNOT_RUN, start_error="cannot run {}: {}".format(
            argv[0] if argv else "''", reason))
    previous = {}
    for number in FORWARDED_SIGNALS:
        previous[number] = signal.signal(number, lambda sig, frame: child.send_signal(sig))
    tail = Tail(tail_bytes)
    try:
        _copy_output(child, tail, out_fd, err_fd, clock)
        code = child.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    seconds = clock() - started
    if code < 0:
        return Finished(128 - code, tail.value(), signal_number=-code, seconds=seconds)
    return Finished(code, tail.value(), seconds=seconds)
