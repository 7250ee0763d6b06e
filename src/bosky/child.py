"""Running a wrapped command: live pass-through, a bounded output tail, signals forwarded.

The child inherits standard input.  Its standard output and error come
through pipes that bosky copies, chunk by chunk as they arrive, to its own,
so what the user (or cloud-init's log) sees is unchanged, while the last
`tail_bytes` of the combined output are kept for the event.  SIGINT, SIGTERM
and SIGHUP sent to bosky are passed to the child while it runs; once it has
exited they are bosky's own again.  The exit status follows the shell: the
child's own, 128+N when signal N killed it, 127 when it could not be started.

Two things the shell gets right that a pipe reader must copy:
- a background process the command leaves behind (`server &`) keeps the
  pipes open: bosky reads for at most DRAIN_SECONDS after the command exits,
  then hands what is still open to a small relay process that goes on copying
  to the same output for as long as the writer lives, and moves on;
- when bosky's own output is closed (`bosky run -- yes | head -1`), it closes
  that pipe, so the child's next write ends it with SIGPIPE, as under a shell.
"""

import os
import selectors
import signal
import subprocess
import sys

TAIL_BYTES = 4096
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXIT_CANNOT_RUN = 127
POLL_SECONDS = 0.2   # how often to look whether the child has exited
DRAIN_SECONDS = 0.5  # after it exits: output still arriving within this is kept
# The relay: copy each source fd to its target fd until the source ends or the target fails.
RELAY_CODE = """
import os, selectors, sys
pipes = selectors.DefaultSelector()
for pair in sys.argv[1:]:
    source, target = map(int, pair.split(":"))
    pipes.register(source, selectors.EVENT_READ, target)
while pipes.get_map():
    for key, _ in pipes.select():
        chunk = os.read(key.fd, 65536)
        try:
            view = chunk
            while view:
                view = view[os.write(key.data, view):]
        except OSError:
            chunk = b""
        if not chunk:
            pipes.unregister(key.fd)
            os.close(key.fd)
"""


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
    """Copy to our own stream; False once it is closed (EPIPE) or unusable."""
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        return False
    return True


def _copy_output(child, tail, out_fd, err_fd, clock, on_exit):
    """Copy until both pipes close, or until DRAIN_SECONDS after the child exits.

    Returns the pipes still open then, as (pipe, our fd it was copied to).
    """
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ, out_fd)
    selector.register(child.stderr, selectors.EVENT_READ, err_fd)
    exited_at = None
    while selector.get_map():
        wait = POLL_SECONDS if exited_at is None else max(0.0, exited_at + DRAIN_SECONDS - clock())
        for key, _ in selector.select(wait):
            chunk = os.read(key.fileobj.fileno(), 65536)
            tail.add(chunk)
            if not chunk or not _write_all(key.data, chunk):
                selector.unregister(key.fileobj)
                key.fileobj.close()  # our output is gone: the writer's next write fails
        if exited_at is None and child.poll() is not None:
            exited_at = clock()
            on_exit()
        if exited_at is not None and clock() - exited_at >= DRAIN_SECONDS:
            break
    still_open = [(key.fileobj, key.data) for key in selector.get_map().values()]
    selector.close()
    return still_open


def hand_over(still_open):
    """Give pipes a background process still writes to a relay copying them to the same
    output, so neither that process nor its output is cut off when bosky moves on."""
    if not still_open:
        return
    pairs = ["{}:{}".format(pipe.fileno(), fd) for pipe, fd in still_open]
    try:
        subprocess.Popen([sys.executable, "-S", "-c", RELAY_CODE] + pairs,
                         stdin=subprocess.DEVNULL, pass_fds=[p.fileno() for p, _ in still_open],
                         close_fds=True)
    except (OSError, ValueError):
        pass  # no interpreter to relay with: the writer gets EPIPE, as with a closed reader
    for pipe, _ in still_open:
        pipe.close()


def cannot_run(argv, exc):
    """Why `argv` could not start: a script whose #! interpreter is missing says so, not
    that the script is (exec reports both as "No such file or directory")."""
    reason = getattr(exc, "strerror", None) or str(exc)
    name = argv[0] if argv else "''"
    if isinstance(exc, FileNotFoundError) and argv and os.path.isfile(name):
        try:
            with open(name, "rb") as script:
                first = script.readline(256)
        except OSError:
            first = b""
        if first.startswith(b"#!"):
            return "cannot run {}: its interpreter {} is missing".format(
                name, first[2:].strip().split(b" ")[0].decode("utf-8", "replace"))
    return "cannot run {}: {}".format(name, reason)


def run_child(argv, clock, tail_bytes=TAIL_BYTES, out_fd=1, err_fd=2, cwd=None, env=None):
    """Run `argv` to the end (in `cwd`, with `env` if given); a Finished says how it ended
    and what it printed last."""
    started = clock()
    # The forwarding handlers go in before the child starts, so that no signal can fall
    # between its start and theirs (bosky would end, the child would run on unreported):
    # one that comes before the child exists is kept, and sent to it once it does.
    running, pending, previous = [], [], {}

    def forward(number, frame):
        if running:
            running[0].send_signal(number)
        else:
            pending.append(number)
    for number in FORWARDED_SIGNALS:
        previous[number] = signal.signal(number, forward)

    def restore():
        for number, handler in previous.items():
            signal.signal(number, handler)
        previous.clear()
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                                 env=env)
    except (OSError, ValueError) as exc:
        restore()
        return Finished(EXIT_CANNOT_RUN, start_error=cannot_run(argv, exc))
    running.append(child)
    for number in pending:
        child.send_signal(number)
    tail = Tail(tail_bytes)
    try:
        hand_over(_copy_output(child, tail, out_fd, err_fd, clock, restore))
        code = child.wait()
    finally:
        restore()
    seconds = clock() - started
    if code < 0:
        return Finished(128 - code, tail.value(), signal_number=-code, seconds=seconds)
    return Finished(code, tail.value(), seconds=seconds)
