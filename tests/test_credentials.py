"""The credential chain, region and profiles, through the built .pyz.

Real files in a temporary HOME, STS and container-credential stand-ins that
check what they are sent, and an EventBridge stand-in that accepts only a
request signed with the credentials the chain should have found.
"""

import json
import os
import sys

import pytest

import standins
from conftest import base_env, run_pyz
from test_e2e import INSTANCE

SECRETS = (standins.TEST_SECRET, standins.ROLE_SECRET, standins.ROLE_TOKEN)


@pytest.fixture
def sts():
    server = standins.StsStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path):
    os.makedirs(str(tmp_path / "home" / ".aws"))
    return tmp_path / "home"


def write(home, name, text):
    (home / ".aws" / name).write_text(text)


def role_bridge(eventbridge):
    """EventBridge accepts only the assumed role's session credentials."""
    eventbridge.secrets = {standins.ROLE_KEY_ID: standins.ROLE_SECRET}
    eventbridge.token = standins.ROLE_TOKEN


def run(pyz, eventbridge, home=None, args=(), **env):
    merged = {"AWS_ENDPOINT_URL_EVENTBRIDGE": eventbridge.url, "AWS_REGION": "us-east-1"}
    if home is not None:
        merged["HOME"] = str(home)
    merged.update(env)
    result = run_pyz(pyz, ["--pass", "creds", "--instance-id", INSTANCE, "--debug",
                           "--timeout", "5"] + list(args), base_env(**merged))
    text = result.stderr.decode("utf-8")
    assert not any(secret in text for secret in SECRETS), "a secret was printed"
    return result


def delivered(result, eventbridge, source_text):
    assert result.returncode == 0, result.stderr.decode()
    assert len(eventbridge.accepted) == 1
    assert source_text in result.stderr.decode()


def test_profile_from_aws_profile_with_keys_in_the_credentials_file(pyz, eventbridge, home):
    write(home, "credentials", "[ops]\naws_access_key_id = {}\naws_secret_access_key = {}\n"
          .format(standins.TEST_KEY_ID, standins.TEST_SECRET))
    result = run(pyz, eventbridge, home, AWS_PROFILE="ops")
    delivered(result, eventbridge, "credentials from profile ops")


def test_credentials_file_beats_config_file_for_the_same_profile(pyz, eventbridge, home):
    write(home, "config", "[profile ops]\naws_access_key_id = WRONGKEY\n"
          "aws_secret_access_key = wrong\nregion = us-east-1\n")
    write(home, "credentials", "[ops]\naws_access_key_id = {}\naws_secret_access_key = {}\n"
          .format(standins.TEST_KEY_ID, standins.TEST_SECRET))
    delivered(run(pyz, eventbridge, home, args=["--profile", "ops"]), eventbridge,
              "profile ops")


def test_environment_keys_beat_aws_profile_but_not_the_profile_flag(pyz, eventbridge, home):
    write(home, "credentials", "[ops]\naws_access_key_id = {}\naws_secret_access_key = {}\n"
          .format(standins.TEST_KEY_ID, standins.TEST_SECRET))
    bad_env = {"AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT00000", "AWS_SECRET_ACCESS_KEY": "x"}
    result = run(pyz, eventbridge, home, AWS_PROFILE="ops", **bad_env)
    assert result.returncode == 1 and "credentials from environment variables" in \
        result.stderr.decode()
    delivered(run(pyz, eventbridge, home, args=["--profile", "ops"], **bad_env), eventbridge,
              "credentials from profile ops")


def test_credential_process_version_1(pyz, eventbridge, home, tmp_path):
    script = tmp_path / "creds.py"
    script.write_text("import json\nprint(json.dumps({'Version': 1, 'AccessKeyId': %r, "
                      "'SecretAccessKey': %r}))\n" % (standins.TEST_KEY_ID, standins.TEST_SECRET))
    write(home, "config", "[default]\ncredential_process = {} {}\n".format(sys.executable,
                                                                       script))
    delivered(run(pyz, eventbridge, home), eventbridge, "credential_process of profile default")


