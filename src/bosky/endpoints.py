"""Partitions, DNS suffixes and service endpoint URLs, as pure functions.

Region patterns and suffixes follow botocore's partitions.json; an unknown
region falls back to the `aws` partition, as the SDK endpoint rules do.
"""

import re
from urllib.parse import urlsplit

from bosky import errors

# (partition, region pattern, DNS suffix), most specific first.
PARTITIONS = (
    ("aws-us-gov", re.compile(r"^us-gov-\w+-\d+$"), "amazonaws.com"),
    ("aws-iso-b", re.compile(r"^us-isob-\w+-\d+$"), "sc2s.sgov.gov"),
    ("aws-iso-f", re.compile(r"^us-isof-\w+-\d+$"), "csp.hci.ic.gov"),
    ("aws-iso", re.compile(r"^us-iso-\w+-\d+$"), "c2s.ic.gov"),
    ("aws-iso-e", re.compile(r"^eu-isoe-\w+-\d+$"), "cloud.adc-e.uk"),
    ("aws-eusc", re.compile(r"^eusc-(de)-\w+-\d+$"), "amazonaws.eu"),
    ("aws-cn", re.compile(r"^cn-\w+-\d+$"), "amazonaws.com.cn"),
)
DEFAULT_PARTITION = ("aws", None, "amazonaws.com")

_REGION_SHAPE = re.compile(r"^[a-z]{2,}(-[a-z0-9]+)+$")


def check_region(region, origin):
    """Refuse a region that cannot form a host name (`origin` names where it came from)."""
    if not _REGION_SHAPE.match(region):
        raise errors.ValidationError(
            reason="invalid region {!r} from {}: expected a name like us-east-1".format(
                region, origin))
    return region


def partition_for_region(region):
    for entry in PARTITIONS:
        if entry[1].match(region):
            return entry
    return DEFAULT_PARTITION


def service_url(prefix, region):
    """https://<prefix>.<region>.<dns suffix>/ for a service's endpoint prefix."""
    suffix = partition_for_region(region)[2]
    return "https://{}.{}.{}/".format(prefix, region, suffix)


def check_endpoint_url(url, origin):
    """An endpoint override must be an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
        parts = None
    if not port_ok or parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ValidationError(
            reason="invalid endpoint URL {!r} from {}: expected "
                   "https://host[:port][/path]".format(url, origin))
    return url
