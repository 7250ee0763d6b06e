#!/usr/bin/env python3
"""`bosky s3 cp` of a large object: peak memory (the target: under 40 MiB for 1 GiB, as
memory is bounded by the 8 MiB part, not the object) and throughput, over loopback.

Starts the loopback S3 stand-in, uploads a file of --size MiB through the built
dist/bosky.pyz (multipart, 8 MiB parts, each hashed, signed and checked), downloads
it back (streamed, hashed, checked against S3's SHA-256, renamed into place), and
prints wall time, MiB/s and peak RSS (/usr/bin/time -f %M) for each.  A benchmark,
not a test: it prints figures and asserts nothing.

  python3 bench/transfer.py [--size 1024] [--python PATH]
"""

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import standins  # noqa: E402

PYZ = os.path.join(ROOT, "dist", "bosky.pyz")
TARGET_MIB = 40.0


def run(python, args, env):
    """(seconds, peak RSS MiB) of one bosky run under /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r") as out:
        started = time.monotonic()
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, python, PYZ] +
                                args, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        seconds = time.monotonic() - started
        if result.returncode != 0:
            raise SystemExit("bosky {} failed: {}".format(args[:3], result.stderr.decode()))
        return seconds, int(out.read().split()[-1]) / 1024.0


def make_source(path, mib):
    """A file of `mib` MiB that is not all zeros (so no layer can shortcut it)."""
    block = hashlib.sha256(b"bosky").digest() * (1024 * 1024 // 32)
    with open(path, "wb") as handle:
        for index in range(mib):
            handle.write(block[index % 32:] + block[:index % 32])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="MiB (default 1024)")
    parser.add_argument("--python", default=os.path.realpath(sys.executable))
    parser.add_argument("--crc-size", type=int, default=128,
                        help="MiB of the CRC64NVME-only download (default 128)")
    options = parser.parse_args()
    if not os.path.exists(PYZ):
        sys.exit("dist/bosky.pyz is missing: run `make` first")
    if not os.path.exists("/usr/bin/time"):
        sys.exit("needs /usr/bin/time (Debian's `time` package) for peak RSS")
    server = standins.S3StandIn().start()
    workdir = tempfile.mkdtemp(prefix="bosky-bench-s3-")
    source, copy = os.path.join(workdir, "source.bin"), os.path.join(workdir, "copy.bin")
    env = {"PATH": os.environ.get("PATH", ""), "NO_PROXY": "127.0.0.1",
           "AWS_ACCESS_KEY_ID": standins.TEST_KEY_ID, "AWS_SECRET_ACCESS_KEY": standins.TEST_SECRET,
           "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": server.url,
           "AWS_EC2_METADATA_DISABLED": "true"}
    try:
        make_source(source, options.size)
        version = subprocess.check_output([options.python, "-c", "import sys; "
                                           "print(sys.version.split()[0])"]).decode().strip()
        print("bosky s3 cp of {} MiB over loopback, Python {} ({})".format(
            options.size, version, options.python))
        for name, args in (("upload", [source, "s3://bench-bucket/big.bin"]),
                           ("download", ["s3://bench-bucket/big.bin", copy])):
            seconds, rss = run(options.python, ["s3", "cp"] + args + ["--quiet"], env)
            del server.requests[:]  # the stand-in records every part's body: 1 GiB of them
            print("  {:<9} {:6.1f} s  {:6.1f} MiB/s  peak RSS {:5.1f} MiB  ({})".format(
                name, seconds, options.size / seconds, rss,
                "under {:g} MiB: met".format(TARGET_MIB) if rss < TARGET_MIB else "NOT met"))
        same = os.path.getsize(copy) == os.path.getsize(source)
        print("  the copy has the source's size: {}".format("yes" if same else "NO"))
        crc_download(options, server, source, copy, env)
    finally:
        server.stop()
        for path in (source, copy):
            if os.path.exists(path):
                os.remove(path)
        os.rmdir(workdir)


def crc_download(options, server, source, copy, env):
    """A download whose only check is S3's CRC64NVME (an SSE-KMS or multipart object from a
    current SDK): bosky's pure-Python CRC sets the pace.  The first --crc-size MiB."""
    import base64
    options.crc_size = min(options.crc_size, options.size)
    with open(source, "rb") as handle:
        data = handle.read(options.crc_size * 1024 * 1024)
    try:
        from awscrt import checksums
        value = checksums.crc64nvme(data).to_bytes(8, "big")
    except ImportError:
        sys.path.insert(0, os.path.join(ROOT, "src"))
        from bosky import crc
        running = crc.crc64nvme()
        running.update(data)
        value = running.digest()
    server.objects[("bench-bucket", "crc.bin")] = data
    header = base64.b64encode(value).decode()

    def crc64_only(request, reply):
        status, headers, body = reply
        headers = {k: v for k, v in headers.items() if not k.lower().startswith(
            "x-amz-checksum")}
        return status, dict(headers, ETag='"0-2"', **{"x-amz-checksum-crc64nvme": header}), body
    server.lie = crc64_only
    seconds, rss = run(options.python, ["s3", "cp", "s3://bench-bucket/crc.bin", copy,
                                        "--quiet"], env)
    server.lie = None
    print("  download of {} MiB checked by CRC64NVME alone: {:6.1f} s  {:6.1f} MiB/s  peak RSS "
          "{:5.1f} MiB".format(options.crc_size, seconds, options.crc_size / seconds, rss))


if __name__ == "__main__":
    main()
