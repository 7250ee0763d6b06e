"""Bad inputs and broken sources the other tests do not reach: one line, right exit status.

Through the built .pyz where the input comes from outside (flags, environment,
files, a misbehaving service); as pure functions where only a reply's shape matters.
"""

import subprocess
import sys

import pytest

import standins
from conftest import base_env, one_line, run_pyz
from test_e2e import ENV_KEYS, INSTANCE

from bosky import credentials, errors
from bosky.aws import sts


def bosky(pyz, eventbridge, args, **env):
    merged = dict(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1")
    merged.update(env)
    return run_pyz(pyz, list(args), base_env(**merged))


@pytest.mark.parametrize("args,expected", [
    (["watch", "--interval", "0"], "--interval '0': expected seconds from 0.1 to 86400"),
    (["watch", "--interval", "inf"], "--interval 'inf': expected seconds"),
    (["watch", "--interval", "nan"], "--interval 'nan': expected seconds"),
    (["watch", "--interval", "1e-300"], "--interval '1e-300': expected seconds"),
    (["watch", "--heartbeat-interval", "-1"], "--heartbeat-interval '-1': expected seconds"),
    (["boot-report", "--wait", "-1"], "--wait '-1': expected seconds from 0 to 86400"),
    (["boot-report", "--wait", "inf"], "--wait 'inf': expected seconds"),
    (["x", "-c", "/"], "/: cannot read it: Is a directory; point --config at a readable file"),
])
def test_bad_command_line_values_exit_2(pyz, eventbridge, args, expected):
    result = bosky(pyz, eventbridge, args + ["--instance-id", INSTANCE], **ENV_KEYS)
    assert result.returncode == 2 and expected in one_line(result)
    assert eventbridge.requests == []


SHA = "a" * 64


@pytest.mark.parametrize("args,expected", [
    (["s3", "cp", "/nonexistent/src", "s3://b/k"], "cannot read /nonexistent/src"),
    (["s3", "cp", "s3://b/k", "/nonexistent-dir/out"], "cannot write in /nonexistent-dir"),
    (["bootstrap", "./x", "--entry", "../x"], "--entry '../x': a file name"),
    (["bootstrap", "https://user:sekrit@example.com/b.tgz", "--sha256", SHA],
     "'https://user:****@example.com/b.tgz' is not a URL bosky can fetch"),
    (["bootstrap", "ftp://example.com/b.tgz"], "a bundle is s3://, https://, a local archive"),
    (["bootstrap", "./x", "--var", "role=a\nb"], "the value of role from --var is over 4096 "
                                                  "characters or holds a line break"),
    (["bootstrap", "./x", "--var", "role=" + "a" * 4097], "the value of role from --var"),
    (["watch", "--on-terminate", "true", "--on-terminate-sha256", SHA],
     "--on-terminate-sha256 goes with an s3:// --on-terminate"),
])
def test_bad_transfer_bootstrap_and_watch_values_exit_2(pyz, eventbridge, tmp_path, args,
                                                        expected):
    if args[0] == "bootstrap":
        args = args + ["--dir", str(tmp_path / "boot")]
    instance = [] if args[0] == "s3" else ["--instance-id", INSTANCE]  # s3 cp needs none
    result = bosky(pyz, eventbridge, args + instance + ["--timeout", "5"],
                   AWS_ENDPOINT_URL_S3="http://127.0.0.1:9", **ENV_KEYS)
    assert result.returncode == 2 and expected in one_line(result)
    assert b"sekrit" not in result.stderr and not (tmp_path / "boot").exists()


def test_an_unreadable_web_identity_token_file_is_named(pyz, eventbridge):
    result = bosky(pyz, eventbridge, ["x", "--instance-id", INSTANCE, "--timeout", "2"],
                   AWS_WEB_IDENTITY_TOKEN_FILE="/nonexistent/token",
                   AWS_ROLE_ARN="arn:aws:iam::123456789012:role/irsa")
    assert result.returncode == 1
    assert "cannot read the web identity token file /nonexistent/token" in one_line(result)


def test_an_unreadable_container_token_file_is_named(pyz, eventbridge):
    container = standins.ContainerStandIn().start()
    try:
        result = bosky(pyz, eventbridge, ["x", "--instance-id", INSTANCE],
                       AWS_CONTAINER_CREDENTIALS_FULL_URI=container.url + "/creds",
                       AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="/nonexistent/eks-token")
    finally:
        container.stop()
    assert result.returncode == 1
    assert "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE /nonexistent/eks-token" in one_line(result)
    assert container.requests == []


def test_a_container_token_with_a_line_break_is_refused(pyz, eventbridge):
    result = bosky(pyz, eventbridge, ["x", "--instance-id", INSTANCE],
                   AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:9/creds",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN="abc\r\nX-Injected: 1")
    assert result.returncode == 2 and "holds a line break" in one_line(result)


@pytest.mark.parametrize("name,value", [("AWS_SESSION_TOKEN", "IQoJb3JpZ2lu\nEXAMPLE"),
                                        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE ")])
def test_a_line_break_or_space_in_environment_keys_is_named(pyz, eventbridge, name, value):
    result = bosky(pyz, eventbridge, ["x", "--instance-id", INSTANCE],
                   **dict(ENV_KEYS, **{name: value}))
    assert result.returncode == 2
    assert one_line(result).strip() == ("bosky: error: {} holds a space or line break; set "
                                         "it to the value alone".format(name))
    assert eventbridge.requests == []


def proxied(eventbridge, proxy):
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   HTTP_PROXY=proxy, **ENV_KEYS)
    env.pop("NO_PROXY")
    return env


@pytest.mark.parametrize("proxy,shown", [
    ("http://:8080", "http://:8080"), ("http://proxy.example:abc", "http://proxy.example:abc"),
    ("http://proxy.example:99999", "http://proxy.example:99999"),
    ("ftp://proxy.example:21", "ftp://proxy.example:21"),
    ("http://ops:s3cret@:8080", "http://ops:****@:8080")])
def test_a_proxy_url_bosky_cannot_use_is_named(pyz, eventbridge, proxy, shown):
    result = run_pyz(pyz, ["x", "--instance-id", INSTANCE, "--no-spool"],
                     proxied(eventbridge, proxy))
    assert result.returncode == 2
    assert one_line(result).strip() == (
        "bosky: error: the proxy {!r} from HTTP_PROXY (or http_proxy) is not a proxy URL: "
        "expected http://[user:password@]host:port".format(shown))
    assert eventbridge.requests == []


def test_a_proxy_password_is_never_printed(pyz, eventbridge):
    result = run_pyz(pyz, ["x", "--instance-id", INSTANCE, "--no-spool", "--timeout", "1",
                           "--debug"], proxied(eventbridge, "http://ops:s3cret@127.0.0.1:9"))
    assert result.returncode == 1
    last = result.stderr.decode().splitlines()[-1]  # the error; --debug lines come before
    assert last.startswith("bosky: error: ") and "through the proxy http://ops:****@127.0.0.1:9" \
        in last
    assert b"s3cret" not in result.stderr + result.stdout


def test_credential_process_output_of_another_version_is_refused(pyz, eventbridge, tmp_path):
    config = tmp_path / "config"
    config.write_text("[default]\ncredential_process = {} -c \"print('{{\\\"Version\\\": 2}}')\"\n"
                      .format(sys.executable))
    result = bosky(pyz, eventbridge, ["x", "--instance-id", INSTANCE],
                   AWS_CONFIG_FILE=str(config))
    assert result.returncode == 1
    assert "its output is not version 1 credentials JSON" in one_line(result)


class FailingTokenImds(standins.ImdsStandIn):
    """IMDS whose token service answers 500."""

    def respond(self, request):
        if request.method == "PUT":
            return 500, {}, b"Internal Server Error"
        return super().respond(request)


@pytest.mark.parametrize("make_imds,expected", [
    (lambda: standins.ImdsStandIn(mode="garbage"),
     "the identity document is not the JSON EC2 serves"),
    (FailingTokenImds, "/latest/api/token was answered HTTP 500"),
])
def test_a_misbehaving_imds_is_reported_in_one_line(pyz, eventbridge, make_imds, expected):
    imds = make_imds().start()
    try:
        result = run_pyz(pyz, ["x"], base_env(imds.url, AWS_ENDPOINT_URL_EVENTBRIDGE=
                                              eventbridge.url, **ENV_KEYS))
    finally:
        imds.stop()
    assert result.returncode == 1
    assert expected in one_line(result)


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"AccessKeyId": "A"}'])
def test_credential_replies_that_are_not_credentials_are_errors(body):
    with pytest.raises(errors.CredentialsError) as caught:
        credentials.parse_credential_json(body, "container credentials (x)", "container")
    assert "not the expected JSON" in str(caught.value)


@pytest.mark.parametrize("body", [b"", b"<AssumeRoleResponse/>", b"<Credentials><AccessKeyId>A"])
def test_sts_replies_without_credentials_are_errors(body):
    with pytest.raises(errors.UnexpectedReplyError) as caught:
        sts.parse_credentials(body)
    assert "no credentials in the reply" in str(caught.value)


# -- values from the outside world that cannot be used: one line, never a traceback ----

@pytest.mark.parametrize("name,value,words", [
    ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "127.0.0.1:1", "invalid instance metadata endpoint"),
    ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://", "invalid instance metadata endpoint"),
    ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:99999",
     "invalid instance metadata endpoint"),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:99999/creds",
     "AWS_CONTAINER_CREDENTIALS_FULL_URI 'http://127.0.0.1:99999/creds' is not a usable URL"),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.attacker.invalid/creds",
     "is not allowed: it must be https, or http to a loopback address"),
    # A name the IDNA codec refuses: the lookup thread died on it, a "timeout" retried.
    ("AWS_ENDPOINT_URL_EVENTBRIDGE", "https://\u00fc..x/", "invalid endpoint URL"),
])
def test_an_address_bosky_cannot_use_is_exit_2_naming_its_variable(pyz, eventbridge, name,
                                                                   value, words):
    env = {name: value}
    if name.startswith("AWS_CONTAINER"):
        args = ["x", "--instance-id", INSTANCE]
    else:
        args = ["x"]
        env.update(ENV_KEYS)
    result = run_pyz(pyz, args, dict(base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url,
                                              AWS_REGION="us-east-1"), **env))
    assert result.returncode == 2 and words in one_line(result)
    assert eventbridge.requests == []