def test_failing_credential_process_reports_its_stderr(pyz, eventbridge, home):
    write(home, "config", "[default]\ncredential_process = sh -c 'echo token expired >&2; "
                          "exit 3'\n")
    result = run(pyz, eventbridge, home)
    assert result.returncode == 1
    assert "exited 3: token expired" in result.stderr.decode().splitlines()[-1]


def test_assume_role_with_source_profile_signs_with_the_source_keys(pyz, eventbridge, home, sts):
    write(home, "config", "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/boot\n"
          "source_profile = base\nexternal_id = ext-42\nrole_session_name = boot-1\n"
          "duration_seconds = 900\n")
    write(home, "credentials", "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n"
          .format(standins.TEST_KEY_ID, standins.TEST_SECRET))
    role_bridge(eventbridge)
    result = run(pyz, eventbridge, home, AWS_PROFILE="deploy", AWS_ENDPOINT_URL_STS=sts.url)
    delivered(result, eventbridge, "role arn:aws:iam::123456789012:role/boot assumed")
    [(action, params)] = sts.calls
    assert action == "AssumeRole" and params == {
        "Action": "AssumeRole", "Version": "2011-06-15",
        "RoleArn": "arn:aws:iam::123456789012:role/boot", "RoleSessionName": "boot-1",
        "ExternalId": "ext-42", "DurationSeconds": "900"}
    scope = sts.requests[0].header("authorization").split("Credential=")[1].split(",")[0]
    assert scope.split("/")[2:4] == ["us-east-1", "sts"]


def test_assume_role_with_credential_source_environment(pyz, eventbridge, home, sts):
    write(home, "config", "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/boot\n"
          "credential_source = Environment\n")
    role_bridge(eventbridge)
    result = run(pyz, eventbridge, home, args=["--profile", "deploy"],
                 AWS_ENDPOINT_URL_STS=sts.url, AWS_ACCESS_KEY_ID=standins.TEST_KEY_ID,
                 AWS_SECRET_ACCESS_KEY=standins.TEST_SECRET)
    delivered(result, eventbridge, "assumed with environment variables")
    assert sts.calls[0][1]["RoleSessionName"].startswith("bosky-")


def test_denied_assume_role_names_the_trust_policy(pyz, eventbridge, home, sts):
    write(home, "config", "[default]\nrole_arn = arn:aws:iam::123456789012:role/boot\n"
          "credential_source = Environment\n")
    sts.mode = "deny"
    result = run(pyz, eventbridge, home, args=["--profile", "default"],
                 AWS_ENDPOINT_URL_STS=sts.url, AWS_ACCESS_KEY_ID=standins.TEST_KEY_ID,
                 AWS_SECRET_ACCESS_KEY=standins.TEST_SECRET)
    assert result.returncode == 1
    last = result.stderr.decode().splitlines()[-1]
    assert "STS rejected the request: AccessDenied" in last and "trust policy" in last


def test_source_profile_loop_is_an_error(pyz, eventbridge, home):
    write(home, "config", "[profile a]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = b\n"
          "[profile b]\nrole_arn = arn:aws:iam::1:role/y\nsource_profile = a\n")
    result = run(pyz, eventbridge, home, AWS_PROFILE="a")
    assert result.returncode == 2 and "source_profile loop: a -> b -> a" in \
        result.stderr.decode()


@pytest.mark.parametrize("where", ["env", "profile"])
def test_web_identity_is_unsigned_and_sends_the_token(pyz, eventbridge, home, sts, tmp_path,
                                                      where):
    token_file = tmp_path / "token"
    token_file.write_text(sts.web_token + "\n")
    role_bridge(eventbridge)
    env = {"AWS_ENDPOINT_URL_STS": sts.url}
    if where == "env":
        env.update(AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
                   AWS_ROLE_ARN="arn:aws:iam::123456789012:role/irsa",
                   AWS_ROLE_SESSION_NAME="pod-1")
    else:
        write(home, "config", "[default]\nrole_arn = arn:aws:iam::123456789012:role/irsa\n"
              "web_identity_token_file = {}\nrole_session_name = pod-1\n".format(token_file))
    delivered(run(pyz, eventbridge, home, **env), eventbridge, "web identity role")
    [(action, params)] = sts.calls
    assert action == "AssumeRoleWithWebIdentity" and params["RoleSessionName"] == "pod-1"
    assert sts.requests[0].header("authorization") is None


