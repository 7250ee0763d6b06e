"""Settings resolved once, as a pure function: one precedence table per setting."""

import pytest

from bosky import errors, profiles, settings

PATH = "/etc/bosky/config"
CONFIG = """
[default]
region = eu-central-1
[profile svc]
services = local
endpoint_url = https://profile.example
region = ap-south-1
[profile plain]
endpoint_url = https://profile.example
[profile fips]
use_fips_endpoint = true
[profile ignoring]
services = local
ignore_configured_endpoint_urls = true
[profile dangling]
services = missing
[profile badregion]
region = x@127.0.0.1:9#
[services local]
eventbridge =
  endpoint_url = https://section.example
sts =
  endpoint_url = https://sts-section.example
"""
FILES = profiles.parse_files(CONFIG, None, "/c/config")
EMPTY = profiles.parse_files(None, None)


def resolve(flags=None, env=None, file_values=None, aws_files=EMPTY, service="events"):
    return settings.resolve(flags or {}, env or {}, file_values or {}, PATH, aws_files,
                            service)


@pytest.mark.parametrize("flags,env,file_values,expected,origin", [
    ({}, {}, {}, "unknown", "default"),
    ({}, {}, {"project": "file"}, "file", PATH),
    ({}, {"BOSKEY_PROJECT": "typo"}, {"project": "file"}, "typo", "BOSKEY_PROJECT"),
    ({}, {"BOSKY_PROJECT": "env", "BOSKEY_PROJECT": "typo"}, {}, "env", "BOSKY_PROJECT"),
    ({"project": "flag"}, {"BOSKY_PROJECT": "env"}, {"project": "f"}, "flag", "--project"),
    ({"project": "unknown"}, {}, {"project": "file"}, "unknown", "--project"),
    ({}, {"BOSKY_PROJECT": "  "}, {"project": "file"}, "file", PATH),
])
def test_project_precedence(flags, env, file_values, expected, origin):
    resolved = resolve(flags, env, file_values)
    assert (resolved.project, resolved.origin["project"]) == (expected, origin)


