"""Unpacking a bundle safely: tar (plain, gzip, bzip2, xz) and zip, on Python 3.6 too.

CVE-2007-4559 and its many cousins: an archive can name ../../etc/cron.d/x,
/etc/passwd, a symlink followed by a file written through it, a hardlink to a
file outside, a device, a setuid shell, or a billion members.  tarfile's
extraction filters (PEP 706) are not in 3.6 and have had bypasses, so bosky
extracts nothing with tarfile or zipfile itself: it walks the members, refuses
the whole bundle on the first that is not a plain file or directory with a
plain relative name (no absolute name, no `..`, no control characters, no
duplicate, no link, device or FIFO, no encrypted zip member), writes each file
itself (O_EXCL, O_NOFOLLOW) with setuid, setgid, sticky and group/other write
dropped and no chown, counts members and bytes against caps as it goes, and
does it all in a fresh directory that is renamed into place only when complete.
"""

import os
import shutil
import stat
import tarfile
import zipfile

from bosky import errors
from bosky.bundledir import MARKER

MAX_MEMBERS = 10000
MAX_FILE_BYTES = 1024 ** 3           # 1 GiB
MAX_TOTAL_BYTES = 4 * 1024 ** 3      # 4 GiB in all: a compression bomb stops here
MAX_NAME_CHARS = 1024
CHUNK = 256 * 1024
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | \
    getattr(os, "O_CLOEXEC", 0)
TRAILER_LIMIT = 1024 * 1024  # zero padding after a tar's last member, at most
MAGIC = ((b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"\x1f\x8b", "tar"),
         (b"BZh", "tar"), (b"\xfd7zXZ\x00", "tar"))


def kind_of(path):
    """"zip" or "tar" from the file's first bytes (its name may say anything)."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    plain_tar = len(head) >= 262 and head[257:262] == b"ustar"
    for magic, kind in MAGIC:
        if head.startswith(magic):
            if kind == "zip" and plain_tar:  # tar would list one bundle, zip unpack another
                raise errors.BundleError(reason="it is both a tar and a zip archive")
            return kind
    if plain_tar:
        return "tar"
    raise errors.BundleError(reason="it is not a tar (gzip, bzip2, xz) or zip archive")


def checked_name(name):
    """The member's name as a relative path of plain parts; BundleError otherwise."""
    if not name or len(name) > MAX_NAME_CHARS:
        raise errors.BundleError(reason="a member name is empty or over {} characters".format(
            MAX_NAME_CHARS))
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or "\\" in name:
        raise errors.BundleError(reason="member {!r} has a control character or a backslash "
                                        "in its name".format(name))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes tarfile could not decode: no name an event can carry
        raise errors.BundleError(reason="member {!r} has a name that is not UTF-8".format(name))
    if name.startswith("/"):
        raise errors.BundleError(reason="member {!r} has an absolute name".format(name))
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise errors.BundleError(reason="member {!r} climbs out with ..".format(name))
    if not parts:
        raise errors.BundleError(reason="member {!r} names no file".format(name))
    return "/".join(parts)