def test_container_credentials_send_the_token_file_as_authorization(pyz, eventbridge, tmp_path):
    container = standins.ContainerStandIn(authorization="pod-identity-token").start()
    try:
        token_file = tmp_path / "eks-token"
        token_file.write_text("pod-identity-token")
        role_bridge(eventbridge)
        result = run(pyz, eventbridge, AWS_CONTAINER_CREDENTIALS_FULL_URI=container.url + "/v1",
                     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file),
                     AWS_CONTAINER_AUTHORIZATION_TOKEN="the-file-wins")
    finally:
        container.stop()
    delivered(result, eventbridge, "container credentials (" + container.url)


def test_container_full_uri_to_a_foreign_http_host_is_refused(pyz, eventbridge):
    result = run(pyz, eventbridge, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://10.1.2.3/creds")
    assert result.returncode == 2 and "is not allowed" in result.stderr.decode()


def test_expiring_credentials_are_fetched_again_before_a_retry(pyz, eventbridge):
    import datetime
    soon = datetime.datetime.utcnow() + datetime.timedelta(seconds=120)
    container = standins.ContainerStandIn(expiration=soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    container.start()
    try:
        role_bridge(eventbridge)
        eventbridge.script = ["throttle"]
        result = run(pyz, eventbridge, AWS_CONTAINER_CREDENTIALS_FULL_URI=container.url + "/")
    finally:
        container.stop()
    delivered(result, eventbridge, "container credentials")
    assert len(container.requests) == 2  # within 5 minutes of expiry: refreshed


def test_no_home_and_no_files_still_uses_imds(pyz, eventbridge, imds_server):
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    result = run(pyz, eventbridge, None, AWS_EC2_METADATA_SERVICE_ENDPOINT=imds_server.url,
                 AWS_CONFIG_FILE="/nonexistent/config")
    delivered(result, eventbridge, "instance profile role")


def test_unreadable_aws_files_are_skipped(pyz, eventbridge, imds_server, home):
    os.makedirs(str(home / ".aws" / "config"))  # a directory where the file should be
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    result = run(pyz, eventbridge, home, AWS_EC2_METADATA_SERVICE_ENDPOINT=imds_server.url)
    delivered(result, eventbridge, "instance profile role")


def test_a_named_profile_that_does_not_exist_is_an_error(pyz, eventbridge, home):
    write(home, "config", "[default]\nregion = us-east-1\n")
    result = run(pyz, eventbridge, home, AWS_PROFILE="prod")
    assert result.returncode == 2
    assert "the AWS profile 'prod' (from AWS_PROFILE) is not in" in result.stderr.decode()


def test_region_comes_from_the_profile_before_imds(pyz, eventbridge, home):
    write(home, "config", "[profile eu]\nregion = eu-west-1\n")
    write(home, "credentials", "[eu]\naws_access_key_id = {}\naws_secret_access_key = {}\n"
          .format(standins.TEST_KEY_ID, standins.TEST_SECRET))
    eventbridge.region = "eu-west-1"
    result = run(pyz, eventbridge, home, AWS_PROFILE="eu", AWS_REGION="")
    delivered(result, eventbridge, "region eu-west-1 from profile eu")


def test_services_section_endpoint_is_used(pyz, eventbridge, home):
    write(home, "config", "[default]\nservices = local\n[services local]\neventbridge =\n"
          "  endpoint_url = {}\n".format(eventbridge.url))
    result = run(pyz, eventbridge, home, AWS_ENDPOINT_URL_EVENTBRIDGE="",
                 AWS_ACCESS_KEY_ID=standins.TEST_KEY_ID,
                 AWS_SECRET_ACCESS_KEY=standins.TEST_SECRET)
    delivered(result, eventbridge, "from the profile's services section")
    assert json.loads(eventbridge.requests[0].body.decode())["Entries"][0]["Source"]
