"""Amazon EventBridge PutEvents over the JSON 1.1 protocol.

Wire facts (botocore model events/2015-10-07): POST /, Content-Type
application/x-amz-json-1.1, X-Amz-Target AWSEvents.PutEvents, SigV4 service
`events`.  Error replies carry `__type` and `message`; the request id is in
`x-amzn-RequestId`.
"""


from bosky import errors, events, jsonin
from bosky.aws import sigv4

SIGNING_NAME = "events"
TARGET = "AWSEvents.PutEvents"
CONTENT_TYPE = "application/x-amz-json-1.1"
SERVICE_LABEL = "EventBridge"

# What to try for a whole-request error, by error code.
ERROR_HINTS = {
    "AccessDeniedException":
        "grant events:PutEvents to this role (bosky --permissions prints the policy)",
    "AccessDenied": "grant events:PutEvents to this role (bosky --permissions prints the policy)",
    "UnrecognizedClientException": "the access key is not valid; check the credentials",
    "InvalidClientTokenId": "the access key is not valid; check the credentials",
    "ExpiredTokenException": "the session credentials have expired; refresh them",
    "InvalidSignatureException":
        "check the secret key, and that the system clock is correct (bosky signs with it)",
    "SignatureDoesNotMatch": "check the secret key (AWS_SECRET_ACCESS_KEY or the profile's)",
    "IncompleteSignature": "the request signature was incomplete; please report this bosky bug",
    "ResourceNotFoundException": "check --event-bus and --region: the bus must exist there",
    "ThrottlingException": "PutEvents is throttled in this account and region; retry later",
    "ValidationException": "check --event-bus, --project and --detail-type",
}

UNREACHABLE_HINT = ("check the instance's route to the internet (NAT gateway) or an "
                    "EventBridge VPC endpoint, HTTPS_PROXY, and --region")




def parse_error_reply(response):
    """(code, message) from an error reply, the way botocore's JSON parser reads it."""
    try:
        doc = jsonin.loads(response.body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        text = response.body.decode("utf-8", "replace").strip()
        if text.startswith("<") and "<Code>" in text:  # an XML error, as some stand-ins send
            from bosky.aws import query
            code, message, _ = query.parse_error(response.body, response.status,
                                                 response.reason)
            return code, " ".join(str(message).split())[:300]
        if not text or text.startswith("<"):
            text = response.reason or "no message"
        return str(response.status), " ".join(text.split())[:300]
    code = str(doc.get("__type") or doc.get("code") or response.status)
    code = code.split(":")[0].rsplit("#", 1)[-1]
    message = doc.get("message") or doc.get("Message") or response.reason or "no message"
    return code, str(message)


def put_events(send, url, region, credentials, entries, now, timeout):
    """Send `entries` once; return (EntryResult per entry, request id).

    Raises ServiceError for an error reply, TransportError when there was none.
    """
    body = events.request_body(entries)
    headers = sigv4.sign_request(
        "POST", url, {"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET}, body,
        credentials, region, SIGNING_NAME, now)
    reply = send("POST", url, headers, body, timeout, "PutEvents to " + SERVICE_LABEL,
                 hint=UNREACHABLE_HINT)
    request_id = reply.headers.get("x-amzn-requestid", "")
    if reply.status != 200:
        code, message = parse_error_reply(reply)
        raise errors.ServiceError(SERVICE_LABEL, code, message, request_id,
                                  ERROR_HINTS.get(code, ""), status=reply.status,
                                  server_date=reply.headers.get("date", ""))
    return events.read_put_events_reply(reply.body, len(entries), request_id), request_id
