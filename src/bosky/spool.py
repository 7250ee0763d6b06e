"""The durable spool: events kept on disk until `bosky flush` delivers them.

One JSON file per event, named so that a sorted listing is oldest first.
Files are written to a hidden temporary name, fsynced and renamed, so a
reader never sees half a file; mode 0600 in a 0700 directory owned by the
user; nothing is opened through a symlink.  The spool is bounded: when full,
the oldest events are dropped and the caller is told which.  A file that
cannot be read is moved to `bad/`; an entry EventBridge refused for good is
moved to `rejected/` with the reason, so neither blocks the queue.
"""

import errno
import fcntl
import json
import os
import stat

from bosky import errors

RECORD_VERSION = 1
MAX_FILES = 1000
MAX_BYTES = 64 * 1024 * 1024
SUFFIX = ".json"
BAD_DIR = "bad"
REJECTED_DIR = "rejected"
LOCK_FILE = ".lock"
_OPEN_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def record_name(epoch_ns, pid, token):
    return "{:020d}-{:07d}-{}{}".format(epoch_ns, pid, token, SUFFIX)


def encode_record(entry, target_url, region, spooled_at, reason):
    return json.dumps({"version": RECORD_VERSION, "entry": entry, "endpoint": target_url,
                       "region": region, "spooled_at": spooled_at, "reason": reason},
                      ensure_ascii=False, sort_keys=True).encode("utf-8")


def decode_record(data):
    """(entry, endpoint, region) from a record's bytes; ValueError if it is not one."""
    record = json.loads(data.decode("utf-8"))
    if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
        raise ValueError("not a version {} spool record".format(RECORD_VERSION))
    entry = record["entry"]
    if not isinstance(entry, dict) or not all(k in entry for k in ("Source", "Detail")):
        raise ValueError("record has no complete entry")
    return entry, record.get("endpoint"), record.get("region")


def ensure_private_dir(path, euid):
    """Create `path` (0700) or check an existing one: a real directory, ours, not shared."""
    try:
        os.makedirs(path, mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise errors.SpoolError(path=path, reason="cannot create it: {}".format(exc.strerror))
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise errors.SpoolError(path=path, reason="is {}; refusing it (use --spool-dir)".format(
            "a symlink" if stat.S_ISLNK(info.st_mode) else "not a directory"))
    if info.st_uid != euid:
        raise errors.SpoolError(path=path, reason="is owned by uid {}, not {}; refusing "
                                "it".format(info.st_uid, euid))
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


class Spool(object):
    """A spool directory; every method works on files, never follows symlinks."""

    def __init__(self, path, euid, max_files=MAX_FILES, max_bytes=MAX_BYTES):
        self.path = path
        self._euid = euid
        self._max_files = max_files
        self._max_bytes = max_bytes

    def records(self):
        """Record file names, oldest first (missing directory: none)."""
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.endswith(SUFFIX) and not n.startswith("."))

    def write(self, name, data):
        """Store one record atomically; returns the names dropped to make room."""
        ensure_private_dir(self.path, self._euid)
        dropped = self._make_room(len(data))
        temporary = os.path.join(self.path, ".tmp-" + name)
        self._write_file(temporary, data)
        os.rename(temporary, os.path.join(self.path, name))
        self._sync_dir()
        return dropped

    def _write_file(self, path, data):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def _sync_dir(self):
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _make_room(self, incoming):
        names = self.records()
        sizes = {n: self._size(n) for n in names}
        total, dropped = sum(sizes.values()), []
        while names and (len(names) >= self._max_files or total + incoming > self._max_bytes):
            oldest = names.pop(0)
            self.remove(oldest)
            total -= sizes[oldest]
            dropped.append(oldest)
        return dropped

    def _size(self, name):
        try:
            return os.lstat(os.path.join(self.path, name)).st_size
        except OSError:
            return 0

    def read(self, name):
        """A record's bytes; raises OSError (ELOOP for a symlink) if it cannot be read."""
        fd = os.open(os.path.join(self.path, name), os.O_RDONLY | _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            return handle.read(self._max_bytes)

    def remove(self, name):
        try:
            os.unlink(os.path.join(self.path, name))
        except FileNotFoundError:
            pass  # a concurrent flush already delivered it

    def move_aside(self, name, subdir, note=None):
        """Move a record out of the queue (into bad/ or rejected/), with an optional note."""
        target_dir = ensure_private_dir(os.path.join(self.path, subdir), self._euid)
        try:
            os.rename(os.path.join(self.path, name), os.path.join(target_dir, name))
        except FileNotFoundError:
            return
        if note:
            self._write_file(os.path.join(target_dir, name + ".reason"), note.encode("utf-8"))

    def lock(self, blocking):
        """Hold the flush lock; returns the open file (close it to release) or None if busy."""
        ensure_private_dir(self.path, self._euid)
        fd = os.open(os.path.join(self.path, LOCK_FILE), os.O_RDWR | os.O_CREAT | _OPEN_FLAGS,
                     0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return None
            raise
        return os.fdopen(fd, "rb")
