"""Default endpoints as the SDKs build them: partitions, FIPS, dual-stack; and the
rule that a custom endpoint and FIPS do not mix.  (Which override wins: test_settings.)"""

import pytest

from bosky import errors
from bosky.aws import endpoints

def resolve(service="events", region="us-east-1", env=None, override=(None, None)):
    env = env or {}
    return endpoints.resolve_url(service, region, override,
                                 fips=env.get("AWS_USE_FIPS_ENDPOINT") == "true",
                                 dualstack=env.get("AWS_USE_DUALSTACK_ENDPOINT") == "true")


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


def test_fips_with_a_custom_endpoint_is_an_error():
    with pytest.raises(errors.ValidationError) as caught:
        resolve(env={"AWS_USE_FIPS_ENDPOINT": "true"},
                override=("https://x", "AWS_ENDPOINT_URL"))
    assert "FIPS" in str(caught.value) and "AWS_ENDPOINT_URL" in str(caught.value)


def test_dualstack_where_the_partition_has_none_is_an_error():
    with pytest.raises(errors.ValidationError):
        resolve(region="us-iso-east-1", env={"AWS_USE_DUALSTACK_ENDPOINT": "true"})
