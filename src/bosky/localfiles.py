"""Files bosky writes for the user: never a partial or unverified file where they asked.

A `Sink` writes into a new temporary file beside the destination (same file
system, so the final rename is atomic), mode 0600 unless told otherwise, and
puts it in place only on `commit`, after the caller verified the bytes; any
failure removes it.  For `-` (standard output), a device or a FIFO the
temporary file is in $TMPDIR and is copied out only once verified: a reader
of the pipe never sees bytes that turned out to be wrong.
"""

import os
import re
import stat
import tempfile

from bosky import errors


def destination_for(target, key):
    """Where a download goes: `target`, or target/basename(key) for a directory, as the
    AWS CLI does."""
    if target == "-":
        return "-"
    if target.endswith("/") or os.path.isdir(target):
        name = os.path.basename(key.rstrip("/"))
        if not name or name in (".", ".."):
            raise errors.UsageError(reason="the key {!r} has no file name to save under in {}; "
                                           "name the file".format(key, target))
        return os.path.join(target, name)
    return target


def parse_mode(text):
    """--mode as octal (0644, 600): permission bits only, three or four digits."""
    if text is None:
        return None
    mode = int(text, 8) if re.match(r"^[0-7]{3,4}\Z", text) else -1
    if not 0 <= mode <= 0o7777 or mode & 0o7000:
        raise errors.UsageError(reason="--mode {!r}: expected permission bits in octal, such "
                                       "as 0644 (no setuid, setgid or sticky)".format(text))
    return mode


class Sink(object):
    """A download's bytes on their way to `where`: a path (through a symlink, to the file
    it names, as cp does), "-" for standard output, or an existing device or FIFO
    (/dev/null, a named pipe), which is written like standard output: once verified."""

    def __init__(self, where, mode=None, stdout=None, shown=None):
        self.where, self._stdout = where, stdout
        self.shown = shown or where  # what messages call it (not a temporary path)
        self._stream = _is_stream(where)
        if where == "-" and (stdout is None or _closed(stdout)):
            raise errors.LocalFileError(where="standard output", reason="it is closed; "
                                        "redirect it, or name a file")
        self._final = None if self._stream else os.path.realpath(where)
        directory = tempfile.gettempdir() if self._stream else os.path.dirname(self._final)
        if not self._stream:
            _check_name_length(self._final)  # before the download, not at the rename
        self._mode = mode if mode is not None else _existing_mode(where)
        try:
            fd, self._temporary = tempfile.mkstemp(prefix=".bosky-", suffix=".part",
                                                   dir=directory)
        except OSError as exc:
            raise errors.UsageError(reason="cannot write in {}: {}".format(directory,
                                                                           exc.strerror))
        self._file = os.fdopen(fd, "w+b")

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        """Commit when the block ends well; whatever stops it (a signal too) discards."""
        if kind is not None:
            self.discard()
            return
        try:
            self.commit()
        except BaseException:
            self.discard()
            raise

    def write(self, data):
        try:
            self._file.write(data)
        except OSError as exc:
            raise self._failed(exc)

    def _failed(self, exc):
        return errors.LocalFileError(where=os.path.dirname(self._temporary), reason=(
            "cannot hold the download ({}); nothing was left at {}".format(
                exc.strerror or exc, self.shown)))

    def commit(self):
        """Put the verified file in place (rename), or copy it where it streams to."""
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise self._failed(exc)
        if self._stream:
            self._copy_out()
            self.discard()
            return
        _keep_owner(self._temporary, self._final)
        os.chmod(self._temporary, self._mode)  # after chown, which clears setuid bits anyway
        self._file.close()
        try:
            os.replace(self._temporary, self._final)
        except OSError as exc:
            raise self._failed(exc)

    def _copy_out(self):
        self._file.seek(0)
        name = "standard output" if self.where == "-" else self.where
        try:
            if self.where == "-":
                out = self._stdout.buffer if hasattr(self._stdout, "buffer") else self._stdout
                _copy(self._file, out)
            else:
                with open(self.where, "wb") as out:
                    _copy(self._file, out)
        except OSError as exc:  # a reader gone (EPIPE), a full device
            raise errors.LocalFileError(where=name, reason="{} before all of the verified "
                                        "bytes were written".format(exc.strerror or exc))

    def discard(self):
        """Remove the temporary file (after a failure, or once copied out)."""
        try:
            self._file.close()
        except OSError:
            pass
        finally:
            try:
                os.unlink(self._temporary)
            except FileNotFoundError:
                pass


def _copy(source, out):
    while True:
        chunk = source.read(256 * 1024)
        if not chunk:
            break
        out.write(chunk)
    out.flush()


def _check_name_length(path):
    name = os.path.basename(path)
    try:
        limit = os.pathconf(os.path.dirname(path), "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(os.fsencode(name)) > limit:
        raise errors.UsageError(reason="the file name {!r}... is over {} bytes, more than the "
                                       "file system takes; name the file".format(name[:40],
                                                                                 limit))


def _is_stream(where):
    """True for "-" and for an existing file that is not a regular one (a device, a FIFO):
    those are written to, never replaced."""
    if where == "-":
        return True
    try:
        info = os.stat(where)
    except OSError:
        return False
    if stat.S_ISDIR(info.st_mode):
        raise errors.UsageError(reason="{} is a directory".format(where))
    return not stat.S_ISREG(info.st_mode)


def _closed(stream):
    try:
        os.fstat(stream.fileno())
        return False
    except (OSError, ValueError, AttributeError):
        return True


def _existing_mode(where):
    """A file replaced keeps its permission bits, never setuid, setgid or sticky (new
    bytes must not inherit a privilege granted to the old ones); a new one is 0600."""
    try:
        return stat.S_IMODE(os.stat(where).st_mode) & 0o777
    except OSError:
        return 0o600


def _keep_owner(temporary, where):
    """The file that replaces another keeps its owner and group, as cp's would (when bosky
    may set them: as root)."""
    try:
        info = os.stat(where)
        if stat.S_ISREG(info.st_mode) and (info.st_uid, info.st_gid) != (os.geteuid(),
                                                                          os.getegid()):
            os.chown(temporary, info.st_uid, info.st_gid)
    except OSError:
        pass