@pytest.mark.parametrize("flags,env,file_values,aws_files,expected", [
    ({}, {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, {}, FILES,
     ("eu-west-1", "AWS_REGION")),
    ({}, {"AWS_DEFAULT_REGION": "us-west-2"}, {}, FILES, ("us-west-2", "AWS_DEFAULT_REGION")),
    ({"region": "ap-south-1"}, {"AWS_REGION": "eu-west-1"}, {}, EMPTY,
     ("ap-south-1", "--region")),
    ({}, {}, {"region": "sa-east-1"}, FILES, ("sa-east-1", PATH)),
    ({}, {}, {}, FILES, ("eu-central-1", "profile default (region)")),
    ({}, {"AWS_PROFILE": "svc"}, {}, FILES, ("ap-south-1", "profile svc (region)")),
    ({}, {}, {}, EMPTY, (None, "default")),  # the instance's own, later (the session's job)
])
def test_region_precedence_lives_in_one_table(flags, env, file_values, aws_files, expected):
    resolved = resolve(flags, env, file_values, aws_files)
    assert (resolved.region, resolved.origin["region"]) == expected


@pytest.mark.parametrize("env,aws_files,where", [
    ({"AWS_REGION": "US_EAST"}, EMPTY, "AWS_REGION"),
    ({"AWS_PROFILE": "badregion"}, FILES, "profile badregion (region)"),
])
def test_every_region_from_every_source_is_checked(env, aws_files, where):
    with pytest.raises(errors.ValidationError) as caught:
        resolve({"region": None}, env, aws_files=aws_files)
    assert where in str(caught.value) and caught.value.exit_status == errors.EXIT_USAGE


def test_a_line_break_never_reaches_the_region():
    # Variables are trimmed (as $(cat file) would); a flag is taken as given and refused.
    assert resolve(env={"AWS_REGION": "us-east-1\n"}).region == "us-east-1"
    with pytest.raises(errors.ValidationError):
        resolve({"region": "us-east-1\n"})


@pytest.mark.parametrize("flags,env,file_value,expected", [
    ({}, {}, None, ("default", "default", False)),
    ({}, {"AWS_DEFAULT_PROFILE": "plain"}, None, ("plain", "AWS_DEFAULT_PROFILE", False)),
    ({}, {"AWS_PROFILE": "svc", "AWS_DEFAULT_PROFILE": "plain"}, None,
     ("svc", "AWS_PROFILE", False)),
    ({}, {"AWS_PROFILE": "svc"}, "fips", ("svc", "AWS_PROFILE", False)),
    ({}, {}, "fips", ("fips", PATH, True)),
    ({"profile": "plain"}, {"AWS_PROFILE": "svc"}, "fips", ("plain", "--profile", True)),
])
def test_the_profile_and_whether_environment_keys_are_skipped(flags, env, file_value,
                                                              expected):
    # Chosen by bosky itself (flag or its config file), environment keys are skipped,
    # as `aws --profile` does; chosen by AWS_PROFILE, they are not.
    resolved = resolve(flags, env, {"profile": file_value} if file_value else {}, FILES)
    assert (resolved.profile, resolved.origin["profile"],
            resolved.skip_env_credentials) == expected


def test_a_named_profile_that_does_not_exist_is_an_error_and_a_missing_default_is_not():
    assert resolve(aws_files=EMPTY).profile_values == {}
    with pytest.raises(errors.ValidationError) as caught:
        resolve(env={"AWS_PROFILE": "nope"}, aws_files=FILES)
    assert "'nope' (from AWS_PROFILE) is not in /c/config" in str(caught.value)


ALL_ENV = {"AWS_ENDPOINT_URL_EVENTBRIDGE": "https://svc-var.example",
           "AWS_ENDPOINT_URL": "https://all-var.example"}


@pytest.mark.parametrize("flags,env,file_values,profile,expected", [
    ({"endpoint_url": "https://flag.example"}, ALL_ENV, {}, "svc", "https://flag.example"),
    ({}, ALL_ENV, {"endpoint_url": "https://file.example"}, "svc", "https://svc-var.example"),
    ({}, {"AWS_ENDPOINT_URL": "https://all-var.example"}, {}, "svc", "https://all-var.example"),
    ({}, {}, {"endpoint_url": "https://file.example"}, "svc", "https://file.example"),
    ({}, {}, {}, "svc", "https://section.example"),
    ({}, {}, {}, "plain", "https://profile.example"),
    ({}, {}, {}, "default", None),
    ({}, ALL_ENV, {}, "ignoring", None),
    ({}, dict(ALL_ENV, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="true"),
     {"endpoint_url": "https://file.example"}, "svc", "https://file.example"),
])
def test_endpoint_precedence(flags, env, file_values, profile, expected):
    resolved = resolve(flags, dict(env, AWS_PROFILE=profile), file_values, FILES)
    assert resolved.endpoints["events"][0] == expected


def test_the_endpoint_flag_points_at_the_commands_own_service():
    resolved = resolve({"endpoint_url": "https://asg.example"}, service="autoscaling")
    assert resolved.endpoints["autoscaling"] == ("https://asg.example", "--endpoint-url")
    assert resolved.endpoints["events"] == (None, None)


def test_sts_uses_its_own_services_entry():
    resolved = resolve(env={"AWS_PROFILE": "svc"}, aws_files=FILES)
    assert resolved.endpoints["sts"][0] == "https://sts-section.example"


def test_a_services_name_without_its_section_is_an_error():
    with pytest.raises(errors.ValidationError) as caught:
        resolve(env={"AWS_PROFILE": "dangling"}, aws_files=FILES)
    assert "[services missing]" in str(caught.value)


@pytest.mark.parametrize("url,words", [
    ("ftp://x", "invalid endpoint URL"), ("http://h:99999/", "invalid endpoint URL"),
    ("http://h/a b", "invalid endpoint URL"), ("https://u:s3cret@h/", "user name or password"),
])
def test_a_bad_endpoint_url_is_refused_and_a_password_never_shown(url, words):
    with pytest.raises(errors.ValidationError) as caught:
        resolve(env={"AWS_ENDPOINT_URL": url})
    assert words in str(caught.value) and "s3cret" not in str(caught.value)


def test_fips_from_the_profile_and_env_false_overrides_it():
    assert resolve(env={"AWS_PROFILE": "fips"}, aws_files=FILES).use_fips is True
    assert resolve(env={"AWS_PROFILE": "fips", "AWS_USE_FIPS_ENDPOINT": "false"},
                   aws_files=FILES).use_fips is False


@pytest.mark.parametrize("name,value,words", [
    ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "127.0.0.1:1", "instance metadata endpoint"),
    ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://", "instance metadata endpoint"),
    ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:99999", "instance metadata"),
    ("AWS_METADATA_SERVICE_TIMEOUT", "soon", "instance metadata timeout"),
    ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "0", "number of attempts"),
    ("AWS_MAX_ATTEMPTS", "many", "number of attempts"),
    ("BOSKY_TIMEOUT", "nan", "invalid timeout"),
    ("BOSKY_TIMEOUT", "inf", "invalid timeout"),
])
def test_bad_values_name_their_variable(name, value, words):
    with pytest.raises(errors.ValidationError) as caught:
        resolve(env={name: value})
    assert words in str(caught.value) and name in str(caught.value)


def test_timeout_default_and_file_value():
    assert resolve().timeout == settings.DEFAULT_TIMEOUT
    assert resolve(file_values={"timeout": "12.5"}).timeout == 12.5


def test_config_text_accepts_equals_colon_quotes_and_comments():
    text = "# c\n; c\n---\nproject: web\ndetail-type = \"Boot Report\"\n" \
           "endpoint_url = https://x:443/\n\n"
    assert settings.parse_config_text(text, "f") == {
        "project": "web", "detail_type": "Boot Report", "endpoint_url": "https://x:443/"}


@pytest.mark.parametrize("text,expected", [
    ("project web\n", "line 1: expected 'key = value'"),
    ("\nregoin = us-east-1\n", "line 2: unknown key 'regoin'"),
])
def test_config_text_errors_name_the_line(text, expected):
    with pytest.raises(errors.ConfigFileError) as caught:
        settings.parse_config_text(text, PATH)
    assert str(caught.value).startswith(PATH + ": line ")
    assert expected in str(caught.value)
    assert caught.value.exit_status == errors.EXIT_USAGE


def test_the_generated_config_file_parses():
    text = settings.config_template(PATH).replace("# project = my-service", "project = x")
    assert settings.parse_config_text(text, PATH) == {"project": "x"}
