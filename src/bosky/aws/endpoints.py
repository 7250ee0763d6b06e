"""Partitions, DNS suffixes and service endpoint URLs, as pure functions.

Region patterns and suffixes follow botocore's partitions.json; an unknown
region falls back to the `aws` partition, as the SDK endpoint rules do.
"""

import re

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

_REGION_SHAPE = re.compile(r"[a-z]{2,}(-[a-z0-9]+)+")


def check_region(region, origin):
    """Refuse a region that cannot form a host name (`origin` names where it came from).

    Every region is checked, from every source (IMDS and profiles too): it becomes
    part of a host name, so `x@127.0.0.1:9#` must never get that far.
    """
    if not isinstance(region, str) or len(region) > 64 or not _REGION_SHAPE.fullmatch(region):
        raise errors.ValidationError(
            reason="invalid region {!r} from {}: expected a name like us-east-1".format(
                region, origin))
    return region


def partition_for_region(region):
    for entry in PARTITIONS:
        if entry[1].match(region):
            return entry
    return DEFAULT_PARTITION


# Dual-stack (IPv4 and IPv6) DNS suffixes, where the partition offers them.
DUALSTACK_SUFFIXES = {"aws": "api.aws", "aws-us-gov": "api.aws",
                      "aws-cn": "api.amazonwebservices.com.cn"}
# Per service: endpoint prefix and the AWS_ENDPOINT_URL_<SERVICE> name (from its serviceId).
SERVICES = {"events": ("events", "EVENTBRIDGE"), "sts": ("sts", "STS"),
            "autoscaling": ("autoscaling", "AUTO_SCALING"), "s3": ("s3", "S3")}
STS_GLOBAL_URL = "https://sts.amazonaws.com/"


def service_url(service, region, fips=False, dualstack=False):
    """The default endpoint: https://<prefix>[-fips].<region>.<suffix>/.

    In GovCloud the standard hosts are the FIPS endpoints already.
    """
    prefix = SERVICES[service][0]
    partition, _, suffix = partition_for_region(region)
    if dualstack:
        suffix = DUALSTACK_SUFFIXES.get(partition)
        if suffix is None:
            raise errors.ValidationError(reason="dual-stack endpoints are not offered in the "
                                                "{} partition; unset AWS_USE_DUALSTACK_ENDPOINT"
                                                .format(partition))
    if fips and partition != "aws-us-gov":
        prefix += "-fips"
    return "https://{}.{}.{}/".format(prefix, region, suffix)


def resolve_url(service, region, override, fips=False, dualstack=False):
    """(URL, where it came from) for a service: the configured override, else its host.

    `override` is (url, origin) or (None, None), from settings.  A custom endpoint
    with FIPS or dual-stack on is an error, as in the SDKs' endpoint rules.
    """
    url, origin = override
    if url:
        if fips or dualstack:
            raise errors.ValidationError(
                reason="a custom endpoint ({} from {}) cannot be combined with FIPS or "
                       "dual-stack endpoints; unset one of them".format(url, origin))
        return url, origin
    if service == "sts" and not region:
        return STS_GLOBAL_URL, "the global STS endpoint (no region)"
    return service_url(service, region, fips, dualstack), "the default for {}{}{}".format(
        region, " (FIPS)" if fips else "", " (dual-stack)" if dualstack else "")
