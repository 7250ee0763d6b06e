"""Which instance is reporting: instance IDs, instance ARNs, the identity document.

Pure functions: IMDS replies come in as bytes, validated values go out.
"""

import re

from bosky import errors, jsonin
from bosky.aws import endpoints

# EC2 instance IDs: "i-" then 8 (older) or 17 hexadecimal digits.
INSTANCE_ID = re.compile(r"i-[0-9a-f]{8}([0-9a-f]{9})?")
# arn:<partition>:ec2:<region>:<account>:instance/<id>
INSTANCE_ARN = re.compile(
    r"arn:aws[a-z-]*:ec2:[a-z]{2,}(-[a-z0-9]+)+:\d+:instance/(i-[0-9a-f]{8}([0-9a-f]{9})?)")
MAX_GIVEN_ID_CHARS = 2048  # a Resources element's limit


class Identity(object):
    """The reporting instance: its ID, the ARN for Resources, and where it runs."""

    __slots__ = ("instance_id", "resource", "region", "account_id")

    def __init__(self, instance_id, resource, region=None, account_id=None):
        self.instance_id = instance_id
        self.resource = resource
        self.region = region
        self.account_id = account_id


def from_given_id(value, origin):
    """An identity from --instance-id / BOSKY_INSTANCE_ID: an ID or an instance ARN.

    An instance ARN also gives the region and account.  Anything else that is
    one printable word goes into Resources as given (EventBridge accepts any
    string there), as the Go tool did: its README's own test command is
    `bosky --instance-id i-123456 --fail 'testing failure event'`.  Only what
    IMDS returns is held to EC2's exact shape.
    """
    value = value.strip()
    arn = INSTANCE_ARN.fullmatch(value)
    if arn:
        region = value.split(":")[3]
        return Identity(arn.group(2), value, region=region, account_id=value.split(":")[4])
    if value and len(value) <= MAX_GIVEN_ID_CHARS and value.isprintable() and \
            not any(c.isspace() for c in value):
        return Identity(value, value)
    raise errors.ValidationError(
        reason="invalid instance id {!r} from {}: expected one word such as "
               "i-0123456789abcdef0, or arn:aws:ec2:REGION:ACCOUNT:instance/ID".format(
                   value, origin))


def instance_arn(partition, region, account_id, instance_id):
    return "arn:{}:ec2:{}:{}:instance/{}".format(partition, region, account_id, instance_id)


def partition_for(region, imds_partition):
    """The ARN partition: China and GovCloud by region name, else what IMDS says."""
    by_region = endpoints.partition_for_region(region)[0]
    if by_region in ("aws-cn", "aws-us-gov") or not imds_partition:
        return by_region
    return imds_partition


def parse_identity_document(body):
    """(instanceId, region, accountId) from the IMDS identity document JSON, each checked:
    they become the event's Resources and, for the region, a host name."""
    try:
        doc = jsonin.loads(body)
        values = doc["instanceId"], doc["region"], doc["accountId"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise errors.ImdsError(
            reason="the identity document is not the JSON EC2 serves "
                   "(instanceId, region, accountId); pass --instance-id and --region")
    if not all(isinstance(v, str) and v for v in values):
        raise errors.ImdsError(reason="the identity document has empty fields; "
                                      "pass --instance-id and --region")
    instance_id, region, account_id = values
    if not INSTANCE_ID.fullmatch(instance_id) or not account_id.isdigit():
        raise errors.ImdsError(reason="the identity document's instanceId {!r} or accountId "
                                      "{!r} is not EC2's; pass --instance-id".format(
                                          instance_id[:40], account_id[:20]))
    try:
        endpoints.check_region(region, "the IMDS identity document")
    except errors.ValidationError as exc:
        raise errors.ImdsError(reason="{}; pass --region".format(exc.message))
    return values


def from_identity_document(body, imds_partition):
    instance_id, region, account_id = parse_identity_document(body)
    partition = partition_for(region, imds_partition)
    return Identity(instance_id, instance_arn(partition, region, account_id, instance_id),
                    region=region, account_id=account_id)
