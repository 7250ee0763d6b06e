"""The running system, as the CLI wires it in: files, the home directory, child
processes, process age, random UUIDs and jitter.

Edge functions: they touch /proc, files, the password database, processes and
the OS's randomness so that nothing below `cli` has to.
"""

import os
import time

from bosky import deadline


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


def read_text_file(path):
    """A small text file's contents, or None when it is missing or unreadable."""
    try:
        with open(path, "rb") as handle:
            return handle.read(1024 * 1024).decode("utf-8", "replace")
    except OSError:
        return None


PROCESS_TIMEOUT = 60.0  # credential_process: as Go v2's default


def run_process(argv):
    """(exit status, stdout, stderr) of a child process run without a shell."""
    import subprocess
    try:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
    except OSError as exc:
        return 127, b"", "cannot run {}: {}".format(argv[0] if argv else "''",
                                                     exc.strerror).encode()
    try:
        out, err = child.communicate(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        return 124, out, b"timed out after 60 s"
    return child.returncode, out, err


def read_tail(path, max_bytes):
    """The last `max_bytes` of a file, or None when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - max_bytes))
            return handle.read(max_bytes)
    except OSError:
        return None


def is_dir(path):
    return os.path.isdir(path)


def touch(path):
    """Create an empty marker file (and its directory, 0755)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "ab"):
        pass
