"""Endpoint resolution as the SDKs do it: overrides, services sections, FIPS, partitions."""

import pytest

from bosky import errors, profiles
from bosky.aws import endpoints

CONFIG = """
[profile svc]
services = local
endpoint_url = https://profile.example
[profile plain]
endpoint_url = https://profile.example
[profile fips]
use_fips_endpoint = true
[profile ignoring]
services = local
ignore_configured_endpoint_urls = true
[profile dangling]
services = missing
[services local]
eventbridge =
  endpoint_url = https://section.example
sts =
  endpoint_url = https://sts-section.example
"""
FILES = profiles.parse_files(CONFIG, None)


def resolve(service="events", region="us-east-1", env=None, profile="default", given=None,
            flag=False):
    return endpoints.resolve_url(service, region, env or {}, FILES, FILES.get(profile) or {},
                                 given, given_is_flag=flag)


ALL_ENV = {"AWS_ENDPOINT_URL_EVENTBRIDGE": "https://svc-var.example",
           "AWS_ENDPOINT_URL": "https://all-var.example"}


@pytest.mark.parametrize("env,profile,given,flag,expected", [
    (ALL_ENV, "svc", ("https://flag.example", "--endpoint-url"), True, "https://flag.example"),
    (ALL_ENV, "svc", ("https://file.example", "/etc/bosky/config"), False,
     "https://svc-var.example"),
    ({"AWS_ENDPOINT_URL": "https://all-var.example"}, "svc", None, False,
     "https://all-var.example"),
    ({}, "svc", ("https://file.example", "/etc/bosky/config"), False, "https://file.example"),
    ({}, "svc", None, False, "https://section.example"),
    ({}, "plain", None, False, "https://profile.example"),
    ({}, "default", None, False, "https://events.us-east-1.amazonaws.com/"),
    (ALL_ENV, "ignoring", None, False, "https://events.us-east-1.amazonaws.com/"),
    (dict(ALL_ENV, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="true"), "svc",
     ("https://file.example", "/etc/bosky/config"), False, "https://file.example"),
])
def test_endpoint_precedence(env, profile, given, flag, expected):
    assert resolve(env=env, profile=profile, given=given, flag=flag)[0] == expected


@pytest.mark.parametrize("service,region,env,expected", [
    ("events", "cn-north-1", {}, "https://events.cn-north-1.amazonaws.com.cn/"),
    ("events", "us-east-1", {"AWS_USE_FIPS_ENDPOINT": "true"},
     "https://events-fips.us-east-1.amazonaws.com/"),
    ("events", "us-gov-west-1", {"AWS_USE_FIPS_ENDPOINT": "true"},
     "https://events.us-gov-west-1.amazonaws.com/"),
    ("events", "us-east-1", {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
     "https://events.us-east-1.api.aws/"),
    ("events", "us-iso-east-1", {}, "https://events.us-iso-east-1.c2s.ic.gov/"),
    ("events", "us-isob-east-1", {}, "https://events.us-isob-east-1.sc2s.sgov.gov/"),
    ("autoscaling", "eu-west-1", {"AWS_USE_FIPS_ENDPOINT": "true"},
     "https://autoscaling-fips.eu-west-1.amazonaws.com/"),
    ("sts", "us-west-2", {}, "https://sts.us-west-2.amazonaws.com/"),
    ("sts", None, {}, "https://sts.amazonaws.com/"),
    ("events", "mars-1", {}, "https://events.mars-1.amazonaws.com/"),
])
def test_default_hosts_by_partition_fips_and_dualstack(service, region, env, expected):
    assert resolve(service, region, env)[0] == expected


def test_fips_from_the_profile_and_env_false_overrides_it():
    assert resolve(profile="fips")[0] == "https://events-fips.us-east-1.amazonaws.com/"
    assert resolve(profile="fips", env={"AWS_USE_FIPS_ENDPOINT": "false"})[0] == \
        "https://events.us-east-1.amazonaws.com/"


def test_sts_uses_its_own_services_entry():
    assert resolve("sts", profile="svc")[0] == "https://sts-section.example"


def test_fips_with_a_custom_endpoint_is_an_error():
    with pytest.raises(errors.ValidationError) as caught:
        resolve(env={"AWS_USE_FIPS_ENDPOINT": "true", "AWS_ENDPOINT_URL": "https://x"})
    assert "FIPS" in str(caught.value) and "AWS_ENDPOINT_URL" in str(caught.value)


def test_a_services_name_without_its_section_is_an_error():
    with pytest.raises(errors.ValidationError) as caught:
        resolve(profile="dangling")
    assert "[services missing]" in str(caught.value)


def test_dualstack_where_the_partition_has_none_is_an_error():
    with pytest.raises(errors.ValidationError):
        resolve(region="us-iso-east-1", env={"AWS_USE_DUALSTACK_ENDPOINT": "true"})
