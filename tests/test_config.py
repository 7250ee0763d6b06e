"""Settings precedence and the config file, as pure functions."""

import pytest

from bosky import config, errors


def resolve(flags=None, env=None, file_values=None):
    return config.resolve_settings(flags or {}, env or {}, file_values or {}, "/etc/bosky/config")


@pytest.mark.parametrize("flags,env,file_values,expected,origin", [
    ({}, {}, {}, "unknown", "default"),
    ({}, {}, {"project": "file"}, "file", "/etc/bosky/config"),
    ({}, {"BOSKEY_PROJECT": "typo"}, {"project": "file"}, "typo", "BOSKEY_PROJECT"),
    ({}, {"BOSKY_PROJECT": "env", "BOSKEY_PROJECT": "typo"}, {}, "env", "BOSKY_PROJECT"),
    ({"project": "flag"}, {"BOSKY_PROJECT": "env"}, {"project": "f"}, "flag", "--project"),
    ({"project": "unknown"}, {}, {"project": "file"}, "unknown", "--project"),
    ({}, {"BOSKY_PROJECT": "  "}, {"project": "file"}, "file", "/etc/bosky/config"),
])
def test_project_precedence(flags, env, file_values, expected, origin):
    settings = resolve(flags, env, file_values)
    assert (settings.project, settings.origin["project"]) == (expected, origin)


@pytest.mark.parametrize("env,flags,expected", [
    ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, {}, "eu-west-1"),
    ({"AWS_DEFAULT_REGION": "us-west-2"}, {}, "us-west-2"),
    ({"AWS_REGION": "eu-west-1"}, {"region": "ap-south-1"}, "ap-south-1"),
    ({}, {}, None),
])
def test_region_precedence_leaves_imds_for_later(env, flags, expected):
    assert resolve(flags, env).region == expected


def test_invalid_region_names_its_origin():
    with pytest.raises(errors.ValidationError) as caught:
        resolve({}, {"AWS_REGION": "US_EAST"})
    assert "AWS_REGION" in str(caught.value)


def test_timeout_default_and_file_value():
    assert resolve().timeout == config.DEFAULT_TIMEOUT
    assert resolve(file_values={"timeout": "12.5"}).timeout == 12.5


def test_config_text_accepts_equals_colon_quotes_and_comments():
    text = "# c\n; c\n---\nproject: web\ndetail-type = \"Boot Report\"\n" \
           "endpoint_url = https://x:443/\n\n"
    assert config.parse_config_text(text, "f") == {
        "project": "web", "detail_type": "Boot Report", "endpoint_url": "https://x:443/"}


@pytest.mark.parametrize("text,expected", [
    ("project web\n", "line 1: expected 'key = value'"),
    ("\nregoin = us-east-1\n", "line 2: unknown key 'regoin'"),
])
def test_config_text_errors_name_the_line(text, expected):
    with pytest.raises(errors.ConfigFileError) as caught:
        config.parse_config_text(text, "/etc/bosky/config")
    assert str(caught.value).startswith("/etc/bosky/config: line ")
    assert expected in str(caught.value)
    assert caught.value.exit_status == errors.EXIT_USAGE
