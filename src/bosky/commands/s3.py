"""`bosky s3 cp SRC DST`: copy one object to or from S3 with the instance's role, verified.

Exactly one side is s3://BUCKET/KEY; the other is a local path or `-`
(standard input or output).  Names follow the AWS CLI's where they exist.
"""

import os
import stat

from bosky import errors, settings
from bosky.commands import options

NAME = "s3"
HINT = "bosky s3 cp SRC DST"
SUMMARY = "copy a file to or from S3, verified (no AWS CLI needed)"
ENDPOINT_SERVICE = "s3"
SENDS_EVENTS = False
USAGE = "bosky s3 cp SRC DST [OPTIONS]"
TRANSFER_TIMEOUT = 900.0
INTERRUPTED = "the copy was abandoned: nothing was left at DST, a multipart upload aborted"
# The deadline of a transfer is not an event's: BOSKY_TIMEOUT and the config file's
# timeout do not apply; only --timeout does.
SETTINGS = {"timeout": ((settings.FLAG,), TRANSFER_TIMEOUT)}
DESCRIPTION = """\
Copy one object between S3 and this machine, signed with the instance's role
(or any credentials bosky finds), with no AWS CLI:

  bosky s3 cp s3://my-bucket/bootstrap.sh /opt/bootstrap.sh --mode 0755
  bosky s3 cp /var/log/messages s3://my-logs/$(hostname)/messages
  bosky s3 cp s3://my-bucket/app.tar.gz - --sha256 9f86d08... | tar -xz -C /opt

Downloads go to a temporary file beside DST and are renamed into place only
once complete and verified: --sha256 if given, S3's own checksum of the whole
object when it sends one (SHA-256, SHA-1, CRC32, CRC64NVME, CRC32C), and the
ETag when it is a plain MD5 (when none can check them, a warning says so); a
dropped connection is resumed where it broke (Range + If-Match).  New files
are mode 0600 unless --mode; a replaced file keeps its mode (never setuid)
and owner; a symlink is written through.
`-`, a FIFO or a device as DST is written to only after the bytes are
verified.  Uploads under 8 MiB are one PutObject; from 8 MiB they go in 8 MiB
parts, each retried on its own, and a failed upload is aborted; a key ending
in / gets the file's name.  A bucket in another region is found and used;
--timeout (default 900) bounds the whole transfer.
"""
EPILOG = """\
exit status:
  0  copied (and verified, unless a warning says nothing S3 sent could check
     the bytes: then pass --sha256)
  1  not copied: the line names s3://BUCKET/KEY, S3's error code, its request
     id and what to try; nothing was left at DST
  2  usage error (a malformed s3:// URL, two local sides, a bad option)
"""


def add_arguments(parser):
    parser.add_argument("action", choices=("cp",), help="copy")
    parser.add_argument("source", metavar="SRC", help="s3://BUCKET/KEY, a file, or -")
    parser.add_argument("destination", metavar="DST", help="s3://BUCKET/KEY, a file or "
                        "directory, or -")
    check = parser.add_argument_group("integrity and files")
    check.add_argument("--sha256", metavar="HEX", help="the bytes' SHA-256: a mismatch is "
                       "exit 1 and nothing is written")
    check.add_argument("--mode", metavar="OCTAL", help="a downloaded file's mode (default "
                       "0600, or the mode of the file it replaces)")
    upload = parser.add_argument_group("uploads")
    upload.add_argument("--sse", choices=("AES256", "aws:kms"),
                        help="server-side encryption for the new object")
    upload.add_argument("--sse-kms-key-id", metavar="KEY", help="the KMS key for --sse aws:kms")
    upload.add_argument("--content-type", metavar="TYPE",
                        help="the object's Content-Type (default: guessed from the name)")
    shown = parser.add_argument_group("output")
    shown.add_argument("--progress", action="store_true",
                       help="show progress even when stderr is not a terminal")
    shown.add_argument("--quiet", action="store_true", help="never show progress")
    parser.add_argument("--max-attempts", metavar="N",
                        help="stop retrying a request after N attempts (default: until "
                             "--timeout)")
    options.add_aws(parser, endpoint_help="send to this S3 URL instead (a VPC endpoint, "
                    "a stand-in); path-style", instance=False)
    options.add_common(parser, timeout_help="deadline for the whole transfer, retries "
                       "included (default 900)")


