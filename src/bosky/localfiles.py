"""Files bosky writes for the user: never a partial or unverified file where they asked.

A `Sink` writes into a new temporary file beside the destination (same file
system, so the final rename is atomic), mode 0600 unless told otherwise, and
puts it in place only on `commit`, after the caller verified the bytes; any
failure removes it.  For `-` (standard output) the temporary file is in
$TMPDIR and is copied to standard output only once verified: a reader of the
pipe never sees bytes that turned out to be wrong.
"""

import os
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
    """--mode as octal (0644, 600): permission bits only."""
    if text is None:
        return None
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777 or mode & 0o7000:
        raise errors.UsageError(reason="--mode {!r}: expected permission bits in octal, such "
                                       "as 0644 (no setuid, setgid or sticky)".format(text))
    return mode


class Sink(object):
    """A download's bytes on their way to `where` (a path, or "-")."""

    def __init__(self, where, mode=None, stdout=None):
        self.where, self._stdout = where, stdout
        directory = tempfile.gettempdir() if where == "-" else \
            os.path.dirname(os.path.abspath(where))
        if where != "-" and os.path.isdir(where):
            raise errors.UsageError(reason="{} is a directory".format(where))
        self._mode = mode if mode is not None else _existing_mode(where)
        try:
            fd, self._temporary = tempfile.mkstemp(prefix=".bosky-", suffix=".part",
                                                   dir=directory)
        except OSError as exc:
            raise errors.UsageError(reason="cannot write in {}: {}".format(directory,
                                                                           exc.strerror))
        self._file = os.fdopen(fd, "w+b")

    def write(self, data):
        self._file.write(data)

    def commit(self):
        """Put the verified file in place (rename), or copy it to standard output."""
        self._file.flush()
        os.fsync(self._file.fileno())
        if self.where == "-":
            self._copy_to_stdout()
            self.discard()
            return
        os.chmod(self._temporary, self._mode)
        self._file.close()
        os.replace(self._temporary, self.where)

    def _copy_to_stdout(self):
        self._file.seek(0)
        out = self._stdout.buffer if hasattr(self._stdout, "buffer") else self._stdout
        while True:
            chunk = self._file.read(256 * 1024)
            if not chunk:
                break
            out.write(chunk)
        out.flush()

    def discard(self):
        """Remove the temporary file (after a failure, or once copied to stdout)."""
        try:
            self._file.close()
        finally:
            try:
                os.unlink(self._temporary)
            except FileNotFoundError:
                pass


def _existing_mode(where):
    """A file replaced keeps its permission bits; a new one is 0600."""
    try:
        return stat.S_IMODE(os.stat(where).st_mode)
    except OSError:
        return 0o600
