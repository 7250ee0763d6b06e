"""Which instance is reporting: instance IDs, instance ARNs, the identity document.

Pure functions: IMDS replies come in as bytes, validated values go out.
"""

import json
import re

from bosky import errors
from bosky.aws import endpoints

# EC2 instance IDs: "i-" then 8 (older) or 17 hexadecimal digits.
INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}([0-9a-f]{9})?$")
# arn:<partition>:ec2:<region>:<account>:instance/<id>
INSTANCE_ARN = re.compile(
    r"^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d+:instance/(i-[0-9a-f]{8}([0-9a-f]{9})?)$")


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

    An ARN is used as given; a bare ID also goes into Resources as given
    (EventBridge accepts any string there), as the 2017 Go tool did.
    """
    value = value.strip()
    arn = INSTANCE_ARN.match(value)
    if arn:
        region = value.split(":")[3]
        return Identity(arn.group(1), value, region=region, account_id=value.split(":")[4])
    if INSTANCE_ID.match(value):
        return Identity(value, value)
    raise errors.ValidationError(
        reason="invalid instance id {!r} from {}: expected i-0123456789abcdef0 or "
               "arn:aws:ec2:REGION:ACCOUNT:instance/i-0123456789abcdef0".format(value, origin))


def instance_arn(partition, region, account_id, instance_id):
    return "arn:{}:ec2:{}:{}:instance/{}".format(partition, region, account_id, instance_id)


def partition_for(region, imds_partition):
    """The ARN partition: China and GovCloud by region name, else what IMDS says."""
    by_region = endpoints.partition_for_region(region)[0]
    if by_region in ("aws-cn", "aws-us-gov") or not imds_partition:
        return by_region
    return imds_partition


def parse_identity_document(body):
    """(instanceId, region, accountId) from the IMDS identity document JSON."""
    try:
        doc = json.loads(body.decode("utf-8"))
        values = doc["instanceId"], doc["region"], doc["accountId"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise errors.ImdsError(
            reason="the identity document is not the JSON EC2 serves "
                   "(instanceId, region, accountId); pass --instance-id and --region")
    if not all(isinstance(v, str) and v for v in values):
        raise errors.ImdsError(reason="the identity document has empty fields; "
                                      "pass --instance-id and --region")
    return values


def from_identity_document(body, imds_partition):
    instance_id, region, account_id = parse_identity_document(body)
    partition = partition_for(region, imds_partition)
    return Identity(instance_id, instance_arn(partition, region, account_id, instance_id),
                    region=region, account_id=account_id)
