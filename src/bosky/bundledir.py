"""The bootstrap's --dir: bosky's own directory, replaced whole, by one run at a time.

A bundle is unpacked into a fresh directory beside --dir (same file system) and
renamed into place only when complete and found to hold something to run; the
old one is moved aside first, then removed.  Only a directory bosky made (it
holds MARKER, whose first line is MARKER_HEADER) or an empty one is replaced: a
--dir naming /opt, a file or a link by mistake must not take them with it.  A
lock file beside --dir keeps a second bootstrap from running (or swapping)
another bundle under the first.
"""

import os
import shutil
import tempfile

from bosky import errors

MARKER = ".bosky-bundle"
MARKER_HEADER = "bosky bootstrap"


def fresh_beside(target, prefix):
    """A new private directory beside `target` (its parent made if missing); UsageError if
    there can be none."""
    parent = _parent_of(target)
    try:
        return tempfile.mkdtemp(prefix=prefix, dir=parent)
    except OSError as exc:
        raise _unusable(target, parent, exc)


def _parent_of(target):
    parent = os.path.dirname(os.path.abspath(target))
    try:
        os.makedirs(parent, mode=0o755, exist_ok=True)
    except OSError as exc:
        raise _unusable(target, parent, exc)
    return parent


def _unusable(target, parent, exc):
    return errors.UsageError(reason="--dir {}: cannot make a directory in {} ({})".format(
        target, parent, exc.strerror or exc))


def check_target(target):
    """Refuse a `target` that is not bosky's to replace."""
    if not target or target.endswith("/."):
        raise errors.UsageError(reason="--dir {!r}: name a directory for bosky's own use, "
                                       "such as /var/lib/bosky/bootstrap/current".format(target))
    if not os.path.lexists(target):
        return
    if os.path.islink(target) or not os.path.isdir(target):
        raise errors.UsageError(reason="--dir {} exists and is not a directory; name a "
                                       "directory for bosky's own use".format(target))
    try:
        names = os.listdir(target)
    except OSError as exc:
        raise errors.UsageError(reason="--dir {}: {}".format(target, exc.strerror or exc))
    if names and not _is_boskys(os.path.join(target, MARKER)):
        raise errors.UsageError(reason="--dir {} holds files bosky bootstrap did not put there "
                                       "and would replace it whole; name a new directory, or "
                                       "empty this one".format(target))


def _is_boskys(marker):
    from bosky.system import read_text_file
    text = read_text_file(marker, 4096)
    return text is not None and text.split("\n", 1)[0] == MARKER_HEADER


def replace(fresh, target, note):
    """Put the complete bundle `fresh` where `target` is, marked as bosky's."""
    with open(os.path.join(fresh, MARKER), "w") as marker:
        marker.write("{}\n{}".format(MARKER_HEADER, note))
    os.chmod(fresh, 0o755)
    check_target(target)  # again: it may have changed while the bundle was fetched
    old = None
    if os.path.lexists(target):
        old = tempfile.mkdtemp(prefix=".replaced-", dir=os.path.dirname(target))
        os.rename(target, os.path.join(old, "bundle"))
    os.rename(fresh, target)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def lock(target):
    """Hold `target`'s lock file for this process's bootstrap; the open file (keep it) or
    LocalFileError when another bootstrap holds it."""
    from bosky.system import hold_lock
    parent, name = _parent_of(target), os.path.basename(os.path.abspath(target))
    path = os.path.join(parent, "." + name + ".lock")
    try:
        held = hold_lock(path, blocking=False)
    except OSError as exc:
        raise errors.LocalFileError(where=path, reason="cannot be used as a lock file ({}); "
                                    "remove it".format(exc.strerror or exc))
    if held is None:
        raise errors.LocalFileError(where="--dir " + target, reason=(
            "another bosky bootstrap is running there (it holds {}); let it finish, or "
            "use another --dir".format(path)))
    return held
