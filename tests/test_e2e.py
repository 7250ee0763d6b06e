"""The built .pyz as a subprocess against loopback IMDS and EventBridge stand-ins.

Each test names one behaviour a user relies on: what exit status, what is
printed, and what the stand-in actually received.
"""

import json
import os
import re

import pytest

import standins
from conftest import base_env, one_line, run_pyz

INSTANCE = "i-0123456789abcdef0"
ENV_KEYS = {"AWS_ACCESS_KEY_ID": standins.TEST_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": standins.TEST_SECRET}


def send(pyz, eventbridge, args, imds_url=None, stdin_text=None, **env):
    merged = dict(ENV_KEYS, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url,
                  AWS_REGION="us-east-1")
    merged.update(env)
    return run_pyz(pyz, args, base_env(imds_url, **merged), stdin_text=stdin_text)


UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def received_detail(eventbridge):
    """The one accepted event's Detail, less its EventUuid (checked to be a UUID4)."""
    assert len(eventbridge.accepted) == 1
    detail = dict(eventbridge.accepted[0]["detail"])
    assert UUID4.match(detail.pop("EventUuid"))
    return detail


# -- delivered ----------------------------------------------------------------

def test_instance_profile_only_with_imdsv2_required_delivers(pyz, eventbridge, imds_server):
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    env = base_env(imds_server.url, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url)
    result = run_pyz(pyz, ["--fail", "artifact download returned 404"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    entry = eventbridge.accepted[0]["entry"]
    assert entry["Resources"] == ["arn:aws:ec2:us-east-1:123456789012:instance/" + INSTANCE]
    assert entry["Source"] == "unknown" and entry["DetailType"] == "User Data"
    detail = received_detail(eventbridge)
    uptime = detail.pop("UptimeSeconds")
    assert isinstance(uptime, int) and uptime >= 0
    assert detail == {
        "Status": "fail", "Message": "artifact download returned 404", "InstanceId": INSTANCE,
        "AccountId": "123456789012", "Region": "us-east-1", "AvailabilityZone": "us-east-1a",
        "InstanceType": "t3.micro", "ImageId": "ami-0abcdef1234567890", "PrivateIp": "10.0.0.12",
        "Hostname": "ip-10-0-0-12.ec2.internal"}
    token_puts = [r for r in imds_server.requests if r.method == "PUT"]
    assert len(token_puts) == 1
    assert all(r.header("x-aws-ec2-metadata-token") for r in imds_server.requests
               if r.method == "GET")


def test_message_is_sent_exactly_as_given(pyz, eventbridge):
    message = 'quote " backslash \\ newline\n tab\t unicode \u00e9\u1234 \U0001f600 {"Status":"pass"}'
    result = send(pyz, eventbridge, ["--pass", message, "--instance-id", INSTANCE])
    assert result.returncode == 0, result.stderr
    assert received_detail(eventbridge) == {"Status": "pass", "Message": message,
                                            "InstanceId": INSTANCE}


def test_options_after_the_message_are_honoured(pyz, eventbridge):
    result = send(pyz, eventbridge, ["disk full", "--fail", "--project", "web",
                                     "--instance-id", INSTANCE])
    assert result.returncode == 0, result.stderr
    assert received_detail(eventbridge)["Status"] == "fail"
    assert eventbridge.accepted[0]["entry"]["Source"] == "web"


def test_unquoted_words_form_one_message(pyz, eventbridge):
    result = send(pyz, eventbridge, ["--fail", "artifact", "download", "failed",
                                     "--instance-id", INSTANCE])
    assert result.returncode == 0, result.stderr
    assert received_detail(eventbridge)["Message"] == "artifact download failed"


def test_dash_reads_the_message_from_stdin(pyz, eventbridge):
    result = send(pyz, eventbridge, ["--status", "degraded", "-", "--instance-id", INSTANCE],
                  stdin_text="line one\nline two\n")
    assert result.returncode == 0, result.stderr
    assert received_detail(eventbridge) == {"Status": "degraded",
                                            "Message": "line one\nline two",
                                            "InstanceId": INSTANCE}


def test_verbose_prints_the_event_id(pyz, eventbridge):
    result = send(pyz, eventbridge, ["--success", "ok", "--verbose", "--instance-id", INSTANCE])
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip() == eventbridge.accepted[0]["EventId"]
    assert received_detail(eventbridge)["Status"] == "pass"


def test_session_token_is_sent_and_signed(pyz, eventbridge):
    eventbridge.token = "FwoGZXIvYXdzEXAMPLESESSION"
    result = send(pyz, eventbridge, ["hi", "--instance-id", INSTANCE],
                  AWS_SESSION_TOKEN=eventbridge.token)
    assert result.returncode == 0, result.stderr
    assert received_detail(eventbridge)["Status"] == "info"


def test_the_seed_articles_test_command_delivers_with_its_dummy_id(pyz, eventbridge):
    # The Go tool's README and article: "for testing it does not matter" which ID.
    result = send(pyz, eventbridge, ["--instance-id", "i-123456", "--fail",
                                     "testing failure event"])
    assert result.returncode == 0, result.stderr
    assert eventbridge.accepted[0]["entry"]["Resources"] == ["i-123456"]
    assert received_detail(eventbridge) == {"Status": "fail", "Message": "testing failure event",
                                            "InstanceId": "i-123456"}


def test_instance_arn_goes_into_resources_as_given(pyz, eventbridge):
    arn = "arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/" + INSTANCE
    eventbridge.region = "us-gov-west-1"
    result = send(pyz, eventbridge, ["hi", "--instance-id", arn], AWS_REGION=None)
    assert result.returncode == 0, result.stderr
    assert eventbridge.accepted[0]["entry"]["Resources"] == [arn]


def test_china_region_from_imds_builds_an_aws_cn_arn(pyz, eventbridge):
    imds = standins.ImdsStandIn(document=standins.identity_document(region="cn-north-1"),
                                partition="aws").start()
    try:
        eventbridge.region = "cn-north-1"
        result = send(pyz, eventbridge, ["hi"], imds_url=imds.url, AWS_REGION=None)
    finally:
        imds.stop()
    assert result.returncode == 0, result.stderr
    assert eventbridge.accepted[0]["entry"]["Resources"] == [
        "arn:aws-cn:ec2:cn-north-1:123456789012:instance/" + INSTANCE]


def test_custom_event_bus_and_detail_type_are_sent(pyz, eventbridge):
    result = send(pyz, eventbridge, ["hi", "--instance-id", INSTANCE, "--event-bus", "boot",
                                     "--detail-type", "Boot Report"])
    assert result.returncode == 0, result.stderr
    entry = eventbridge.accepted[0]["entry"]
    assert entry["EventBusName"] == "boot" and entry["DetailType"] == "Boot Report"


def test_config_file_supplies_the_project(pyz, eventbridge, tmp_path):
    path = tmp_path / "config"
    path.write_text("# comment\nproject = from-file\n")
    result = send(pyz, eventbridge, ["hi", "--instance-id", INSTANCE, "-c", str(path)])
    assert result.returncode == 0, result.stderr
    assert eventbridge.accepted[0]["entry"]["Source"] == "from-file"


def test_boskey_project_spelling_is_honoured(pyz, eventbridge):
    result = send(pyz, eventbridge, ["hi", "--instance-id", INSTANCE], BOSKEY_PROJECT="article")
    assert result.returncode == 0, result.stderr
    assert eventbridge.accepted[0]["entry"]["Source"] == "article"


def test_imdsv1_only_instance_still_delivers(pyz, eventbridge):
    imds = standins.ImdsStandIn(mode="v1").start()
    try:
        eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
        result = send(pyz, eventbridge, ["hi"], imds_url=imds.url, AWS_ACCESS_KEY_ID=None,
                      AWS_SECRET_ACCESS_KEY=None)
    finally:
        imds.stop()
    assert result.returncode == 0, result.stderr


# -- not delivered: exit 1 with one line --------------------------------------

def test_entry_rejected_for_good_fails_at_once_with_its_code(pyz, eventbridge):
    eventbridge.mode = "partial"
    eventbridge.entry_error = ("NotAuthorizedForSourceException", "Not authorized for source")
    result = send(pyz, eventbridge, ["--fail", "x", "--instance-id", INSTANCE])
    assert result.returncode == 1
    line = one_line(result)
    assert "NotAuthorizedForSourceException" in line and "--project" in line
    assert len(eventbridge.requests) == 1


def test_error_reply_is_reported_with_code_and_hint(pyz, eventbridge):
    eventbridge.mode = "error"
    result = send(pyz, eventbridge, ["x", "--instance-id", INSTANCE])
    assert result.returncode == 1
    line = one_line(result)
    assert "AccessDeniedException" in line and "bosky --permissions" in line
    assert re.search(r"\(request id [0-9a-f-]{36}\)", line)
    assert len(eventbridge.requests) == 1  # a client error is not retried


def test_wrong_secret_is_rejected_by_signature_check(pyz, eventbridge):
    result = send(pyz, eventbridge, ["x", "--instance-id", INSTANCE],
                  AWS_SECRET_ACCESS_KEY="not-the-secret")
    assert result.returncode == 1
    assert "InvalidSignatureException" in one_line(result)
    assert eventbridge.accepted == []


@pytest.mark.parametrize("mode,expected", [
    ("partial", "ThrottlingException"),   # throttled inside a 200 reply
    ("garbage", "cannot read"),           # a 200 that is not a PutEvents result
    ("reset", "no reply"),                # connection reset before a reply
    ("hang", "timed out"),                # no reply at all
])
def test_transient_failure_until_the_deadline_is_spooled(pyz, eventbridge, spool_dir, mode,
                                                         expected):
    eventbridge.mode = mode
    result = send(pyz, eventbridge, ["--fail", "x", "--instance-id", INSTANCE,
                                     "--timeout", "1.5"])
    assert result.returncode == 75, result.stderr
    line = one_line(result)
    assert line.startswith("bosky: spooled: ") and expected in line and spool_dir in line
    [name] = os.listdir(spool_dir)
    with open(os.path.join(spool_dir, name)) as handle:
        record = json.load(handle)
    assert json.loads(record["entry"]["Detail"])["Status"] == "fail"
    assert record["endpoint"] == eventbridge.url and record["region"] == "us-east-1"


def test_no_spool_makes_an_undelivered_event_exit_1(pyz, eventbridge, spool_dir):
    eventbridge.mode = "reset"
    result = send(pyz, eventbridge, ["x", "--instance-id", INSTANCE, "--timeout", "1",
                                     "--no-spool"])
    assert result.returncode == 1
    assert "not spooled (--no-spool)" in one_line(result)
    assert not os.path.exists(spool_dir)


def test_no_fail_exits_0_but_still_spools_and_says_so(pyz, eventbridge, spool_dir):
    eventbridge.mode = "reset"
    result = send(pyz, eventbridge, ["x", "--instance-id", INSTANCE, "--timeout", "1",
                                     "--no-fail"])
    assert result.returncode == 0
    assert "bosky: spooled:" in one_line(result)
    assert len(os.listdir(spool_dir)) == 1


def test_unreachable_endpoint_names_the_url(pyz):
    env = dict(ENV_KEYS, AWS_REGION="us-east-1", AWS_ENDPOINT_URL="http://127.0.0.1:9/")
    result = run_pyz(pyz, ["x", "--instance-id", INSTANCE, "--no-spool", "--timeout", "1"],
                     base_env(**env))
    assert result.returncode == 1
    line = one_line(result)
    assert "cannot connect" in line and "127.0.0.1:9" in line


def test_no_credentials_anywhere_says_how_to_fix(pyz, eventbridge, imds_server):
    imds_server.paths.pop("/latest/meta-data/iam/security-credentials/")
    result = send(pyz, eventbridge, ["x"], imds_url=imds_server.url, AWS_ACCESS_KEY_ID=None,
                  AWS_SECRET_ACCESS_KEY=None)
    assert result.returncode == 1
    line = one_line(result)
    assert "no AWS credentials" in line and "instance profile" in line


def test_off_ec2_without_instance_id_says_to_pass_it(pyz, eventbridge):
    result = send(pyz, eventbridge, ["x"])  # IMDS address answers nothing
    assert result.returncode == 1
    assert "--instance-id" in one_line(result)


def test_imds_disabled_by_env_says_to_pass_instance_id(pyz, eventbridge, imds_server):
    result = send(pyz, eventbridge, ["x"], imds_url=imds_server.url,
                  AWS_EC2_METADATA_DISABLED="true")
    assert result.returncode == 1
    assert "AWS_EC2_METADATA_DISABLED" in one_line(result)
    assert imds_server.requests == []


def test_no_region_anywhere_is_explained(pyz, eventbridge):
    result = send(pyz, eventbridge, ["x", "--instance-id", INSTANCE], AWS_REGION=None)
    assert result.returncode == 1
    assert "--region" in one_line(result)


# -- bad input: exit 2, nothing sent ------------------------------------------

@pytest.mark.parametrize("args,expected", [
    (["--pass", "--fail", "x"], "choose one status"),
    (["--status", "pass", "-f", "x"], "choose one status"),
    ([], "missing MESSAGE"),
    (["x", "--bogus"], "unrecognized arguments: --bogus"),
    (["x", "--project", "aws.ec2"], "AWS reserves"),
    (["x", "--project", "p" * 257], "1 to 256"),
    (["x", "--detail-type", "d" * 129], "1 to 128"),
    (["x", "--region", "us east 1"], "invalid region"),
    (["x", "--endpoint-url", "ftp://x"], "invalid endpoint URL"),
    (["x", "--event-bus", "bad/bus"], "invalid event bus"),
    (["x", "--timeout", "0"], "invalid timeout"),
    (["x", "--instance-id", "server 7"], "invalid instance id"),
    (["x", "--region", "us-east-1\n"], "invalid region"),
    (["x", "--endpoint-url", "https://ops:s3cret@events.example/"], "holds a user name"),
    (["x", "--endpoint-url", "http://127.0.0.1:9/a b"], "invalid endpoint URL"),
    (["x", "-c", "/nonexistent/bosky.conf"], "no such file"),
])
def test_bad_input_exits_2_and_sends_nothing(pyz, eventbridge, args, expected):
    if "--instance-id" not in args:
        args = args + ["--instance-id", INSTANCE]
    result = send(pyz, eventbridge, args)
    assert result.returncode == 2
    assert expected in one_line(result)
    assert eventbridge.requests == []


def test_oversized_event_is_refused_with_both_sizes(pyz, eventbridge):
    result = send(pyz, eventbridge, ["-", "--instance-id", INSTANCE], stdin_text="x" * 262144)
    assert result.returncode == 2
    line = one_line(result)
    assert "262144 bytes" in line and "is 262" in line
    assert eventbridge.requests == []


def test_partial_environment_credentials_are_an_error(pyz, eventbridge):
    result = send(pyz, eventbridge, ["x", "--instance-id", INSTANCE], AWS_SECRET_ACCESS_KEY=None)
    assert result.returncode == 2
    assert "AWS_SECRET_ACCESS_KEY" in one_line(result)


def test_unknown_config_key_names_the_line(pyz, eventbridge, tmp_path):
    path = tmp_path / "config"
    path.write_text("projcet = typo\n")
    result = send(pyz, eventbridge, ["x", "--instance-id", INSTANCE, "--config", str(path)])
    assert result.returncode == 2
    assert "line 1: unknown key 'projcet'" in one_line(result)


# -- modes that send nothing ---------------------------------------------------

def test_dry_run_prints_the_request_and_needs_no_credentials(pyz, eventbridge):
    result = send(pyz, eventbridge, ["--fail", "x", "--instance-id", INSTANCE, "--dry-run"],
                  AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.decode("utf-8"))
    assert printed["endpoint"] == eventbridge.url and printed["region"] == "us-east-1"
    entry = printed["request"]["Entries"][0]
    assert json.loads(entry["Detail"])["Status"] == "fail"
    assert eventbridge.requests == []


def test_permissions_prints_a_policy_for_the_project(pyz):
    result = run_pyz(pyz, ["--permissions", "--project", "web", "--region", "cn-north-1"],
                     base_env())
    policy = json.loads(result.stdout.decode("utf-8"))
    statement = policy["Statement"][0]
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == "arn:aws-cn:events:cn-north-1:*:event-bus/default"
    assert statement["Condition"] == {"StringEquals": {"events:source": "web"}}


def test_generated_config_is_accepted_by_bosky(pyz, eventbridge, tmp_path):
    template = run_pyz(pyz, ["--generate-config"], base_env()).stdout.decode("utf-8")
    path = tmp_path / "config"
    path.write_text(template.replace("# project = my-service", "project = my-service"))
    result = send(pyz, eventbridge, ["x", "--instance-id", INSTANCE, "-c", str(path)])
    assert result.returncode == 0, result.stderr
    assert eventbridge.accepted[0]["entry"]["Source"] == "my-service"


def test_help_and_version_exit_0(pyz):
    assert run_pyz(pyz, ["--help"], base_env()).stdout.startswith(b"usage: bosky")
    assert run_pyz(pyz, ["--version"], base_env()).stdout.startswith(b"bosky ")


# -- packaging ------------------------------------------------------------------

def test_debug_trace_never_shows_secrets(pyz, eventbridge, imds_server):
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    env = base_env(imds_server.url, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url)
    result = run_pyz(pyz, ["--pass", "ok", "--debug"], env)
    assert result.returncode == 0, result.stderr
    trace = result.stderr.decode("utf-8")
    assert "credentials from instance profile role" in trace
    assert standins.TEST_SECRET not in trace and eventbridge.token not in trace
    assert "Signature=" not in trace


def test_installed_copy_runs_through_its_shebang(pyz, eventbridge, tmp_path):
    import shutil
    import subprocess
    installed = str(tmp_path / "bosky")
    shutil.copy(pyz, installed)
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   **ENV_KEYS)
    result = subprocess.run([installed, "--pass", "installed", "--instance-id", INSTANCE],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr
    assert received_detail(eventbridge)["Message"] == "installed"


@pytest.mark.parametrize("where", ["flag", "env"])
def test_undecodable_bytes_in_event_text_become_replacement_characters(pyz, eventbridge, where):
    import subprocess
    import sys
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   **ENV_KEYS)
    argv = [sys.executable, pyz, "x", "--instance-id", INSTANCE]
    if where == "flag":
        argv = [a.encode() for a in argv] + [b"--project", b"web\xff"]
    else:
        env = {k.encode(): v.encode() for k, v in env.items()}
        env[b"BOSKY_DETAIL_TYPE"] = b"Boot\xfe"
    result = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert result.returncode == 0, result.stderr
    entry = eventbridge.accepted[0]["entry"]
    assert (entry["Source"], entry["DetailType"]) == (
        ("web\ufffd", "User Data") if where == "flag" else ("unknown", "Boot\ufffd"))
