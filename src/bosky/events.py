"""PutEvents entries: building, validating, sizing, and reading the reply.

No HTTP and no clock here: the event time is an argument.  Limits follow the
EventBridge API reference and "Calculating PutEvents event entry size".
"""

import json
import math
import re

from bosky import errors, jsonin

MAX_ENTRY_BYTES = 262144          # "less than 256 KB" for the whole request
MAX_BATCH_ENTRIES = 10            # entries per PutEvents call
TIME_FIELD_BYTES = 14             # what a Time field adds to the size
MAX_SOURCE_CHARS = 256
MAX_DETAIL_TYPE_CHARS = 128
MAX_STATUS_CHARS = 128
MAX_EVENT_BUS_CHARS = 1600
EVENT_BUS_NAME = re.compile(r"^[\.\-_A-Za-z0-9]+$")
EVENT_BUS_ARN = re.compile(
    r"^arn:aws[\w-]*:events:[a-z0-9-]+:\d{12}:event-bus/[\.\-_A-Za-z0-9]+$")

# What to try when an entry comes back with an ErrorCode (PutEventsResultEntry).
ENTRY_ERROR_HINTS = {
    "NotAuthorizedForSourceException":
        "the role's policy limits events:source; allow this --project or change it",
    "NotAuthorizedForDetailTypeException":
        "the role's policy limits events:detail-type; allow this --detail-type",
    "AccessDeniedException": "grant events:PutEvents on this bus (see bosky --permissions)",
    "ThrottlingException": "PutEvents is throttled in this account and region; retry later",
    "InternalFailure": "EventBridge had an internal failure; retry",
    "MalformedDetail": "the Detail was not accepted as JSON; please report this bosky bug",
}


def sanitize_text(text):
    """Make text encodable as UTF-8, keeping every valid character.

    Arguments decoded by Python carry undecodable bytes as lone surrogates,
    which EventBridge would reject; they become U+FFFD instead.
    """
    if not _has_surrogates(text):
        return text
    try:  # bytes os.fsdecode carried as U+DC80..U+DCFF: one U+FFFD each
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # other lone surrogates (a JSON \\ud800 escape, say)
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")


