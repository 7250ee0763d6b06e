"""`bosky boot-report` against run-dirs written by the real cloud-init.

tests/fixtures/cloud-init holds what Debian's cloud-init 22.4 (bookworm) and
25.1 (trixie) wrote when their stages ran for real, confined, with the NoCloud
datasource; its regenerate.sh makes them again and its README says how.
"""

import json
import os
import shutil
import threading

import pytest

import standins
from conftest import ROOT, base_env, run_pyz
from test_e2e import ENV_KEYS, INSTANCE

from bosky import cloudinit

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "cloud-init")


def run_dir_from(tmp_path, case):
    target = tmp_path / "run"
    shutil.copytree(os.path.join(FIXTURES, case), str(target))
    return target


def boot(pyz, eventbridge, run_dir, tmp_path, *args, imds_url=None, **env):
    merged = dict(ENV_KEYS, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url,
                  AWS_REGION="us-east-1")
    merged.update(env)
    argv = ["boot-report", "--run-dir", str(run_dir),
            "--log", str(run_dir / "cloud-init-output.log"),
            "--state-dir", str(tmp_path / "state"), "--wait", "2"] + list(args)
    if imds_url is None:
        argv += ["--instance-id", INSTANCE]
    return run_pyz(pyz, argv, base_env(imds_url, **merged))


def the_event(eventbridge):
    [item] = eventbridge.accepted
    return item["detail"]


def test_a_clean_boot_reports_pass_with_stages_and_times(pyz, eventbridge, tmp_path):
    result = boot(pyz, eventbridge, run_dir_from(tmp_path, "clean"), tmp_path)
    assert result.returncode == 0, result.stderr
    event = the_event(eventbridge)
    assert event["Status"] == "pass" and event["CloudInitStatus"] == "done"
    assert event["Message"] == "cloud-init finished in 3.207 s"
    assert event["BootSeconds"] == 3.207
    assert event["Datasource"].startswith("DataSourceNoCloud [seed=")
    assert [(s["Name"], s["Seconds"]) for s in event["Stages"]] == [
        ("init-local", 0.065), ("init", 1.143), ("modules-config", 1.213),
        ("modules-final", 0.087)]  # 22.4's unused modules-init is left out
    assert event["Errors"] == [] and "OutputTail" not in event


@pytest.mark.parametrize("case", ["scripts-user", "trixie-scripts-user"])
def test_a_failing_user_data_script_names_scripts_user_and_carries_the_log_tail(
        pyz, eventbridge, tmp_path, case):
    # Debian's 22.4 spells the module scripts-user; 25.1 too in its cloud.cfg: one name out.
    result = boot(pyz, eventbridge, run_dir_from(tmp_path, case), tmp_path)
    assert result.returncode == 0, result.stderr
    event = the_event(eventbridge)
    assert event["Status"] == "fail" and event["CloudInitStatus"] == "error"
    assert event["Errors"] == ["scripts_user"]
    assert event["Message"] == ("cloud-init failed in scripts_user: RuntimeError('Runparts: 1 "
                                "failures (part-001) in 1 attempted commands')")
    final = [s for s in event["Stages"] if s["Name"] == "modules-final"][0]
    assert final["Errors"][0].startswith("('scripts-user', RuntimeError(")