def run(args, session):
    from bosky import localfiles, transfer
    from bosky.aws import s3
    src_s3, dst_s3 = args.source.startswith("s3://"), args.destination.startswith("s3://")
    if src_s3 == dst_s3:
        raise errors.UsageError(reason="exactly one of SRC and DST must be s3://BUCKET/KEY "
                                       "(see bosky s3 --help)")
    expected = transfer.check_sha256_option(args.sha256)
    mode = localfiles.parse_mode(args.mode)
    if args.sse_kms_key_id and args.sse != "aws:kms":
        raise errors.UsageError(reason="--sse-kms-key-id needs --sse aws:kms")
    bucket_name, key = s3.parse_url(args.source if src_s3 else args.destination)
    if not src_s3:
        key = upload_key(key, args.source)
        check_header_options(args)
    bucket = make_bucket(session, bucket_name)
    progress = make_progress(session, args, key)
    if src_s3:
        return download(session, bucket, key, args.destination, mode, expected, progress)
    return upload(session, bucket, key, args, expected, progress)


def upload_key(key, source):
    """The key an upload goes to: a key ending in / (or none) gets the file's name, as the
    AWS CLI does."""
    if key and not key.endswith("/"):
        return key
    name = os.path.basename(source.rstrip("/"))
    if source == "-" or not name or name in (".", ".."):
        raise errors.UsageError(reason="s3://BUCKET/{} names a directory, and {} has no "
                                       "file name to put in it; name the key".format(
                                           key, "standard input" if source == "-" else
                                           source))
    return key + name


def check_header_options(args):
    """Values that become HTTP headers: printable ASCII, or a usage error naming the option
    (the transport would refuse them too, but as a network failure)."""
    for option, value in (("--content-type", args.content_type),
                          ("--sse-kms-key-id", args.sse_kms_key_id)):
        if value is not None and (not value or any(not " " <= c <= "~" for c in value)):
            raise errors.UsageError(reason="{} {!r}: expected printable ASCII without line "
                                           "breaks".format(option, value[:100]))


def make_bucket(session, name):
    from bosky.s3client import Bucket
    bucket = Bucket(session, name, session.deadline())
    session.log("S3: {}".format(bucket.describe()))
    return bucket


def make_progress(session, args, key):
    from bosky.progress import Progress
    world = session.world
    tty = hasattr(world.stderr, "isatty") and world.stderr.isatty()
    return Progress(world.stderr, world.monotonic, (args.progress or tty) and not args.quiet,
                    os.path.basename(key) or key)


def download(session, bucket, key, target, mode, expected, progress):
    from bosky import localfiles, transfer
    where = localfiles.destination_for(target, key)
    with localfiles.Sink(where, mode, session.world.stdout) as sink:
        count, _ = transfer.download(bucket, key, sink, expected, progress, session.log)
    session.log("copied {} bytes of s3://{}/{} to {}".format(count, bucket.name, key, where))
    return errors.EXIT_OK


def upload(session, bucket, key, args, expected, progress):
    headers = object_headers(args, key, args.source)
    if args.source == "-":
        stdin = session.world.stdin
        if stdin is None or not hasattr(stdin, "buffer"):
            raise errors.UsageError(reason="standard input is closed; give a file, or "
                                           "redirect it")
        return send(session, bucket, key, stdin.buffer, None, headers, expected, progress,
                    "standard input")
    try:
        stream = open(args.source, "rb")
    except OSError as exc:
        raise errors.UsageError(reason="cannot read {}: {}".format(args.source, exc.strerror))
    with stream:
        info = os.fstat(stream.fileno())
        size = info.st_size if stat.S_ISREG(info.st_mode) else None  # a pipe has no size
        return send(session, bucket, key, stream, size, headers, expected, progress,
                    args.source)


def send(session, bucket, key, stream, size, headers, expected, progress, name):
    from bosky import uploads
    try:
        digest = uploads.upload(bucket, key, stream, size, headers, expected, progress)
    except OSError as exc:  # reading the source: an I/O error, a closed descriptor
        raise errors.LocalFileError(where=name, reason="cannot be read ({}); nothing was "
                                    "uploaded".format(exc.strerror or exc))
    session.log("uploaded s3://{}/{} (SHA-256 {})".format(bucket.name, key, digest))
    return errors.EXIT_OK


def object_headers(args, key, source):
    """Content-Type (given, else guessed from the name as the AWS CLI does) and SSE."""
    content_type = args.content_type
    if not content_type:
        import mimetypes
        content_type = mimetypes.guess_type(key if source == "-" else source)[0] or \
            "binary/octet-stream"
    headers = {"Content-Type": content_type}
    if args.sse:
        headers["x-amz-server-side-encryption"] = args.sse
    if args.sse_kms_key_id:
        headers["x-amz-server-side-encryption-aws-kms-key-id"] = args.sse_kms_key_id
    return headers
