"""`bosky run`, `bosky run-parts` and `bosky trap` with real child processes and real bash."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import standins
from conftest import base_env, run_pyz, wait_until
from test_e2e import ENV_KEYS, INSTANCE

PY = sys.executable


def env_for(eventbridge, **extra):
    merged = dict(ENV_KEYS, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1")
    merged.update(extra)
    return base_env(**merged)


def bosky_run(pyz, eventbridge, *args, **env):
    return run_pyz(pyz, ["run", "--instance-id", INSTANCE] + list(args),
                   env_for(eventbridge, **env))


def details(eventbridge):
    return [item["detail"] for item in eventbridge.accepted]


def by_status(eventbridge, status):
    return [d for d in details(eventbridge) if d["Status"] == status]


def test_run_reports_start_and_pass_and_shows_the_output(pyz, eventbridge):
    result = bosky_run(pyz, eventbridge, "--", PY, "-c", "print('hello from the step')")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hello from the step\n"
    [start] = by_status(eventbridge, "start")
    [done] = by_status(eventbridge, "pass")
    assert start["Step"] == done["Step"] == os.path.basename(PY)
    assert done["Command"] == [PY, "-c", "print('hello from the step')"]
    assert done["ExitCode"] == 0 and done["DurationSeconds"] >= 0
    assert done["OutputTail"] == "hello from the step\n"


def test_run_returns_the_command_status_and_reports_fail(pyz, eventbridge):
    script = "import sys; print('compiling'); sys.stderr.write('error: disk full\\n'); sys.exit(3)"
    result = bosky_run(pyz, eventbridge, "--name", "build", "--", PY, "-c", script)
    assert result.returncode == 3
    assert result.stdout == b"compiling\n" and result.stderr.endswith(b"error: disk full\n")
    [failed] = by_status(eventbridge, "fail")
    assert failed["Step"] == "build" and failed["ExitCode"] == 3
    assert "compiling\n" in failed["OutputTail"] and "disk full" in failed["OutputTail"]
    assert failed["Message"].startswith("build exited 3 after")


def test_a_command_that_cannot_start_exits_127_with_a_fail_event(pyz, eventbridge):
    result = bosky_run(pyz, eventbridge, "--", "/nonexistent/setup.sh", "--fast")
    assert result.returncode == 127
    assert b"cannot run /nonexistent/setup.sh: No such file or directory" in result.stderr
    [failed] = by_status(eventbridge, "fail")
    assert failed["ExitCode"] == 127 and "could not start" in failed["Message"]


def test_killed_by_a_signal_exits_128_plus_n(pyz, eventbridge):
    result = bosky_run(pyz, eventbridge, "--", "sh", "-c", "kill -TERM $$")
    assert result.returncode == 128 + signal.SIGTERM
    [failed] = by_status(eventbridge, "fail")
    assert "killed by signal 15" in failed["Message"]


def test_huge_binary_output_gives_a_bounded_valid_utf8_tail(pyz, eventbridge):
    script = ("import os, sys; sys.stdout.buffer.write(os.urandom(300000)); "
              "sys.stdout.buffer.write(b'\\nthe end\\xff\\n')")
    result = bosky_run(pyz, eventbridge, "--", PY, "-c", script)
    assert result.returncode == 0 and len(result.stdout) == 300000 + 10  # passed through whole
    [done] = by_status(eventbridge, "pass")
    tail = done["OutputTail"]
    assert tail.endswith("the end\ufffd\n") and len(tail.encode("utf-8")) <= 4096 * 3


def test_output_is_shown_live_not_after_the_command_ends(pyz, eventbridge, tmp_path):
    gate = tmp_path / "gate"
    script = ("import os, sys, time\nprint('ready', flush=True)\n"
              "while not os.path.exists(%r): time.sleep(0.02)\nprint('done')\n" % str(gate))
    proc = subprocess.Popen([PY, pyz, "run", "--instance-id", INSTANCE, "--", PY, "-c", script],
                            env=env_for(eventbridge), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.readline() == b"ready\n"  # arrives while the child still waits
    assert proc.poll() is None
    gate.write_text("go")
    assert proc.stdout.read() == b"done\n" and proc.wait(timeout=30) == 0


def test_interleaved_stdout_and_stderr_keep_their_streams_and_order(pyz, eventbridge):
    script = ("import sys, time\nfor i in range(3):\n"
              "    sys.stdout.write('out%d\\n' % i); sys.stdout.flush(); time.sleep(0.05)\n"
              "    sys.stderr.write('err%d\\n' % i); sys.stderr.flush(); time.sleep(0.05)\n")
    result = bosky_run(pyz, eventbridge, "--", PY, "-c", script)
    assert result.stdout == b"out0\nout1\nout2\n"
    assert result.stderr.endswith(b"err0\nerr1\nerr2\n")
    [done] = by_status(eventbridge, "pass")
    assert done["OutputTail"] == "out0\nerr0\nout1\nerr1\nout2\nerr2\n"


def test_the_command_runs_even_when_no_event_can_be_delivered(pyz, tmp_path):
    marker = tmp_path / "ran"
    env = base_env(AWS_ENDPOINT_URL="http://127.0.0.1:9/", AWS_REGION="us-east-1", **ENV_KEYS)
    started = time.monotonic()
    result = run_pyz(pyz, ["run", "--instance-id", INSTANCE, "--timeout", "2", "--", "touch",
                           str(marker)], env)
    assert marker.exists() and result.returncode == 0
    assert b"bosky: spooled:" in result.stderr  # both events kept for `bosky flush`
    assert time.monotonic() - started < 8


def test_sigterm_to_bosky_reaches_the_command(pyz, eventbridge, tmp_path):
    ready, got = tmp_path / "ready", tmp_path / "got-term"
    script = ("import signal, sys, time, pathlib\n"
              "def stop(n, f):\n    pathlib.Path(%r).write_text('term'); sys.exit(5)\n"
              "signal.signal(signal.SIGTERM, stop)\npathlib.Path(%r).write_text('up')\n"
              "time.sleep(30)\n") % (str(got), str(ready))
    proc = subprocess.Popen([PY, pyz, "run", "--instance-id", INSTANCE, "--", PY, "-c", script],
                            env=env_for(eventbridge), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    wait_until(ready.exists, "the command to start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 5 and got.read_text() == "term"
    assert by_status(eventbridge, "fail")[0]["ExitCode"] == 5


# -- run-parts ----------------------------------------------------------------------

def make_bundle(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name, code in (("10-java", 0), ("20-rabbitmq", 4), ("30-tinydns", 0)):
        part = bundle / name
        part.write_text("#!/bin/sh\necho {} ran\nexit {}\n".format(name, code))
        part.chmod(0o755)
    (bundle / ".hidden").write_text("#!/bin/sh\nexit 9\n")
    (bundle / ".hidden").chmod(0o755)
    (bundle / "README").write_text("not executable\n")
    return bundle


def test_run_parts_stops_at_the_first_failure(pyz, eventbridge, tmp_path):
    result = run_pyz(pyz, ["run-parts", "--instance-id", INSTANCE, str(make_bundle(tmp_path))],
                     env_for(eventbridge))
    assert result.returncode == 4
    assert result.stdout == b"10-java ran\n20-rabbitmq ran\n"
    summary = [d for d in details(eventbridge) if d.get("Steps")]
    assert summary[0]["Status"] == "fail" and summary[0]["Step"] == "bundle"
    assert [(s["Step"], s["ExitCode"]) for s in summary[0]["Steps"]] == [
        ("10-java", 0), ("20-rabbitmq", 4)]


def test_run_parts_keep_going_runs_every_part(pyz, eventbridge, tmp_path):
    result = run_pyz(pyz, ["run-parts", "--keep-going", "--instance-id", INSTANCE,
                           str(make_bundle(tmp_path))], env_for(eventbridge))
    assert result.returncode == 4
    assert result.stdout == b"10-java ran\n20-rabbitmq ran\n30-tinydns ran\n"
    steps = [d for d in details(eventbridge) if d.get("Steps")][0]["Steps"]
    assert [s["Step"] for s in steps] == ["10-java", "20-rabbitmq", "30-tinydns"]
    assert len(by_status(eventbridge, "start")) == 3


def test_run_parts_of_a_missing_directory_is_a_usage_error(pyz, eventbridge):
    result = run_pyz(pyz, ["run-parts", "--instance-id", INSTANCE, "/nonexistent/bundle"],
                     env_for(eventbridge))
    assert result.returncode == 2 and eventbridge.requests == []


# -- trap -----------------------------------------------------------------------------

def run_bash(pyz, eventbridge, tmp_path, body, trap_args=""):
    script = tmp_path / "userdata.sh"
    script.write_text("#!/bin/bash\nset -euo pipefail\neval \"$({} {} trap {})\"\n{}".format(
        PY, pyz, trap_args, body))
    return subprocess.run(["bash", str(script)], env=env_for(eventbridge, BOSKY_INSTANCE_ID=
                                                             INSTANCE),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)


def test_trap_reports_the_failing_command_line_and_status(pyz, eventbridge, tmp_path):
    result = run_bash(pyz, eventbridge, tmp_path,
                      "echo installing\nls /nonexistent-artifact\necho never\n",
                      "--project web")
    assert result.returncode == 2 and b"never" not in result.stdout
    [failed] = details(eventbridge)
    assert failed["Status"] == "fail" and failed["ExitCode"] == 2
    assert failed["Line"] == "5" and failed["FailedCommand"] == "ls /nonexistent-artifact"
    assert "userdata.sh: 'ls /nonexistent-artifact' failed with exit status 2 at line 5" == \
        failed["Message"]
    assert eventbridge.accepted[0]["entry"]["Source"] == "web"


def test_trap_on_exit_reports_pass_when_the_script_succeeds(pyz, eventbridge, tmp_path):
    result = run_bash(pyz, eventbridge, tmp_path, "echo all good\n", "--on-exit")
    assert result.returncode == 0
    assert [(d["Status"], d["Message"]) for d in details(eventbridge)] == [
        ("pass", "userdata.sh finished")]


def test_trap_on_exit_reports_an_explicit_exit_that_no_command_failed(pyz, eventbridge,
                                                                      tmp_path):
    result = run_bash(pyz, eventbridge, tmp_path, "exit 7\n", "--on-exit")
    assert result.returncode == 7
    [failed] = details(eventbridge)
    assert failed["ExitCode"] == 7 and failed["Message"] == "userdata.sh exited with status 7"


# -- context, --exit-code, --detail ---------------------------------------------------

def send(pyz, eventbridge, imds_url, *args):
    return run_pyz(pyz, ["x"] + list(args), base_env(
        imds_url, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url))


@pytest.mark.parametrize("tags,expected", [
    ({"aws:autoscaling:groupName": "web-asg", "Name": "web-1"},
     {"AutoScalingGroup": "web-asg", "Name": "web-1"}),
    (None, {}),  # tag access off: the fields are simply absent
])
def test_context_tags_when_tag_access_is_on(pyz, eventbridge, tags, expected):
    imds = standins.ImdsStandIn(tags=tags).start()
    try:
        eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
        result = send(pyz, eventbridge, imds.url)
    finally:
        imds.stop()
    assert result.returncode == 0, result.stderr
    [detail] = details(eventbridge)
    assert {k: detail[k] for k in ("AutoScalingGroup", "Name") if k in detail} == expected
    assert detail["AccountId"] == "123456789012" and "UptimeSeconds" in detail


def test_no_context_leaves_the_context_out(pyz, eventbridge, imds_server):
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    assert send(pyz, eventbridge, imds_server.url, "--no-context").returncode == 0
    assert set(details(eventbridge)[0]) == {"Status", "Message", "InstanceId", "EventUuid"}


@pytest.mark.parametrize("code,status", [("0", "pass"), ("2", "fail")])
def test_exit_code_chooses_the_status_and_is_recorded(pyz, eventbridge, code, status):
    result = run_pyz(pyz, ["--exit-code", code, "step done", "--instance-id", INSTANCE],
                     env_for(eventbridge))
    assert result.returncode == 0
    [detail] = details(eventbridge)
    assert detail["Status"] == status and detail["ExitCode"] == int(code)


@pytest.mark.parametrize("args,expected", [
    (["--exit-code", "2", "--pass"], "choose one status"),
    (["--exit-code", "x"], "--exit-code 'x'"),
    (["--detail", "Status=hacked"], "bosky sets Status itself"),
    (["--detail", "no equals sign"], "expected KEY=VALUE"),
])
def test_bad_exit_code_or_detail_is_a_usage_error(pyz, eventbridge, args, expected):
    result = run_pyz(pyz, args + ["m", "--instance-id", INSTANCE], env_for(eventbridge))
    assert result.returncode == 2 and expected in result.stderr.decode()


def test_detail_options_add_fields(pyz, eventbridge):
    result = run_pyz(pyz, ["m", "--detail", "Version=1.4.2", "--detail", "Tier=web",
                           "--instance-id", INSTANCE], env_for(eventbridge))
    assert result.returncode == 0
    detail = details(eventbridge)[0]
    assert detail["Version"] == "1.4.2" and detail["Tier"] == "web"


def test_dry_run_shows_the_detail_fields(pyz, eventbridge):
    result = run_pyz(pyz, ["m", "--exit-code", "1", "--detail", "K=v", "--dry-run",
                           "--instance-id", INSTANCE], env_for(eventbridge))
    detail = json.loads(json.loads(result.stdout.decode())["request"]["Entries"][0]["Detail"])
    assert detail["ExitCode"] == 1 and detail["K"] == "v" and detail["Status"] == "fail"


def test_a_background_writer_neither_holds_the_step_nor_loses_its_output(pyz, eventbridge,
                                                                         tmp_path):
    # `server &` in user data: the command exits, its background child keeps writing to
    # the inherited output.  bosky must end with the command, and the writer must live on,
    # its output still going where it went (a relay copies it once bosky has moved on).
    out = tmp_path / "out"
    script = ("echo started; (for i in $(seq 60); do echo tick; sleep 0.1; done; echo late) & "
              "echo parent done")
    with open(str(out), "wb") as sink:
        started = time.monotonic()
        proc = subprocess.Popen([PY, pyz, "run", "--instance-id", INSTANCE, "--", "sh", "-c",
                                 script], env=env_for(eventbridge), stdout=sink,
                                stderr=subprocess.PIPE)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
        elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed  # the writer runs for 6 s more
    [done] = by_status(eventbridge, "pass")
    assert done["OutputTail"].startswith("started\nparent done\n")
    wait_until(lambda: b"late" in out.read_bytes(), "the background writer's last line")
    assert out.read_bytes().endswith(b"tick\nlate\n")  # the writer lived and was heard
    assert out.read_bytes().count(b"tick") == 60  # nothing lost at the hand-over


def test_a_closed_output_ends_the_step_as_the_shell_would(pyz, eventbridge):
    # `bosky run -- yes | head -1`: when nobody reads bosky's output, `yes` must end
    # (SIGPIPE, as under a shell), not run for ever into a swallowed EPIPE.
    pipeline = "{} {} run --instance-id {} -- yes | head -1".format(PY, pyz, INSTANCE)
    result = subprocess.run(["bash", "-c", "set -o pipefail; " + pipeline + "; echo $?"],
                            env=env_for(eventbridge), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=30)
    assert result.stdout.split() == [b"y", b"141"], result.stderr  # 128 + SIGPIPE
    [failed] = by_status(eventbridge, "fail")
    assert "killed by signal 13" in failed["Message"]
    assert b"Traceback" not in result.stderr and b"Exception ignored" not in result.stderr


def test_sigterm_after_the_command_exits_ends_bosky_and_spools_the_finish(pyz, eventbridge,
                                                                          spool_dir):
    # The finish event hangs (no reply); SIGTERM then must end bosky at once, the finish
    # kept in the spool -- not be forwarded to the dead child and ignored.
    eventbridge.mode = "hang"
    proc = subprocess.Popen([PY, pyz, "run", "--instance-id", INSTANCE, "--timeout", "30",
                             "--", "true"], env=env_for(eventbridge), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    wait_until(lambda: len(eventbridge.requests) >= 2, "the start and the finish in flight")
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    assert time.monotonic() - started < 2
    err = proc.stderr.read().decode()
    assert "terminated (SIGTERM); the event is kept in " + spool_dir in err
    records = sorted(os.listdir(spool_dir))
    statuses = [json.loads(json.load(open(os.path.join(spool_dir, name)))["entry"]["Detail"])[
        "Status"] for name in records]
    assert statuses[-1] == "pass" and "start" in statuses  # the start first, then the finish


def test_trap_calls_bosky_through_the_interpreter_and_file_that_printed_it(pyz, tmp_path):
    import shlex
    import shutil
    installed = str(tmp_path / "bin dir" / "bosky")  # a space, to prove the quoting
    os.makedirs(os.path.dirname(installed))
    shutil.copy(pyz, installed)
    script = run_pyz(installed, ["trap", "--project", "web app"], base_env()).stdout.decode()
    expected = "{} {} --no-fail".format(shlex.quote(PY), shlex.quote(installed))
    assert expected in script and "--project 'web app'" in script
    custom = run_pyz(installed, ["trap", "--command", "bosky"], base_env()).stdout.decode()
    assert "  bosky --no-fail --exit-code" in custom


# -- run-parts names, links and odd bytes -------------------------------------------------

def test_run_parts_follows_run_parts_names_and_says_what_it_skipped(pyz, eventbridge,
                                                                    tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name in ("10-setup.sh", "20-app", "20-app~", "30-db.rpmsave", "40-x.dpkg-old",
                 ".50-hidden", "60-bad name", "70-job.swp"):
        part = bundle / name
        part.write_text("#!/bin/sh\necho {} ran\n".format(name))
        part.chmod(0o755)
    os.symlink(str(tmp_path / "nowhere"), str(bundle / "15-broken-link"))
    os.symlink(str(tmp_path / "nowhere"), str(bundle / ".dot-broken-link"))
    result = run_pyz(pyz, ["run-parts", "--verbose", "--instance-id", INSTANCE, str(bundle)],
                     env_for(eventbridge))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"10-setup.sh ran\n20-app ran\n"
    skipped = sorted(re.match(r"bosky: run-parts: skipped (.*?): ", line).group(1)
                     for line in result.stderr.decode().splitlines())
    assert skipped == sorted(["15-broken-link", "20-app~", "30-db.rpmsave", "40-x.dpkg-old",
                              ".50-hidden", "60-bad name", "70-job.swp", ".dot-broken-link"])
    for line in ("skipped 15-broken-link: a broken symlink",
                 "skipped 20-app~: a backup or package-manager file",
                 "skipped 60-bad name: its name is not ASCII letters, digits, _, - and ."):
        assert "bosky: run-parts: " + line in result.stderr.decode()


def test_without_verbose_run_parts_skips_quietly(pyz, eventbridge, tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "10-a~").write_text("#!/bin/sh\necho backup\n")
    os.symlink(str(tmp_path / "nowhere"), str(bundle / "20-broken"))
    result = run_pyz(pyz, ["run-parts", "--instance-id", INSTANCE, str(bundle)],
                     env_for(eventbridge))
    assert result.returncode == 0 and result.stderr == b"" and result.stdout == b""


def test_bytes_that_are_not_utf8_in_a_command_line_lose_no_event(pyz, eventbridge):
    env = {k.encode(): v.encode() for k, v in env_for(eventbridge).items()}
    argv = [PY.encode(), pyz.encode(), b"run", b"--instance-id", INSTANCE.encode(), b"--",
            b"/bin/echo", b"caf\xe9 \xff"]
    result = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=60)
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    assert result.stdout == b"caf\xe9 \xff\n"  # the command itself got the bytes as given
    assert [d["Status"] for d in details(eventbridge)] == ["start", "pass"]
    assert details(eventbridge)[1]["Command"] == ["/bin/echo", "caf\ufffd \ufffd"]


def test_the_start_event_is_never_overtaken_by_the_finish(pyz, eventbridge):
    # The start's request is slow to be answered; the command ends at once.  A consumer that
    # keeps the latest status must see the finish last.
    eventbridge.slow_statuses = {"start": 1.5}
    result = bosky_run(pyz, eventbridge, "--", "true")
    assert result.returncode == 0, result.stderr
    assert [d["Status"] for d in details(eventbridge)] == ["start", "pass"]


def test_a_start_event_still_pending_goes_in_the_finishs_request_ahead_of_it(pyz, eventbridge):
    eventbridge.refuse = lambda statuses: statuses == ["start"]  # the start alone: never
    result = bosky_run(pyz, eventbridge, "--", "sh", "-c", "sleep 0.2")
    assert result.returncode == 0, result.stderr
    assert [d["Status"] for d in details(eventbridge)] == ["start", "pass"]
    last = json.loads(eventbridge.requests[-1].body.decode())["Entries"]
    assert [json.loads(e["Detail"])["Status"] for e in last] == ["start", "pass"]


# -- traps that compose --------------------------------------------------------------------

def bash_script(pyz, eventbridge, tmp_path, body, trap_args="--on-exit", before=""):
    script = tmp_path / "userdata.sh"
    script.write_text("#!/bin/bash\n{}\neval \"$({} {} trap {})\"\n{}".format(
        before, PY, pyz, trap_args, body))
    return subprocess.run(["bash", str(script)], env=env_for(eventbridge, BOSKY_INSTANCE_ID=
                                                             INSTANCE),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)


def test_the_scripts_own_exit_and_err_traps_still_run(pyz, eventbridge, tmp_path):
    work = tmp_path / "work"
    before = ('set -euo pipefail\ntmp={}; mkdir -p "$tmp"\n'
              'trap \'echo cleaned rc=$?; rm -rf "$tmp"\' EXIT\n'
              'trap \'echo own-err-trap rc=$?\' ERR\n').format(work)
    result = bash_script(pyz, eventbridge, tmp_path, "false\necho never\n", before=before)
    assert result.returncode == 1
    assert result.stdout == b"own-err-trap rc=1\ncleaned rc=1\n"
    assert not work.exists()  # the cleanup the user wrote ran
    assert [d["Status"] for d in details(eventbridge)] == ["fail"]  # and bosky reported once


def test_a_clean_exit_runs_the_scripts_cleanup_after_the_pass_event(pyz, eventbridge,
                                                                    tmp_path):
    before = "trap 'echo cleanup' EXIT"
    result = bash_script(pyz, eventbridge, tmp_path, "echo working\n", before=before)
    assert result.returncode == 0 and result.stdout == b"working\ncleanup\n"
    assert [d["Status"] for d in details(eventbridge)] == ["pass"]


def test_evaluating_the_trap_twice_reports_once(pyz, eventbridge, tmp_path):
    body = 'eval "$({} {} trap --on-exit)"\nfalse\n'.format(PY, pyz)
    result = bash_script(pyz, eventbridge, tmp_path, body, before="set -e")
    assert result.returncode == 1
    assert [d["Status"] for d in details(eventbridge)] == ["fail"]


def test_with_set_E_a_failure_inside_command_substitution_is_one_event(pyz, eventbridge,
                                                                       tmp_path):
    body = 'value=$(echo partial; false)\necho never\n'
    result = bash_script(pyz, eventbridge, tmp_path, body, before="set -eE")
    assert result.returncode == 1 and b"never" not in result.stdout
    [failed] = details(eventbridge)
    assert failed["Status"] == "fail" and "value=$(echo partial; false)" in \
        failed["FailedCommand"]


def test_a_trap_set_after_the_eval_can_keep_boskys(pyz, eventbridge, tmp_path):
    # As the README says: call __bosky_on_exit from your own EXIT trap to keep both.
    body = "trap 'echo mine; __bosky_on_exit' EXIT\necho working\n"
    result = bash_script(pyz, eventbridge, tmp_path, body)
    assert result.returncode == 0 and result.stdout == b"working\nmine\n"
    assert [d["Status"] for d in details(eventbridge)] == ["pass"]