def test_the_failing_scripts_output_is_in_the_tail(pyz, eventbridge, tmp_path):
    result = boot(pyz, eventbridge, run_dir_from(tmp_path, "scripts-user"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "curl: (22) The requested URL returned error: 404" in \
        the_event(eventbridge)["OutputTail"]


@pytest.mark.parametrize("case,modules", [
    ("config-module", ["package_update_upgrade_install"]),  # fails in modules-final
    ("config-stage", ["locale"]),                            # fails in modules-config
    ("two-modules", ["write_files", "scripts_user"]),        # init and modules-final
])
def test_each_failing_module_is_named(pyz, eventbridge, tmp_path, case, modules):
    result = boot(pyz, eventbridge, run_dir_from(tmp_path, case), tmp_path)
    assert result.returncode == 0, result.stderr
    event = the_event(eventbridge)
    assert event["Status"] == "fail" and event["Errors"] == modules
    assert event["Message"].startswith("cloud-init failed in {}".format(modules[0]))


def test_recoverable_errors_only_report_degraded(pyz, eventbridge, tmp_path):
    result = boot(pyz, eventbridge, run_dir_from(tmp_path, "trixie-recoverable"), tmp_path)
    assert result.returncode == 0, result.stderr
    event = the_event(eventbridge)
    assert event["Status"] == "degraded" and event["CloudInitStatus"] == "degraded"
    assert event["Message"] == "cloud-init finished with 2 warning(s) in 0.52 s"
    init = [s for s in event["Stages"] if s["Name"] == "init"][0]
    assert list(init["RecoverableErrors"]) == ["DEPRECATED"]
    assert "apt_reboot_if_required" in init["RecoverableErrors"]["DEPRECATED"][0]
    assert "OutputTail" not in event


def test_cloud_init_finishing_during_the_wait_is_reported_when_done(pyz, eventbridge, tmp_path):
    run_dir = run_dir_from(tmp_path, "running")
    done = run_dir_from(tmp_path / "later", "clean")
    finish = threading.Timer(1.0, lambda: [shutil.copy(str(done / name), str(run_dir / name))
                                           for name in ("result.json", "status.json")])
    finish.start()
    result = boot(pyz, eventbridge, run_dir, tmp_path, "--wait", "20")
    finish.join()
    assert result.returncode == 0, result.stderr
    event = the_event(eventbridge)  # the finished boot's figures, not the running one's
    assert (event["Status"], event["CloudInitStatus"], event["BootSeconds"]) == (
        "pass", "done", 3.207)


def test_cloud_init_never_finishing_reports_the_stage_it_is_in(pyz, eventbridge, tmp_path):
    result = boot(pyz, eventbridge, run_dir_from(tmp_path, "running"), tmp_path, "--wait", "1")
    assert result.returncode == 0, result.stderr
    event = the_event(eventbridge)
    assert event["Status"] == "fail" and event["CloudInitStatus"] == "running"
    assert event["Message"] == "cloud-init did not finish within 1 s: still in stage modules-final"
    assert "bosky fixture: long step started" in event["OutputTail"]


@pytest.mark.parametrize("damage,expected", [
    ("missing", "does not exist (yet)"),
    ("truncated", "is not complete JSON (half-written?)"),
])
def test_missing_or_half_written_files_give_a_clear_fail_event(pyz, eventbridge, tmp_path,
                                                               damage, expected):
    run_dir = run_dir_from(tmp_path, "clean")
    status = run_dir / "status.json"
    if damage == "missing":
        os.remove(str(status))
    else:
        status.write_text(status.read_text()[:150])
    result = boot(pyz, eventbridge, run_dir, tmp_path, "--wait", "1")
    assert result.returncode == 0, result.stderr
    event = the_event(eventbridge)
    assert event["Status"] == "fail" and event["CloudInitStatus"] == "unreadable"
    assert expected in event["Message"] and "Traceback" not in result.stderr.decode()


def test_a_half_written_file_completed_during_the_wait_is_read(pyz, eventbridge, tmp_path):
    run_dir = run_dir_from(tmp_path, "clean")
    full = (run_dir / "status.json").read_text()
    (run_dir / "status.json").write_text(full[:150])
    fix = threading.Timer(0.8, lambda: (run_dir / "status.json").write_text(full))
    fix.start()
    result = boot(pyz, eventbridge, run_dir, tmp_path, "--wait", "20")
    fix.join()
    assert result.returncode == 0 and the_event(eventbridge)["Status"] == "pass"


def test_off_a_cloud_init_machine_exits_2(pyz, eventbridge, tmp_path):
    result = boot(pyz, eventbridge, tmp_path / "no-such-run-dir", tmp_path)
    assert result.returncode == 2 and "not a cloud-init machine" in result.stderr.decode()
    assert eventbridge.requests == []


def test_reports_once_per_instance_unless_every_boot(pyz, eventbridge, tmp_path, imds_server):
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    run_dir = run_dir_from(tmp_path, "clean")
    env = dict(imds_url=imds_server.url, AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    assert boot(pyz, eventbridge, run_dir, tmp_path, **env).returncode == 0
    again = boot(pyz, eventbridge, run_dir, tmp_path, "--verbose", **env)
    assert again.returncode == 0 and len(eventbridge.accepted) == 1  # found the marker
    assert again.stderr.decode().startswith("bosky: boot already reported for this instance")
    assert "--every-boot reports again" in again.stderr.decode()
    assert (tmp_path / "state" / ("boot-reported." + INSTANCE)).exists()
    assert boot(pyz, eventbridge, run_dir, tmp_path, "--every-boot", **env).returncode == 0
    assert len(eventbridge.accepted) == 2
    assert eventbridge.accepted[0]["detail"]["AccountId"] == "123456789012"  # context too


@pytest.mark.parametrize("case,result_expected", [("scripts-user", "ABANDON"),
                                                  ("trixie-recoverable", "CONTINUE")])
def test_the_launch_hook_is_gated_on_cloud_init_s_verdict(pyz, eventbridge, tmp_path, case,
                                                         result_expected):
    asg = standins.AutoScalingStandIn().start()
    try:
        result = boot(pyz, eventbridge, run_dir_from(tmp_path, case), tmp_path,
                      "--complete-lifecycle", "boot-gate", "--group", "web-asg",
                      AWS_ENDPOINT_URL_AUTO_SCALING=asg.url)
    finally:
        asg.stop()
    assert result.returncode == 0, result.stderr
    assert asg.calls[0][1]["LifecycleActionResult"] == result_expected


def test_dry_run_prints_the_report_sends_nothing_and_leaves_no_marker(pyz, eventbridge,
                                                                     tmp_path):
    result = boot(pyz, eventbridge, run_dir_from(tmp_path, "two-modules"), tmp_path,
                  "--dry-run")
    assert result.returncode == 0, result.stderr
    [entry] = json.loads(result.stdout.decode())["request"]["Entries"]
    assert json.loads(entry["Detail"])["Errors"] == ["write_files", "scripts_user"]
    assert eventbridge.requests == [] and not (tmp_path / "state").exists()


def test_no_network_spools_the_report_and_marks_it_done(pyz, eventbridge, tmp_path, spool_dir):
    eventbridge.mode = "reset"
    run_dir = run_dir_from(tmp_path, "scripts-user")
    result = boot(pyz, eventbridge, run_dir, tmp_path, "--timeout", "1")
    assert result.returncode == 75
    assert len(os.listdir(spool_dir)) == 1
    assert (tmp_path / "state" / ("boot-reported." + INSTANCE)).exists()


# -- the summary, as pure functions ------------------------------------------------------

def load(case, name):
    with open(os.path.join(FIXTURES, case, name)) as handle:
        return json.load(handle)


@pytest.mark.parametrize("case,status,modules,warnings", [
    ("clean", "pass", [], 0), ("trixie-clean", "pass", [], 0),
    ("scripts-user", "fail", ["scripts_user"], 0),
    ("trixie-scripts-user", "fail", ["scripts_user"], 2),  # 25.1 warns about it too
    ("config-module", "fail", ["package_update_upgrade_install"], 0),
    ("two-modules", "fail", ["write_files", "scripts_user"], 0),
    ("trixie-recoverable", "degraded", [], 2),
])
def test_summaries_of_the_real_fixtures(case, status, modules, warnings):
    summary = cloudinit.summarize(load(case, "status.json"), load(case, "result.json"))
    assert (summary.status, summary.modules, summary.warnings, summary.done) == (
        status, modules, warnings, True)


def test_errors_only_in_result_json_still_fail():
    result = {"v1": {"errors": ["Can not apply stage final, no datasource found!"]}}
    summary = cloudinit.summarize(load("clean", "status.json"), result)
    assert summary.status == "fail" and summary.modules == ["cloud-init"]


def test_a_running_boot_is_not_done():
    summary = cloudinit.summarize(load("running", "status.json"), None)
    assert not summary.done and summary.status == "pass"


@pytest.mark.parametrize("change,expected", [
    (lambda v1: v1.update(stage="modules-final"), "still in stage modules-final"),
    (lambda v1: (v1.update(stage=None), v1["modules-config"].update(finished=None)),
     "still in stage modules-config"),
    (lambda v1: (v1.update(stage=None), v1["modules-final"].update(start=None,
                                                                    finished=None)),
     "stage modules-final had not started"),
])
def test_where_a_boot_that_never_finished_got_to(change, expected):
    status = load("running", "status.json")
    change(status["v1"])
    assert cloudinit.where_it_is(status) == expected


def test_numbers_no_json_holds_and_a_huge_error_still_give_a_sendable_event(
        pyz, eventbridge, tmp_path):
    run_dir = run_dir_from(tmp_path, "scripts-user")
    status = json.loads((run_dir / "status.json").read_text())
    stage = status["v1"]["modules-final"]
    stage["errors"] = ["('scripts-user', ProcessExecutionError('{}'))".format("o" * 300000)]
    (run_dir / "status.json").write_text(json.dumps(status))
    result = boot(pyz, eventbridge, run_dir, tmp_path)
    assert result.returncode == 0, result.stderr
    event = the_event(eventbridge)  # the stand-in parses Detail strictly, as EventBridge does
    assert event["Status"] == "fail" and event["Errors"] == ["scripts_user"]
    assert "characters cut]" in json.dumps(event["Stages"])
    eventbridge.accepted.clear()
    stage["start"] = float("inf")  # written as Infinity: not JSON
    (run_dir / "status.json").write_text(json.dumps(status))
    result = boot(pyz, eventbridge, run_dir, tmp_path, "--every-boot")
    assert result.returncode == 0, result.stderr
    assert "is not complete JSON" in the_event(eventbridge)["Message"]
