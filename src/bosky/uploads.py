"""S3 uploads: under 8 MiB one PutObject; from 8 MiB a multipart upload in 8 MiB parts
(bigger, in whole MiB, to stay within 10,000), each signed with its SHA-256, sent
with x-amz-checksum-sha256 and retried on its own; a failed upload is aborted.
Memory is bounded by the part, not the object.
"""

import hashlib

from bosky import errors
from bosky.aws import s3
from bosky.transfer import room_for_another

MULTIPART_THRESHOLD = 8 * 1024 * 1024
ABORT_RESERVE_SECONDS = 5.0  # kept back from the deadline to abort a failed multipart upload


def read_part(stream, size):
    """Up to `size` bytes, read into one buffer (no pieces joined: a part is 8 MiB or more);
    fewer only at the end of the stream (pipes come in pieces)."""
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = stream.readinto(view[got:])
        if not count:
            break
        got += count
    view.release()
    del buffer[got:]
    return buffer


def upload(bucket, key, stream, size, headers, expected_sha256, progress):
    """Send `stream` (`size` bytes, or None when unknown) to s3://bucket/key; its SHA-256."""
    progress.start(size)
    first = read_part(stream, s3.part_size(size, MULTIPART_THRESHOLD) if size and size >=
                      MULTIPART_THRESHOLD else MULTIPART_THRESHOLD)
    if len(first) < MULTIPART_THRESHOLD:
        digest = hashlib.sha256(first).digest()
        _check_upload(bucket, key, digest, expected_sha256)
        put_headers = dict(headers, **{"x-amz-checksum-sha256": s3.checksum_header(digest)})
        bucket.request("PutObject", "PUT", key, headers=put_headers, body=first,
                       content_sha256=digest.hex())
        progress.update(len(first))
        progress.finish()
        return digest.hex()
    holder = [first]  # the parts take it from here: no second reference keeps it alive
    del first
    return _multipart(bucket, key, stream, size, headers, holder, expected_sha256, progress)


def _check_upload(bucket, key, digest, expected):
    if expected and digest.hex() != expected:
        raise errors.TransferError(what="S3 PutObject s3://{}/{}".format(bucket.name, key),
                            where="s3://{}/{}".format(bucket.name, key),
                            reason="the source's SHA-256 is {}, not the {} given by "
                                   "--sha256".format(digest.hex(), expected))


def _multipart(bucket, key, stream, size, headers, holder, expected_sha256, progress):
    session, whole = bucket.session, hashlib.sha256()
    create = dict(headers, **{"x-amz-checksum-algorithm": "SHA256"})
    reply = bucket.request("CreateMultipartUpload", "POST", key, params=[("uploads", None)],
                           headers=create)
    upload_id = s3.parse_upload_id(reply.body)
    # The parts may use the deadline less a reserve, so that an abort still fits in it
    # (a quarter of what is left, at most ABORT_RESERVE_SECONDS: a short --timeout is
    # still a wall clock, and its parts still get most of it).
    left = bucket.deadline.remaining()
    parts_deadline = bucket.deadline.within(left - min(ABORT_RESERVE_SECONDS, left / 4))
    try:
        parts = _send_parts(bucket, key, upload_id, stream, size, holder, whole,
                            parts_deadline, progress)
        _check_upload(bucket, key, whole.digest(), expected_sha256)
        _complete(bucket, key, upload_id, parts, parts_deadline)
    except BaseException:
        session.log("aborting the multipart upload {} of s3://{}/{}".format(
            upload_id, bucket.name, key))
        try:  # in what the parts left of the deadline: the reserve, at least
            bucket.request("AbortMultipartUpload", "DELETE", key,
                           params=[("uploadId", upload_id)], ok=(204, 200),
                           deadline=bucket.deadline)
        except errors.BoskyError as exc:  # say so: the parts cost money until a lifecycle rule
            session.world.warn("could not abort multipart upload {} of s3://{}/{}: {}".format(
                upload_id, bucket.name, key, exc.message))
        raise
    progress.finish()
    return whole.hexdigest()


def _send_parts(bucket, key, upload_id, stream, size, holder, whole, deadline, progress):
    """Send the parts, the first from `holder`, one buffer alive at a time."""
    part_bytes = s3.part_size(size, MULTIPART_THRESHOLD)
    data = holder.pop()
    if len(data) < part_bytes:
        data += read_part(stream, part_bytes - len(data))
    parts, sent = [], 0
    while data:
        number = len(parts) + 1
        if number > s3.MAX_PARTS:
            raise errors.ValidationError(reason="the upload needs more than {} parts of {} "
                                                "MiB; upload a file rather than standard "
                                                "input".format(s3.MAX_PARTS,
                                                               part_bytes >> 20))
        digest = hashlib.sha256(data).digest()
        whole.update(data)
        checksum = s3.checksum_header(digest)
        # A Content-Type of its own: urllib would add application/x-www-form-urlencoded.
        reply = bucket.request("UploadPart", "PUT", key, params=[
            ("partNumber", number), ("uploadId", upload_id)], headers={
                "x-amz-checksum-sha256": checksum, "Content-Type": "application/octet-stream"},
            body=data, content_sha256=digest.hex(), deadline=deadline)
        parts.append((number, reply.headers.get("etag", ""), checksum))
        sent += len(data)
        progress.update(sent)
        data = None  # let this part go before the next is read
        data = read_part(stream, part_bytes)
    return parts


def _complete(bucket, key, upload_id, parts, deadline):
    """CompleteMultipartUpload; its 200 can carry an <Error>: that is a failure (retried
    when S3 says InternalError, as the SDKs do)."""
    body = s3.complete_body(parts)
    for attempt in (1, 2, 3):
        reply = bucket.request("CompleteMultipartUpload", "POST", key,
                               params=[("uploadId", upload_id)], body=body,
                               headers={"Content-Type": "application/xml"},
                               content_sha256=hashlib.sha256(body).hexdigest(),
                               deadline=deadline)
        problem = s3.complete_error(reply.body)
        if problem is None:
            return
        if problem[0] not in ("InternalError", "SlowDown") or attempt == 3 or \
                not room_for_another(deadline):
            raise errors.S3Error("S3 CompleteMultipartUpload s3://{}/{}".format(bucket.name, key),
                          problem[0], problem[1], reply.headers.get("x-amz-request-id", ""),
                          status=200)
        bucket.session.log("CompleteMultipartUpload answered 200 with {}; again".format(
            problem[0]))