class _Writer(object):
    """Writes members into `root`, counting them against the caps."""

    def __init__(self, root):
        self.root, self._real_root = root, os.path.realpath(root)
        self.members, self.total, self._seen, self._dirs = 0, 0, set(), []
        self._implied = []  # parents no member named: 0755 at the end

    def _target(self, name):
        if name == MARKER:
            raise errors.BundleError(reason="member {!r} has the name of bosky's own "
                                            "marker".format(name))
        if name in self._seen:
            raise errors.BundleError(reason="member {!r} appears twice".format(name))
        self._seen.add(name)
        self.members += 1
        if self.members > MAX_MEMBERS:
            raise errors.BundleError(reason="more than {} members".format(MAX_MEMBERS))
        target = os.path.join(self.root, *name.split("/"))
        parent = os.path.dirname(target)
        self._make_dirs(parent)
        real = os.path.realpath(parent)
        if real != self._real_root and not real.startswith(self._real_root + os.sep):
            raise errors.BundleError(reason="member {!r} would land outside the bundle".format(
                name))
        return target

    def _make_dirs(self, path):
        if os.path.isdir(path) and not os.path.islink(path):
            return
        self._make_dirs(os.path.dirname(path))
        os.mkdir(path, 0o700)
        self._implied.append(path)

    def directory(self, name, mode):
        target = self._target(name)
        if not os.path.isdir(target):
            os.mkdir(target, 0o700)
        self._dirs.append((target, mode))

    def file(self, name, mode, size, source):
        if size > MAX_FILE_BYTES:
            raise errors.BundleError(reason="member {!r} is over {} bytes".format(
                name, MAX_FILE_BYTES))
        target = self._target(name)
        fd = os.open(target, _OPEN_FLAGS, 0o600)
        written = 0
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = source.read(CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                self.total += len(chunk)
                if written > size or written > MAX_FILE_BYTES or self.total > MAX_TOTAL_BYTES:
                    raise errors.BundleError(reason="member {!r} holds more than it declares, "
                                                    "or the bundle is over {} bytes".format(
                                                        name, MAX_TOTAL_BYTES))
                out.write(chunk)
        if written != size:
            raise errors.BundleError(reason="member {!r} is cut short".format(name))
        os.chmod(target, safe_mode(mode, 0o600))

    def finish(self):
        """Directory modes last (a read-only directory would have stopped its files)."""
        for target in self._implied:
            os.chmod(target, 0o755)
        for target, mode in reversed(self._dirs):
            os.chmod(target, safe_mode(mode, 0o700))


def safe_mode(mode, floor):
    """No setuid, setgid or sticky, no group or other write; the owner keeps `floor`."""
    return (mode & 0o755) | floor


def not_plain(name, what):
    return errors.BundleError(reason="member {!r} is {}, not a file or directory".format(
        name, what))


def _unpack_tar(path, writer):
    try:
        archive = tarfile.open(path, "r:*")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise errors.BundleError(reason="not a readable tar archive (plain, gzip, bzip2 or "
                                        "xz): {}".format(" ".join(str(exc).split())[:200]))
    with archive:
        for member in archive:  # header by header: nothing is extracted by tarfile
            name = checked_name(member.name)
            if member.type in (tarfile.REGTYPE, tarfile.AREGTYPE) and not member.sparse:
                writer.file(name, member.mode, member.size, archive.extractfile(member))
            elif member.type == tarfile.DIRTYPE:
                writer.directory(name, member.mode)
            else:
                raise not_plain(name, "a link" if member.issym() or member.islnk() else
                                "a device or FIFO" if member.isdev() else
                                "a sparse file" if member.sparse else
                                "of tar type {!r}".format(member.type))
        _check_tar_end(archive)


def _check_tar_end(archive):
    """tarfile stops quietly at a damaged header, or at the end of a cut archive: what
    follows the last member must be the end-of-archive zero blocks and nothing else.
    Reading it to its end also makes gzip, bzip2 and xz check their CRCs and lengths."""
    stream = archive.fileobj
    stream.seek(archive.offset)
    rest = stream.read(TRAILER_LIMIT + 1)
    if len(rest) > TRAILER_LIMIT or rest.count(0) != len(rest) or len(rest) < 512:
        raise errors.BundleError(reason="it does not end where its members do (a damaged "
                                        "header, a member longer than it says, a cut "
                                        "archive or bytes after its end)")


def _unpack_zip(path, writer):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise errors.BundleError(reason="not a readable zip archive ({})".format(exc))
    with archive:
        for info in archive.infolist():
            name = checked_name(info.filename)
            unix = info.external_attr >> 16
            kind = stat.S_IFMT(unix)
            if info.flag_bits & 0x1:
                raise errors.BundleError(reason="member {!r} is encrypted".format(name))
            if info.filename.endswith("/") or kind == stat.S_IFDIR:
                if info.file_size:
                    raise errors.BundleError(reason="member {!r} is a directory holding "
                                                    "data".format(name))
                writer.directory(name, unix & 0o7777 or 0o755)
            elif kind in (0, stat.S_IFREG):
                with archive.open(info) as source:
                    writer.file(name, unix & 0o7777 or 0o644, info.file_size, source)
            else:
                raise not_plain(name, "a link" if kind == stat.S_IFLNK else "a device or FIFO")


def unpack_into(path, fresh):
    """Unpack the archive at `path` into the empty directory `fresh`; BundleError (and the
    caller removes `fresh`) for anything that is not a plain, whole, undamaged bundle."""
    kind = kind_of(path)
    writer = _Writer(fresh)
    try:
        (_unpack_zip if kind == "zip" else _unpack_tar)(path, writer)
    except errors.BundleError:
        raise
    except Exception as exc:  # noqa: BLE001 -- zlib, lzma, zipfile, tarfile, OSError...
        raise errors.BundleError(reason="it could not be unpacked ({}: {})".format(
            exc.__class__.__name__, " ".join(str(exc).split())[:200]))
    writer.finish()


def unpack(path, target, note=""):
    """Unpack into a fresh directory beside `target`, then put it in place (bundledir):
    all or nothing.  Returns `target`."""
    from bosky import bundledir
    fresh = bundledir.fresh_beside(target, ".unpacking-")
    try:
        unpack_into(path, fresh)
        bundledir.replace(fresh, target, note)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return target