def _has_surrogates(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def sanitize(value):
    """`value` with every string in it (keys too, in lists and objects) made valid UTF-8:
    a command line or file name with bytes that are not UTF-8 must not lose its event.
    A number JSON cannot hold (NaN, infinity: EventBridge refuses the Detail) is null."""
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {sanitize(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(item) for item in value]
    return value


# Detail fields bosky itself sets; --detail may not reuse them.
CORE_FIELDS = ("Status", "Message", "InstanceId", "EventUuid")
STEP_FIELDS = ("Step", "ExitCode", "DurationSeconds", "Command", "OutputTail", "Steps")
BOOT_FIELDS = ("Stages", "Errors", "BootSeconds", "Datasource", "CloudInitStatus")
BOOTSTRAP_FIELDS = ("Vars", "Bundle", "BundleSha256", "InitTried")
CONTEXT_FIELDS = ("AccountId", "Region", "AvailabilityZone", "InstanceType", "ImageId",
                  "PrivateIp", "Hostname", "AutoScalingGroup", "Name", "UptimeSeconds")
RESERVED_FIELDS = frozenset(CORE_FIELDS + STEP_FIELDS + CONTEXT_FIELDS + BOOT_FIELDS +
                            BOOTSTRAP_FIELDS)
DETAIL_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$")
OUTPUT_TAIL_FIELD = "OutputTail"


def build_detail(status, message, instance_id, event_uuid, fields=None):
    """The Detail JSON text: the core fields, then `fields` (context, step, --detail)."""
    # A JSON encoder, never string formatting: quotes, backslashes and newlines
    # in the message must not break or forge the event (the 2017 tool's bug).
    # EventUuid lets consumers drop the rare duplicate of at-least-once delivery.
    detail = {"Status": status, "Message": message, "InstanceId": instance_id,
              "EventUuid": event_uuid}
    for key, value in (fields or {}).items():
        detail.setdefault(key, value)
    return json.dumps(sanitize(detail), ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def parse_detail_options(options):
    """{key: value} from repeated --detail KEY=VALUE; bad or reserved keys are refused."""
    fields = {}
    for option in options or ():
        key, sep, value = option.partition("=")
        if not sep or not DETAIL_KEY.match(key):
            raise errors.ValidationError(reason="--detail {!r}: expected KEY=VALUE with a key "
                                                "of letters, digits, _ . -".format(option))
        if key in RESERVED_FIELDS:
            raise errors.ValidationError(reason="--detail {}: bosky sets {} itself; choose "
                                                "another name".format(key, key))
        fields[key] = sanitize_text(value)
    return fields


def build_entry(source, detail_type, detail, resources, event_bus, epoch_seconds):
    entry = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": detail,
        "Resources": list(resources),
        "Time": int(epoch_seconds),
    }
    if event_bus:
        entry["EventBusName"] = event_bus
    return entry


def entry_size(entry):
    """Bytes EventBridge counts against its limit (EventBusName is not counted)."""
    size = TIME_FIELD_BYTES if "Time" in entry else 0
    for field in ("Source", "DetailType", "Detail"):
        size += len(entry.get(field, "").encode("utf-8"))
    size += sum(len(r.encode("utf-8")) for r in entry.get("Resources", ()))
    return size


def check_status(status):
    if not status or len(status) > MAX_STATUS_CHARS or not status.isprintable():
        raise errors.ValidationError(
            reason="invalid status {!r}: use 1 to {} printable characters, "
                   "e.g. --status warning".format(status, MAX_STATUS_CHARS))
    return status


def check_event_bus(bus):
    ok = len(bus) <= MAX_EVENT_BUS_CHARS and (EVENT_BUS_NAME.match(bus) or EVENT_BUS_ARN.match(bus))
    if not ok:
        raise errors.ValidationError(
            reason="invalid event bus {!r}: expected a bus name (letters, digits, . - _) "
                   "or arn:aws:events:REGION:ACCOUNT:event-bus/NAME".format(bus))
    return bus


def check_names(source, detail_type):
    """Refuse a Source or DetailType EventBridge would refuse (no I/O needed)."""
    if not 1 <= len(source) <= MAX_SOURCE_CHARS:
        raise errors.ValidationError(
            reason="the project (event Source) must be 1 to {} characters, got {}; "
                   "set --project".format(MAX_SOURCE_CHARS, len(source)))
    if source.lower().startswith("aws."):
        raise errors.ValidationError(
            reason="the project {!r} starts with 'aws.', which AWS reserves for its own "
                   "events; choose another --project".format(source))
    if not 1 <= len(detail_type) <= MAX_DETAIL_TYPE_CHARS:
        raise errors.ValidationError(
            reason="--detail-type must be 1 to {} characters, got {}".format(
                MAX_DETAIL_TYPE_CHARS, len(detail_type)))


def validate_entry(entry):
    """Refuse what EventBridge would refuse, before anything is sent."""
    check_names(entry["Source"], entry["DetailType"])
    size = entry_size(entry)
    if size > MAX_ENTRY_BYTES:
        raise errors.ValidationError(
            reason="the event is {} bytes, over EventBridge's limit of {} bytes; "
                   "shorten the message".format(size, MAX_ENTRY_BYTES))
    return entry


def request_body(entries):
    """The exact PutEvents request body."""
    return json.dumps({"Entries": entries}, separators=(",", ":")).encode("utf-8")


class EntryResult(object):
    """One entry's fate in a PutEvents reply: an EventId, or an error code and message."""

    __slots__ = ("event_id", "error_code", "error_message")

    def __init__(self, event_id=None, error_code=None, error_message=None):
        self.event_id = event_id
        self.error_code = error_code
        self.error_message = error_message


def _entry_result(item):
    if isinstance(item, dict) and item.get("EventId"):
        return EntryResult(event_id=str(item["EventId"]))
    item = item if isinstance(item, dict) else {}
    return EntryResult(error_code=str(item.get("ErrorCode") or "UnknownError"),
                       error_message=str(item.get("ErrorMessage") or "(no message)"))


def read_put_events_reply(body, entry_count, request_id=""):
    """One EntryResult per request entry, in order, from a 200 PutEvents reply.

    A 200 can still carry FailedEntryCount > 0 (the entry-level failure the Go
    tools ignored): an entry counts as accepted only when it has an EventId.
    """
    try:
        reply = jsonin.loads(body)
        results = reply["Entries"]
        failed = int(reply.get("FailedEntryCount", 0))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise errors.UnexpectedReplyError(service="EventBridge", reason="not a PutEvents result",
                                          request_id=request_id)
    if not isinstance(results, list) or len(results) != entry_count:
        raise errors.UnexpectedReplyError(
            service="EventBridge", request_id=request_id,
            reason="{} results for {} entries".format(
                len(results) if isinstance(results, list) else "no", entry_count))
    parsed = [_entry_result(item) for item in results]
    if failed != sum(1 for r in parsed if r.event_id is None):
        raise errors.UnexpectedReplyError(
            service="EventBridge", request_id=request_id,
            reason="FailedEntryCount {} does not match the entries".format(failed))
    return parsed


def entry_error(result, request_id=""):
    """The error to report for a failed EntryResult."""
    return errors.EntryFailedError(code=result.error_code, detail=result.error_message,
                                   request_id=request_id,
                                   hint=ENTRY_ERROR_HINTS.get(result.error_code, ""))


def batch_entries(entries, max_count=MAX_BATCH_ENTRIES, max_bytes=MAX_ENTRY_BYTES):
    """Split entries, in order, into PutEvents batches: at most 10, within the size limit."""
    batches, current, size = [], [], 0
    for entry in entries:
        entry_bytes = entry_size(entry)
        if current and (len(current) == max_count or size + entry_bytes > max_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_bytes
    if current:
        batches.append(current)
    return batches
