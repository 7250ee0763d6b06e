"""The shared config and credentials files, parsed and selected as botocore does."""

import pytest

from bosky import errors, profiles

CONFIG = """
[default]
region = us-east-1
[profile ops]
region = eu-west-1
aws_access_key_id = FROMCONFIG
s3 =
  addressing_style = path
[services local]
eventbridge =
  endpoint_url = http://127.0.0.1:4566
[not a profile]
region = nowhere
"""
CREDENTIALS = """
[ops]
aws_access_key_id = FROMCREDENTIALS
aws_secret_access_key = secret ; not a comment
"""


def parsed():
    return profiles.parse_files(CONFIG, CREDENTIALS, "/c/config", "/c/credentials")


def test_profile_sections_and_the_credentials_file_winning():
    ops = parsed().get("ops")
    assert ops["region"] == "eu-west-1"
    assert ops["aws_access_key_id"] == "FROMCREDENTIALS"
    assert ops["aws_secret_access_key"] == "secret ; not a comment"  # no inline comments
    assert parsed().get("not a profile") is None and parsed().get("default")["region"]


def test_services_sections_hold_nested_keys():
    assert parsed().services == {"local": {"eventbridge": {"endpoint_url":
                                                           "http://127.0.0.1:4566"}}}
    assert profiles.parse_nested(parsed().get("ops")["s3"]) == {"addressing_style": "path"}


def test_file_paths_from_variables_home_or_nowhere():
    assert profiles.file_paths({}, "/root") == ("/root/.aws/config", "/root/.aws/credentials")
    assert profiles.file_paths({}, None) == (None, None)
    assert profiles.file_paths({"AWS_CONFIG_FILE": "~/cfg"}, "/h") == ("/h/cfg",
                                                                      "/h/.aws/credentials")


def test_a_broken_file_names_itself():
    with pytest.raises(errors.ConfigFileError) as caught:
        profiles.parse_files("[default\nregion = x\n", None, "/c/config")
    assert str(caught.value).startswith("/c/config: not a valid AWS config file")
