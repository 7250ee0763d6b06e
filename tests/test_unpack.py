"""Unpacking bundles built here, hostile ones first: every refusal leaves nothing behind.

The archives are made with tarfile and zipfile as an attacker would make them
(names, types and modes set by hand), then given to bosky's unpacker; it runs
in-process (the e2e tests in test_bootstrap.py run it through the .pyz).
"""

import io
import os
import stat
import tarfile
import zipfile

import pytest

from bosky import bundledir, errors, unpack


def tar_of(path, members, compression=""):
    """members: [(name, kind, data or link target, mode)], kind one of file/dir/sym/link/
    chr/fifo."""
    with tarfile.open(str(path), "w" + (":" + compression if compression else "")) as tar:
        for name, kind, data, mode in members:
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE,
                         "sym": tarfile.SYMTYPE, "link": tarfile.LNKTYPE,
                         "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            if kind in ("sym", "link"):
                info.linkname = data
                tar.addfile(info)
            elif kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return str(path)


def listing(root):
    """What the bundle put there (the marker bosky adds is checked on its own below)."""
    found = []
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            found.append(os.path.relpath(os.path.join(directory, name), root))
    return sorted(name for name in found if name != bundledir.MARKER)


@pytest.mark.parametrize("compression", ["", "gz", "bz2", "xz"])
def test_a_plain_bundle_unpacks_in_every_tar_flavour(tmp_path, compression):
    archive = tar_of(tmp_path / "b.tar", [
        ("bundle/", "dir", None, 0o755), ("bundle/10-java/start.sh", "file", b"echo j\n", 0o755),
        ("bundle/README", "file", b"read me", 0o644)], compression)
    target = unpack.unpack(archive, str(tmp_path / "out"))
    assert listing(target) == ["bundle", "bundle/10-java", "bundle/10-java/start.sh",
                               "bundle/README"]
    assert (tmp_path / "out/bundle/10-java/start.sh").read_bytes() == b"echo j\n"
    assert stat.S_IMODE(os.stat(str(tmp_path / "out/bundle/10-java/start.sh")).st_mode) == 0o755


def test_a_zip_bundle_unpacks_too(tmp_path):
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(str(path), "w") as archive:
        info = zipfile.ZipInfo("bundle/10-java/start.sh")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        archive.writestr(info, b"echo j\n")
        archive.writestr("bundle/notes.txt", b"n")
    target = unpack.unpack(str(path), str(tmp_path / "out"))
    assert listing(target) == ["bundle", "bundle/10-java", "bundle/10-java/start.sh",
                               "bundle/notes.txt"]
    assert stat.S_IMODE(os.stat(str(tmp_path / "out/bundle/10-java/start.sh")).st_mode) == 0o755


HOSTILE_TARS = {
    "dot-dot": [("bundle/../../escaped", "file", b"x", 0o644)],
    "absolute": [("/etc/cron.d/evil", "file", b"x", 0o644)],
    "symlink-then-file": [("bundle/link", "sym", "/etc", 0o777),
                          ("bundle/link/passwd", "file", b"x", 0o644)],
    "symlink-alone": [("bundle/link", "sym", "../../", 0o777)],
    "hardlink": [("bundle/hard", "link", "/etc/passwd", 0o644)],
    "device": [("bundle/dev", "chr", None, 0o666)],
    "fifo": [("bundle/fifo", "fifo", None, 0o666)],
    "duplicate": [("bundle/a", "file", b"1", 0o644), ("bundle/./a", "file", b"2", 0o644)],
    "control-character": [("bundle/a\nb", "file", b"x", 0o644)],
    "backslash": [("bundle\\..\\x", "file", b"x", 0o644)],
}


@pytest.mark.parametrize("case", sorted(HOSTILE_TARS))
def test_a_hostile_tar_is_refused_whole_and_leaves_nothing(tmp_path, case):
    archive = tar_of(tmp_path / "b.tar", [("bundle/ok", "file", b"fine", 0o644)] +
                     HOSTILE_TARS[case])
    target = tmp_path / "work" / "current"
    with pytest.raises(errors.BundleError):
        unpack.unpack(archive, str(target))
    assert not target.exists() and os.listdir(str(tmp_path / "work")) == []  # no debris
    assert not os.path.lexists("/etc/cron.d/evil") and not (tmp_path / "escaped").exists()


def test_a_refused_bundle_keeps_the_previous_one(tmp_path):
    good = tar_of(tmp_path / "good.tar", [("v1/start.sh", "file", b"v1", 0o755)])
    target = str(tmp_path / "current")
    unpack.unpack(good, target)
    bad = tar_of(tmp_path / "bad.tar", [("v2/x", "sym", "/", 0o777)])
    with pytest.raises(errors.BundleError):
        unpack.unpack(bad, target)
    assert listing(target) == ["v1", "v1/start.sh"]