def test_an_endpoint_url_with_bytes_that_are_not_utf8_is_exit_2_under_every_python(pyz):
    """With no locale (env -i), \xff reaches Python as a lone surrogate: 3.6 crashed on it."""
    from test_compat import OLDEST_AND_NEWEST
    env = {k.encode(): v.encode() for k, v in base_env(AWS_REGION="us-east-1",
                                                       **ENV_KEYS).items()}
    env[b"AWS_ENDPOINT_URL_EVENTBRIDGE"] = b"http://127.0.0.1:1/\xff"
    for python in OLDEST_AND_NEWEST:
        result = subprocess.run([python, pyz, "x", "--instance-id", INSTANCE], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert result.returncode == 2, (python, result.stderr)
        assert b"invalid endpoint URL" in result.stderr and b"internal" not in result.stderr


@pytest.mark.parametrize("name", ["AWS_SESSION_TOKEN", "AWS_SECRET_ACCESS_KEY"])
def test_environment_keys_that_are_not_utf8_are_named_not_sent(pyz, eventbridge, name):
    env = {k.encode(): v.encode() for k, v in base_env(
        AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
        **ENV_KEYS).items()}
    env[name.encode()] = b"IQoJb3JpZ2lu\xffEXAMPLE"
    result = subprocess.run([sys.executable, pyz, "x", "--instance-id", INSTANCE], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert result.returncode == 2
    assert one_line(result).strip() == ("bosky: error: {} holds characters that are not ASCII "
                                         "(or bytes that are not UTF-8); set it to the value "
                                         "alone".format(name))
    assert eventbridge.requests == []


def test_an_integer_access_key_from_imds_is_a_clear_error(pyz, eventbridge):
    imds = standins.ImdsStandIn().start()
    path = "/latest/meta-data/iam/security-credentials/" + standins.ROLE_NAME
    imds.paths[path] = imds.paths[path].replace('"{}"'.format(standins.TEST_KEY_ID), "12345")
    try:
        result = run_pyz(pyz, ["x"], base_env(imds.url, AWS_ENDPOINT_URL_EVENTBRIDGE=
                                              eventbridge.url))
    finally:
        imds.stop()
    assert result.returncode == 1
    assert "AccessKeyId is not a string (int); it must be one line of ASCII text" in \
        one_line(result)


def test_an_integer_access_key_from_credential_process_is_a_clear_error(pyz, eventbridge,
                                                                      tmp_path):
    config = tmp_path / "config"
    config.write_text("[default]\ncredential_process = {} -c \"print('{{\\\"Version\\\": 1, "
                      "\\\"AccessKeyId\\\": 7, \\\"SecretAccessKey\\\": \\\"s\\\"}}')\"\n"
                      .format(sys.executable))
    result = bosky(pyz, eventbridge, ["x", "--instance-id", INSTANCE],
                   AWS_CONFIG_FILE=str(config))
    assert result.returncode == 1 and "AccessKeyId is not a string (int)" in one_line(result)


@pytest.mark.parametrize("where", ["imds", "profile"])
def test_a_region_that_could_become_a_host_is_refused_from_every_source(pyz, eventbridge,
                                                                       tmp_path, where):
    hostile_region = "x@127.0.0.1:9#"
    if where == "imds":
        imds = standins.ImdsStandIn(document=standins.identity_document(
            region=hostile_region)).start()
        try:
            result = run_pyz(pyz, ["x"], base_env(imds.url, **ENV_KEYS))
        finally:
            imds.stop()
        assert result.returncode == 1
    else:
        config = tmp_path / "config"
        config.write_text("[default]\nregion = {}\n".format(hostile_region))
        result = run_pyz(pyz, ["x", "--instance-id", INSTANCE],
                         base_env(AWS_CONFIG_FILE=str(config), **ENV_KEYS))
        assert result.returncode == 2
    assert "invalid region 'x@127.0.0.1:9#'" in one_line(result)


def test_a_proxy_password_with_an_unencoded_slash_is_never_printed(pyz, eventbridge):
    result = run_pyz(pyz, ["x", "--instance-id", INSTANCE, "--no-spool"],
                     proxied(eventbridge, "http://ops:pa/ss@127.0.0.1:9"))
    assert result.returncode == 2
    line = one_line(result)
    assert "http://ops:****@127.0.0.1:9" in line and "pa/ss" not in line and "ss@" not in line
