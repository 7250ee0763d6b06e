"""`bosky doctor` through the built .pyz: one line per check, the exit status, no secrets."""

import re

import pytest

import standins
from conftest import base_env, run_pyz

TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE"


def doctor(pyz, *args, **env):
    result = run_pyz(pyz, ["doctor"] + list(args), base_env(**env))
    out, err = result.stdout.decode(), result.stderr.decode()
    for secret in (standins.TEST_SECRET, TOKEN, "FwoGZXIvYXdzEXAMPLESESSION"):
        assert secret not in out + err, "doctor printed a secret"
    return result.returncode, out, err


def lines(out):
    """{label: (state, text)} from doctor's report."""
    parsed = {}
    for line in out.splitlines():
        if line.startswith(("ok ", "warn ", "FAIL ")):
            state, label, text = line.split(None, 2)
            parsed[label] = (state, text)
    return parsed


def test_a_healthy_instance_passes_every_check(pyz, imds_server, eventbridge):
    code, out, err = doctor(pyz, imds_url=imds_server.url,
                            AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url)
    report = lines(out)
    assert code == 0, out + err
    assert {label for label, (state, _) in report.items() if state == "ok"} >= {
        "bosky", "profile", "imds", "instance", "region", "endpoint", "proxy", "credentials",
        "reach", "clock", "signing"}
    assert report["imds"][1].startswith("IMDSv2")
    assert "instance profile role bosky-test-role" in report["credentials"][1]
    assert "from AWS_ENDPOINT_URL_EVENTBRIDGE" in report["endpoint"][1]
    assert "x-amz-security-token" in report["signing"][1]
    assert out.rstrip().endswith("an event could be sent")
    assert eventbridge.accepted == []  # doctor never sends an event


def test_environment_credentials_show_only_the_key_id_tail(pyz, eventbridge):
    code, out, _ = doctor(pyz, "--instance-id", "i-0123456789abcdef0", "--region", "eu-west-1",
                          AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url,
                          AWS_ACCESS_KEY_ID=standins.TEST_KEY_ID,
                          AWS_SECRET_ACCESS_KEY=standins.TEST_SECRET,
                          AWS_SESSION_TOKEN="FwoGZXIvYXdzEXAMPLESESSION")
    assert code == 0
    report = lines(out)
    assert report["credentials"][1] == "environment variables (key id ****MPLE)"
    assert report["region"][1] == "eu-west-1 (from --region)"


def test_off_ec2_with_nothing_configured_fails_and_names_the_fix(pyz):
    code, out, err = doctor(pyz)
    assert code == 1
    assert lines(out)["imds"][0] == "warn" and lines(out)["instance"][0] == "FAIL"
    assert err.count("\n") == 1 and "pass --instance-id and --region" in err


def test_missing_credentials_fail_the_credentials_check(pyz, imds_server, eventbridge):
    imds_server.paths.pop("/latest/meta-data/iam/security-credentials/")
    code, out, err = doctor(pyz, imds_url=imds_server.url,
                            AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url)
    assert code == 1 and lines(out)["credentials"][0] == "FAIL"
    assert "no AWS credentials" in err and "bosky --permissions" in err


def test_a_skewed_clock_warns_but_an_event_could_still_be_sent(pyz, imds_server, eventbridge):
    eventbridge.clock_offset = -600.0
    code, out, _ = doctor(pyz, imds_url=imds_server.url,
                          AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url)
    state, text = lines(out)["clock"]
    assert code == 0 and state == "warn"
    offset = int(re.search(r"clock is ([+-]\d+) s off", text).group(1))
    assert abs(offset - 600) <= 2  # the Date header has whole-second resolution


def test_an_unreachable_endpoint_fails(pyz, imds_server):
    code, out, err = doctor(pyz, imds_url=imds_server.url,
                            AWS_ENDPOINT_URL_EVENTBRIDGE="http://127.0.0.1:9/")
    assert code == 1 and lines(out)["reach"][0] == "FAIL"
    assert "cannot connect" in err


@pytest.mark.parametrize("proxy,shown", [
    ("http://127.0.0.1:3128", "http://127.0.0.1:3128"),
    ("http://ops:s3cret@127.0.0.1:3128", "http://ops:****@127.0.0.1:3128")])
def test_the_proxy_in_use_is_shown_without_its_password(pyz, imds_server, proxy, shown):
    env = dict(AWS_ENDPOINT_URL_EVENTBRIDGE="https://events.example.invalid/",
               HTTPS_PROXY=proxy)
    _, out, err = doctor(pyz, imds_url=imds_server.url, **env)
    assert lines(out)["proxy"] == ("ok", shown)
    assert "s3cret" not in out + err