def test_setuid_sticky_and_group_or_other_write_are_dropped(tmp_path):
    archive = tar_of(tmp_path / "b.tar", [("d/", "dir", None, 0o1777),
                                          ("d/suid", "file", b"x", 0o4777),
                                          ("d/sgid", "file", b"x", 0o2775),
                                          ("d/none", "file", b"x", 0o000)])
    target = unpack.unpack(archive, str(tmp_path / "out"))
    modes = {name: stat.S_IMODE(os.stat(os.path.join(target, name)).st_mode)
             for name in ("d", "d/suid", "d/sgid", "d/none")}
    assert modes == {"d": 0o755, "d/suid": 0o755, "d/sgid": 0o755, "d/none": 0o600}


def test_a_member_declaring_more_than_the_cap_is_refused_before_a_byte_is_written(tmp_path):
    path = tmp_path / "bomb.tar"
    with open(str(path), "wb") as handle:  # a header claiming 2 GiB, and no data at all
        info = tarfile.TarInfo("bundle/huge")
        info.size = 2 * 1024 ** 3
        handle.write(info.tobuf())
    with pytest.raises(errors.BundleError) as caught:
        unpack.unpack(str(path), str(tmp_path / "out"))
    assert "over 1073741824 bytes" in str(caught.value)


def test_too_many_members_is_refused(tmp_path):
    members = [("bundle/f{}".format(i), "file", b"", 0o644)
               for i in range(unpack.MAX_MEMBERS + 1)]
    archive = tar_of(tmp_path / "many.tar", members)
    with pytest.raises(errors.BundleError) as caught:
        unpack.unpack(archive, str(tmp_path / "out"))
    assert "more than 10000 members" in str(caught.value)


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("case", ["symlink", "dot-dot", "encrypted", "duplicate"])
def test_a_hostile_zip_is_refused(tmp_path, case):
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(str(path), "w") as archive:
        archive.writestr("bundle/ok", b"fine")
        if case == "symlink":
            info = zipfile.ZipInfo("bundle/link")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, b"/etc")
        elif case == "dot-dot":
            archive.writestr("bundle/../../x", b"x")
        elif case == "duplicate":
            archive.writestr("bundle/ok", b"again")
        else:
            archive.writestr("bundle/secret", b"x")
    if case == "encrypted":  # zipfile cannot write one: set the flag in both headers
        data = bytearray(path.read_bytes())
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = data.rfind(signature)
            data[at + offset] |= 0x1
        path.write_bytes(bytes(data))
        assert zipfile.ZipFile(str(path)).infolist()[-1].flag_bits & 0x1
    with pytest.raises(errors.BundleError):
        unpack.unpack(str(path), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", [b"", b"not an archive at all", b"\x1f\x8b\x08garbage"])
def test_what_is_not_an_archive_is_refused(tmp_path, content):
    path = tmp_path / "b.tgz"
    path.write_bytes(content)
    with pytest.raises(errors.BundleError):
        unpack.unpack(str(path), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_name_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin.tar"
    with tarfile.open(str(path), "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:
        info = tarfile.TarInfo("bundle/10-caf\xe9/start.sh")  # the byte 0xe9 on its own
        info.size = 3
        tar.addfile(info, io.BytesIO(b"ls\n"))
    with pytest.raises(errors.BundleError, match="not UTF-8"):
        unpack.unpack(str(path), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["file", "foreign-dir", "symlink"])
def test_a_dir_bosky_did_not_make_is_never_replaced(tmp_path, kind):
    archive = tar_of(tmp_path / "b.tar", [("v1/start.sh", "file", b"v1", 0o755)])
    target = tmp_path / "opt"
    if kind == "file":
        target.write_text("precious")
    elif kind == "foreign-dir":
        target.mkdir()
        (target / "precious").write_text("x")
    else:
        (tmp_path / "elsewhere").mkdir()
        target.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(errors.UsageError, match="--dir"):
        unpack.unpack(archive, str(target))
    assert os.path.lexists(str(target)) and sorted(os.listdir(str(tmp_path))) == sorted(
        ["b.tar", "opt"] + (["elsewhere"] if kind == "symlink" else []))


def test_an_empty_dir_or_one_bosky_made_is_replaced(tmp_path):
    target = tmp_path / "current"
    target.mkdir()
    for version in ("v1", "v2"):
        archive = tar_of(tmp_path / "b.tar", [(version + "/start.sh", "file", b"x", 0o755)])
        unpack.unpack(archive, str(target), note="bundle " + version)
        assert sorted(os.listdir(str(target))) == [bundledir.MARKER, version]
    assert (target / bundledir.MARKER).read_text() == "bosky bootstrap\nbundle v2"


# -- damaged archives: each refused whole (tar -x would fail on every one) ---------------

def good_tar_bytes(compression=""):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w" + (":" + compression if compression else "")) \
            as tar:
        for name, data in (("top/10-a/start.sh", b"echo A\n"), ("top/20-b/start.sh", b"echo B\n"),
                           ("top/20-b/config", os.urandom(100000))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def refused(tmp_path, data, name="b.tar"):
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(errors.BundleError) as raised:
        unpack.unpack_into(str(path), str(out))
    return str(raised.value)


def test_a_damaged_header_after_the_first_member_is_not_the_end(tmp_path):
    data = bytearray(good_tar_bytes())
    second = data.index(b"top/20-b/start.sh")
    data[second + 100] ^= 0x01  # the mode field: the header checksum no longer matches
    assert "does not end where its members do" in refused(tmp_path, bytes(data))


def test_a_member_longer_than_its_header_says_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("top/10-a/start.sh")
        info.size = 22
        tar.addfile(info, io.BytesIO(b"echo A\n" + b"#" * 15))
    data = bytearray(buffer.getvalue())
    body = data.index(b"echo A")
    data[body:body + 1523] = b"x" * 1523  # 1523 bytes where the header promised 22
    assert "does not end where its members do" in refused(tmp_path, bytes(data))


@pytest.mark.parametrize("compression,damage", [
    ("gz", "crc"), ("gz", "cut-trailer"), ("gz", "garbage-after"), ("gz", "flipped-middle"),
    ("bz2", "cut-trailer"), ("bz2", "flipped-middle"), ("xz", "cut-trailer"),
    ("xz", "flipped-middle"),
])  # (after a whole bz2 or xz stream, the standard library's readers skip any trailing data)
def test_a_compressed_stream_that_is_damaged_cut_or_followed_by_garbage(tmp_path, damage,
                                                                         compression):
    data = bytearray(good_tar_bytes(compression))
    if damage == "crc":
        data[-8] ^= 0xFF  # the gzip trailer's CRC-32
    elif damage == "cut-trailer":
        del data[-8:]
    elif damage == "flipped-middle":
        data[len(data) // 2] ^= 0x10
    else:
        data += b"\x13garbage after the end\n" * 3
    refused(tmp_path, bytes(data), "b.tar." + compression)


def test_a_tar_followed_by_garbage_is_refused(tmp_path):
    assert "does not end" in refused(tmp_path, good_tar_bytes() + b"PK\x03\x04 a zip, say")


def test_archives_from_gnu_tar_and_with_a_bare_two_block_end_unpack(tmp_path):
    import shutil
    import subprocess
    tree = tmp_path / "tree" / "top" / "10-a"
    tree.mkdir(parents=True)
    (tree / "start.sh").write_text("echo A\n")
    archives = []
    if shutil.which("tar"):
        subprocess.check_call(["tar", "-czf", str(tmp_path / "gnu.tgz"), "-C",
                               str(tmp_path / "tree"), "top"])
        archives.append(str(tmp_path / "gnu.tgz"))
    minimal = good_tar_bytes()
    end = minimal.index(b"\0" * 1024, minimal.index(b"top/20-b/config") + 512 + 100000 - 600)
    (tmp_path / "minimal.tar").write_bytes(minimal[:end + 1024])  # no record padding
    archives.append(str(tmp_path / "minimal.tar"))
    for number, archive in enumerate(archives):
        out = tmp_path / "out{}".format(number)
        out.mkdir()
        unpack.unpack_into(archive, str(out))
        assert (out / "top" / "10-a" / "start.sh").exists()


def zip_bytes(method=zipfile.ZIP_DEFLATED, **extra):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr("top/10-a/start.sh", b"echo A\n" * 2000)
    return bytearray(buffer.getvalue())


@pytest.mark.parametrize("case", ["corrupt-deflate", "unknown-method", "directory-with-data"])
def test_a_zip_bosky_cannot_read_is_refused_not_an_internal_error(tmp_path, case):
    data = zip_bytes()
    if case == "corrupt-deflate":
        start = data.index(b"start.sh") + len(b"start.sh")
        data[start + 3:start + 40] = b"\xff" * 37
    elif case == "unknown-method":  # 99 is AES (7-Zip); 9 is Deflate64 (Windows Explorer)
        for header in (b"PK\x03\x04", b"PK\x01\x02"):
            at = data.index(header)
            offset = 8 if header == b"PK\x03\x04" else 10
            data[at + offset:at + offset + 2] = (99).to_bytes(2, "little")
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            info = zipfile.ZipInfo("top/10-a/")
            info.external_attr = (stat.S_IFDIR | 0o755) << 16
            archive.writestr(info, b"data in a directory")
        data = bytearray(buffer.getvalue())
    refused(tmp_path, bytes(data), "b.zip")


def test_a_tar_that_is_also_a_zip_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"echo tar side\n"
        info = tarfile.TarInfo("PK\x03\x04" + "x" * 20)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert "both a tar and a zip" in refused(tmp_path, buffer.getvalue() + bytes(zip_bytes()))


def test_a_sparse_member_and_one_named_like_the_marker_are_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("top/sparse")
        info.size = 4
        info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                            "GNU.sparse.name": "top/sparse", "GNU.sparse.realsize": "10"}
        tar.addfile(info, io.BytesIO(b"1\n0\n"))
    refused(tmp_path, buffer.getvalue())
    marker = tar_of(tmp_path / "m.tar", [(bundledir.MARKER, "file", b"bosky bootstrap\n", 0o644)])
    out = tmp_path / "m"
    out.mkdir()
    with pytest.raises(errors.BundleError, match="marker"):
        unpack.unpack_into(marker, str(out))
