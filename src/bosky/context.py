"""The instance's context for every event, so a consumer knows which machine it was
even after the Auto Scaling group has terminated it.

From IMDS: the identity document (account, region, zone, type, image, private
IP), the hostname, and the `aws:autoscaling:groupName` and `Name` tags (only
when the instance allows tag access in its metadata options; absent
otherwise, never an error), plus the seconds since boot.  Each read is
optional: a missing field is left out rather than failing the event.
"""


from bosky import errors, jsonin
from bosky.aws import imds

IDENTITY_FIELDS = (("accountId", "AccountId"), ("region", "Region"),
                   ("availabilityZone", "AvailabilityZone"), ("instanceType", "InstanceType"),
                   ("imageId", "ImageId"), ("privateIp", "PrivateIp"))
HOSTNAME = "/latest/meta-data/local-hostname"
TAGS = "/latest/meta-data/tags/instance/"
GROUP_TAG_PATH = TAGS + "aws:autoscaling:groupName"  # also how lifecycle finds the group
TAG_PATHS = (("AutoScalingGroup", GROUP_TAG_PATH), ("Name", TAGS + "Name"))


def identity_fields(document_body):
    """Context fields from the identity document's JSON (absent or null ones left out)."""
    try:
        document = jsonin.loads(document_body)
    except (ValueError, AttributeError):
        return {}
    if not isinstance(document, dict):
        return {}
    return {name: document[key] for key, name in IDENTITY_FIELDS
            if isinstance(document.get(key), str) and document[key]}


def uptime_seconds(uptime_text):
    """Whole seconds since boot from /proc/uptime's text, or None."""
    try:
        return int(float(uptime_text.split()[0]))
    except (AttributeError, IndexError, ValueError):
        return None


def _optional_text(imds_client, path, deadline):
    body = imds_client.get(path, deadline, optional=True)
    text = body.decode("utf-8", "replace").strip() if body else ""
    return text or None


def fetch_context(imds_client, deadline, read_text, log):
    """The context fields this instance can give; {} when IMDS cannot be asked."""
    fields = {}
    uptime = uptime_seconds(read_text("/proc/uptime") or "")
    try:
        fields.update(identity_fields(imds_client.get(imds.IDENTITY_DOCUMENT, deadline)))
        hostname = _optional_text(imds_client, HOSTNAME, deadline)
        if hostname:
            fields["Hostname"] = hostname
        for name, path in TAG_PATHS:  # 404 when tag access is off: simply absent
            value = _optional_text(imds_client, path, deadline)
            if value:
                fields[name] = value
    except errors.BoskyError as exc:
        # Context is extra: an event without it beats no event (the reason goes to --debug).
        log("instance context incomplete: {}".format(exc))
    if uptime is not None:
        fields["UptimeSeconds"] = uptime
    return fields
