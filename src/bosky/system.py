"""The running system: the one place that touches the clock, /proc, files, child
processes, the password database and the OS's randomness.

`World` carries all of it, built once by `cli.main` (`real_world`) and passed
down, so that nothing below the CLI reads the environment or the clock itself.
"""

import os
import signal
import sys
import time

from bosky import __version__, deadline


class World(object):
    """The outside world as one process sees it."""

    def __init__(self, env, stdin, stdout, stderr, started, debug=False, euid=None):
        self.env = env            # a copy of the environment, read once
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.started = started    # time.monotonic() when main began
        self.debug = debug
        self.euid = os.geteuid() if euid is None else euid
        self.wall_clock = time.time
        self.monotonic = time.monotonic
        self.sleep = time.sleep
        self.home = home_directory(env, self.euid)

    def log(self, text):
        """The --debug trace (never secrets); nothing without --debug."""
        if self.debug:
            from bosky.errors import redact
            self.error_line("bosky: debug: [{:6.3f}s] {}".format(
                time.monotonic() - self.started, redact(text)))

    def warn(self, text):
        self.error_line("bosky: warning: {}".format(text))

    def report(self, problem):
        """One line for a failure; for a bug (not a BoskyError), with --debug, its traceback
        first.  cli.main and the steps that must go on after a failure both say it so."""
        from bosky import errors
        if self.debug and not isinstance(problem, errors.BoskyError):
            import traceback
            try:
                traceback.print_exception(type(problem), problem, problem.__traceback__,
                                          file=self.stderr)
            except (OSError, ValueError, AttributeError):
                pass
        self.error_line(errors.describe(problem))

    def error_line(self, line):
        try:  # a closed or full stderr loses the line, never the run
            self.stderr.write(line + "\n")
            self.stderr.flush()
        except (OSError, ValueError, AttributeError):
            pass

    def age(self):
        """Seconds this process has run: the deadline counts from its start."""
        return read_process_age(self.started)

    def random(self):
        return random_fraction()

    def uuid(self):
        return random_uuid()

    def read_text(self, path):
        return read_text_file(path)

    def run_process(self, argv, timeout):
        return run_process(argv, timeout)


def version_line():
    from bosky import loaded_from
    return "bosky {} on Python {}, {}".format(__version__, sys.version.split()[0], loaded_from())


def random_uuid():
    """A random (version 4) UUID string, without importing uuid (it loads ctypes on 3.6)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return "-".join((text[:8], text[8:12], text[12:16], text[16:20], text[20:]))


def random_fraction():
    """A uniform float in [0, 1) for retry jitter; `random` loads only when a retry needs it."""
    import random
    return random.random()


def read_process_age(started):
    """Seconds since this process started (Linux /proc), else since `main` began."""
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            age = deadline.process_age(stat.read(), uptime.read(), os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError):
        age = None
    return age if age is not None else time.monotonic() - started


def home_directory(env, euid):
    """HOME, else the password database's entry (as botocore's expanduser does), else None.

    cloud-init runs user data without HOME; the AWS CLI then still finds
    root's ~/.aws through the password database, and so does bosky.
    """
    if env.get("HOME"):
        return env["HOME"]
    try:
        import pwd
        return pwd.getpwuid(euid).pw_dir or None
    except (ImportError, KeyError):
        return None


def read_regular_file(path, limit, extra_flags=0):
    """Up to `limit` bytes of the regular file at `path`; OSError for anything else.  It
    is opened without blocking and checked before a byte is read: a FIFO with no writer
    would hold bosky past every deadline, a device would never end."""
    import errno
    import stat
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | extra_flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise OSError(errno.EISDIR, "Is a directory")
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO or a device)")
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        return handle.read(limit)


def hold_lock(path, blocking):
    """An exclusive flock on the lock file at `path` (made if missing): the open file (close
    it to release), or None when another process holds it and not `blocking`.  OSError for
    a path that is no lock file: a link (ELOOP), a directory, a FIFO put there."""
    import errno
    import fcntl
    import stat
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) |
                 getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    return os.fdopen(fd, "rb")


def read_input(stream, limit, deadline):
    """Up to `limit` bytes of `stream` (standard input), read as they come until it ends,
    the limit is reached or `deadline` runs out: then TimeoutError (a pipe nobody closes,
    a background process holding it, must not hold bosky past its deadline)."""
    try:
        fd = stream.buffer.fileno()
    except (AttributeError, OSError, ValueError):  # no descriptor: an in-memory stream
        return stream.buffer.read(limit)
    import select
    pieces, size = [], 0
    while size < limit:
        ready, _, _ = select.select([fd], [], [], deadline.remaining())
        if not ready:
            raise TimeoutError("standard input did not end")
        piece = os.read(fd, limit - size)
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)


def read_text_file(path, limit=1024 * 1024):
    """A small text file's contents, or None when it is missing, unreadable or not a
    regular file."""
    try:
        return read_regular_file(path, limit).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def run_process(argv, timeout):
    """(exit status, stdout, stderr) of a child run without a shell, for at most `timeout` s.

    The child gets its own process group, so at the timeout it is killed with
    everything it started: a grandchild holding the pipes must not keep bosky
    waiting (credential_process helpers are often shell scripts).
    """
    import subprocess
    try:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, start_new_session=True)
    except (OSError, ValueError) as exc:
        return 127, b"", "cannot run {}: {}".format(argv[0] if argv else "''", getattr(
            exc, "strerror", None) or exc).encode("utf-8", "replace")
    try:
        out, err = child.communicate(timeout=max(timeout, 0.01))
    except subprocess.TimeoutExpired:
        _kill_group(child)
        return 124, b"", "timed out after {:.3g} s".format(timeout).encode()
    return child.returncode, out, err


def _kill_group(child):
    """Kill the child's whole process group and reap it, without reading its pipes again."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except OSError:
        child.kill()
    child.wait()
    for stream in (child.stdout, child.stderr):
        stream.close()


def read_tail(path, max_bytes):
    """The last `max_bytes` of a file, or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - max_bytes))
            return handle.read(max_bytes)
    except OSError:
        return None


def touch(path):
    """Create an empty marker file (and its directory, 0755)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "ab"):
        pass
