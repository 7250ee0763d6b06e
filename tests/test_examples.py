"""The shipped examples are valid for the tools that consume them."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

SYSTEMD = os.path.join(ROOT, "examples", "systemd")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_units_verify(pyz, tmp_path):
    for name in os.listdir(SYSTEMD):
        with open(os.path.join(SYSTEMD, name)) as handle:
            text = handle.read().replace("/usr/local/bin/bosky", pyz)
        (tmp_path / name).write_text(text)
    units = sorted(str(tmp_path / name) for name in os.listdir(SYSTEMD))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert result.returncode == 0 and result.stdout == b"", result.stdout.decode()


def test_flush_service_runs_bosky_flush_and_accepts_exit_75():
    with open(os.path.join(SYSTEMD, "bosky-flush.service")) as handle:
        text = handle.read()
    assert "ExecStart=/usr/local/bin/bosky flush" in text
    assert "SuccessExitStatus=75" in text


def test_cloudformation_templates_pass_cfn_lint():
    pytest.importorskip("cfnlint")  # `make test` installs it
    templates = [os.path.join(root, name) for root, _, names in os.walk(
        os.path.join(ROOT, "examples")) for name in names if name.endswith((".yaml", ".yml"))]
    assert templates
    # Its own entry point, run by this Python: a --user install's script may not be on PATH.
    result = subprocess.run([sys.executable, "-c", "import sys; from cfnlint.runner import "
                             "main; sys.exit(main())"] + templates,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert result.returncode == 0, result.stdout.decode()


def test_example_shell_scripts_parse():
    scripts = [os.path.join(root, name) for root, _, names in os.walk(
        os.path.join(ROOT, "examples")) for name in names if name.endswith(".sh")]
    for script in scripts:
        shell = "bash" if open(script).readline().strip().endswith("bash") else "sh"
        subprocess.check_call([shell, "-n", script])


def test_terraform_example_parses_and_matches_the_cloudformation_one():
    hcl2 = pytest.importorskip("hcl2")  # `make test` installs it
    with open(os.path.join(ROOT, "examples", "consumer", "main.tf")) as handle:
        document = hcl2.load(handle)
    kinds = {kind.strip('"') for block in document["resource"] for kind in block}
    assert kinds == {"aws_cloudwatch_event_bus", "aws_cloudwatch_event_rule",
                     "aws_cloudwatch_event_target", "aws_sns_topic", "aws_sns_topic_policy",
                     "aws_sns_topic_subscription", "aws_iam_role", "aws_iam_role_policy",
                     "aws_iam_instance_profile"}
    with open(os.path.join(ROOT, "examples", "consumer", "bosky-consumer.yaml")) as handle:
        template = handle.read()
    for cfn_type in ("AWS::Events::EventBus", "AWS::Events::Rule", "AWS::SNS::Topic",
                     "AWS::SNS::TopicPolicy", "AWS::IAM::Role", "AWS::IAM::InstanceProfile"):
        assert cfn_type in template
