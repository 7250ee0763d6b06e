"""Partitions, DNS suffixes and service endpoint URLs, as pure functions.

Region patterns and suffixes follow botocore's partitions.json; an unknown
region falls back to the `aws` partition, as the SDK endpoint rules do.
"""

import re

from bosky import errors, profiles, urls

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


# Dual-stack (IPv4 and IPv6) DNS suffixes, where the partition offers them.
DUALSTACK_SUFFIXES = {"aws": "api.aws", "aws-us-gov": "api.aws",
                      "aws-cn": "api.amazonwebservices.com.cn"}
# Per service: endpoint prefix and the AWS_ENDPOINT_URL_<SERVICE> name (from its serviceId).
SERVICES = {"events": ("events", "EVENTBRIDGE"), "sts": ("sts", "STS"),
            "autoscaling": ("autoscaling", "AUTO_SCALING")}
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


def _flag(env, variable, profile, key):
    """A boolean setting: the variable when set, else the profile's key."""
    value = env.get(variable)
    return is_true(value if value not in (None, "") else profile.get(key))


def is_true(value):
    return str(value or "").strip().lower() == "true"


def _url_candidates(service, env, profiles_config, profile, given, given_is_flag):
    """[(url or None, origin)] in precedence order (see resolve_url)."""
    ignore = _flag(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", profile,
                   "ignore_configured_endpoint_urls")
    variable = "AWS_ENDPOINT_URL_" + SERVICES[service][1]
    candidates = [given] if given and given_is_flag else []
    if not ignore:
        candidates += [(env.get(variable), variable), (env.get("AWS_ENDPOINT_URL"),
                                                        "AWS_ENDPOINT_URL")]
    candidates += [given] if given and not given_is_flag else []
    if not ignore:
        candidates += [
            (profiles.service_setting(profiles_config, profile, service, "endpoint_url"),
             "the profile's services section"),
            (profile.get("endpoint_url"), "the profile's endpoint_url")]
    return candidates


def resolve_url(service, region, env, profiles_config, profile, given=None, given_is_flag=False):
    """(URL, where it came from) for a service, in the SDKs' order.

    given: (url, origin) from bosky's --endpoint-url (given_is_flag) or its config file.
    Order: flag > AWS_ENDPOINT_URL_<SERVICE> > AWS_ENDPOINT_URL > bosky's config file >
    the profile's [services] section > the profile's endpoint_url > the default host.
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile key) drops the variables and the
    profile's values, as in botocore.
    """
    candidates = _url_candidates(service, env, profiles_config, profile, given, given_is_flag)
    fips = _flag(env, "AWS_USE_FIPS_ENDPOINT", profile, "use_fips_endpoint")
    dualstack = _flag(env, "AWS_USE_DUALSTACK_ENDPOINT", profile, "use_dualstack_endpoint")
    for url, origin in candidates:
        if url and url.strip():
            if fips or dualstack:
                raise errors.ValidationError(
                    reason="a custom endpoint ({} from {}) cannot be combined with FIPS or "
                           "dual-stack endpoints; unset one of them".format(url, origin))
            return check_endpoint_url(url.strip(), origin), origin
    if service == "sts" and not region:
        return STS_GLOBAL_URL, "the global STS endpoint (no region)"
    return service_url(service, region, fips, dualstack), "the default for {}{}{}".format(
        region, " (FIPS)" if fips else "", " (dual-stack)" if dualstack else "")


def check_endpoint_url(url, origin):
    """An endpoint override must be an absolute http(s) URL with a host."""
    if urls.split_url(url) is None:
        raise errors.ValidationError(
            reason="invalid endpoint URL {!r} from {}: expected "
                   "https://host[:port][/path]".format(url, origin))
    return url
