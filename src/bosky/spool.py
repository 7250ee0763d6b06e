"""The durable spool: events kept on disk until `bosky flush` delivers them.

One JSON file per event, named so that a sorted listing is oldest first.
Files are written to a hidden temporary name, fsynced and renamed, so a
reader never sees half a file (a failed write removes its temporary file;
ones a crash left behind are removed by the next flush).  Mode 0600 in a
0700 directory owned by the user; nothing is opened through a symlink; and,
as ssh does for its files, every directory above the spool must be owned by
root or the user and writable by no one else (a sticky, world-writable one
such as /var/tmp is fine), or another user could move the spool away.  The
spool is bounded: when full, the oldest events are dropped and the caller is
told which.  A record of the wrong shape is moved to `bad/`; an entry
EventBridge refused for good is moved to `rejected/` with the reason.
"""

import json
import os
import stat

from bosky import errors, jsonin, urls
from bosky.aws import endpoints

RECORD_VERSION = 1
MAX_FILES = 1000
MAX_BYTES = 64 * 1024 * 1024
SUFFIX = ".json"
TEMPORARY_PREFIX = ".tmp-"
STALE_TEMPORARY_SECONDS = 600.0
BAD_DIR = "bad"
REJECTED_DIR = "rejected"
LOCK_FILE = ".lock"
_OPEN_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
ENTRY_TEXT = ("Source", "DetailType", "Detail")
ENTRY_OPTIONAL_TEXT = ("EventBusName", "TraceHeader")


def record_name(epoch_ns, pid, token):
    return "{:020d}-{:07d}-{}{}".format(epoch_ns, pid, token, SUFFIX)


def encode_record(entry, target_url, region, spooled_at, reason):
    return json.dumps({"version": RECORD_VERSION, "entry": entry, "endpoint": target_url,
                       "region": region, "spooled_at": spooled_at, "reason": reason},
                      ensure_ascii=False, sort_keys=True).encode("utf-8")


def decode_record(data):
    """(entry, endpoint, region) from a record's bytes; ValueError saying what is wrong
    with anything that is not exactly a record this version writes."""
    try:
        record = jsonin.loads(data)
    except UnicodeDecodeError:
        raise ValueError("not UTF-8")
    if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
        raise ValueError("not a version {} spool record".format(RECORD_VERSION))
    entry, url, region = record.get("entry"), record.get("endpoint"), record.get("region")
    check_entry(entry)
    try:  # a \ud800 escape is JSON, but no request can carry it: it would stop every flush
        json.dumps(entry, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("its entry holds text that is not UTF-8 (a lone surrogate)")
    if not isinstance(url, str) or urls.split_url(url) is None or urls.has_userinfo(url):
        raise ValueError("its endpoint is not an http(s) URL")
    try:
        endpoints.check_region(region, "the record")
    except errors.ValidationError:
        raise ValueError("its region is not a region name")
    return entry, url, region


def check_entry(entry):
    """A PutEvents entry of the shape bosky builds, or ValueError naming the first flaw."""
    if not isinstance(entry, dict):
        raise ValueError("its entry is not an object")
    for key in ENTRY_TEXT:
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise ValueError("its entry's {} is not text".format(key))
    for key in ENTRY_OPTIONAL_TEXT:
        if key in entry and not isinstance(entry[key], str):
            raise ValueError("its entry's {} is not text".format(key))
    resources = entry.get("Resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise ValueError("its entry's Resources is not a list of text")
    when = entry.get("Time", 0)
    if isinstance(when, bool) or not isinstance(when, (int, float)) or not 0 <= when < 2 ** 40:
        raise ValueError("its entry's Time is not epoch seconds")
    unknown = set(entry) - set(ENTRY_TEXT + ENTRY_OPTIONAL_TEXT + ("Resources", "Time"))
    if unknown:
        raise ValueError("its entry has unknown fields: " + ", ".join(sorted(unknown)))


def check_trusted_parents(path, euid):
    """Refuse a spool whose parent directories someone else could rename or replace."""
    parent = os.path.realpath(os.path.dirname(os.path.abspath(path.rstrip("/")) or "/"))
    while True:
        try:
            info = os.lstat(parent)
        except FileNotFoundError:
            info = None  # made by us (makedirs) in a moment, hence ours
        if info is not None:
            shared = info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX
            if info.st_uid not in (0, euid) or shared:
                raise errors.SpoolError(path=path, reason="its parent {} is {}; another user "
                                        "could move the spool away (choose --spool-dir "
                                        "under a directory only root or you can write)".format(
                                            parent, "owned by uid {}".format(info.st_uid)
                                            if info.st_uid not in (0, euid)
                                            else "writable by others"))
        if parent == os.path.dirname(parent):
            return
        parent = os.path.dirname(parent)


def ensure_private_dir(path, euid):
    """Create `path` (0700) or check an existing one: a real directory, ours, not shared."""
    check_trusted_parents(path, euid)
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
        self.path, self._euid = path, euid
        self._max_files, self._max_bytes = max_files, max_bytes

    def check(self):
        """The spool's directory, created or checked (SpoolError if it cannot be trusted)."""
        return ensure_private_dir(self.path, self._euid)

    def records(self):
        """Record file names, oldest first (missing directory: none)."""
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if n.endswith(SUFFIX) and not n.startswith("."))

    def write(self, name, data):
        """Store one record atomically; returns the names dropped to make room."""
        self.check()
        dropped = self._make_room(len(data))
        temporary = os.path.join(self.path, TEMPORARY_PREFIX + name)
        try:
            self._write_file(temporary, data)
            os.rename(temporary, os.path.join(self.path, name))
        except BaseException:
            _remove_quietly(temporary)  # never leave a half-written file behind
            raise
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
        """A record's bytes; raises OSError (ELOOP for a symlink, EINVAL for a FIFO or
        anything else that is not a regular file) if it cannot be read."""
        from bosky.system import read_regular_file
        return read_regular_file(os.path.join(self.path, name), self._max_bytes, _OPEN_FLAGS)

    def remove(self, name):
        _remove_quietly(os.path.join(self.path, name))  # a concurrent flush may have sent it

    def remove_stale_temporaries(self, now):
        """Temporary files a crashed writer left (older than ten minutes); returns them."""
        stale = []
        for name in os.listdir(self.path):
            path = os.path.join(self.path, name)
            try:
                old = name.startswith(TEMPORARY_PREFIX) and \
                    now - os.lstat(path).st_mtime > STALE_TEMPORARY_SECONDS
            except OSError:
                continue
            if old:
                _remove_quietly(path)
                stale.append(name)
        return stale

    def move_aside(self, name, subdir, note=None):
        """Move a record out of the queue (into bad/ or rejected/), with an optional note."""
        target_dir = ensure_private_dir(os.path.join(self.path, subdir), self._euid)
        try:
            os.rename(os.path.join(self.path, name), os.path.join(target_dir, name))
        except FileNotFoundError:
            return
        if note:
            reason = os.path.join(target_dir, name + ".reason")
            _remove_quietly(reason)
            self._write_file(reason, note.encode("utf-8", "replace"))

    def lock(self, blocking):
        """Hold the flush lock; returns the open file (close it to release) or None if busy."""
        self.check()
        from bosky.system import hold_lock
        path = os.path.join(self.path, LOCK_FILE)
        try:
            return hold_lock(path, blocking)
        except OSError as exc:
            raise errors.SpoolError(path=self.path, reason="its lock file {} cannot be used "
                                    "({}); remove it".format(path, exc.strerror or exc))


def _remove_quietly(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
