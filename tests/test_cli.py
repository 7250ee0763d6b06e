"""Command-line parsing and the error-to-exit-status mapping, in-process."""

import io
import time

import pytest

from bosky import cli, commands, errors
from bosky.commands import emit, options


def parse(argv):
    return options.parse_args(options.build_parser(emit), argv)


def test_options_may_follow_the_message():
    args = parse(["disk", "--fail", "full", "--project", "web"])
    assert args.message == ["disk", "full"] and args.statuses == ["fail"]
    assert args.project == "web"


def test_double_dash_allows_a_message_starting_with_a_dash():
    assert parse(["--fail", "--", "-1 exit"]).message == ["-1 exit"]


@pytest.mark.parametrize("flags,status", [
    ([], "info"), (["--success"], "pass"), (["-p"], "pass"), (["-f", "--fail"], "fail"),
    (["-s", "degraded"], "degraded"), (["--status", "fail", "-f"], "fail"),
])
def test_status_choice(flags, status):
    assert emit.choose_status(parse(flags + ["m"]).statuses) == status


def test_two_statuses_are_a_usage_error():
    with pytest.raises(errors.UsageError):
        emit.choose_status(parse(["-p", "-s", "warn", "m"]).statuses)


def test_stdin_message_loses_only_trailing_newlines():
    stdin = io.TextIOWrapper(io.BytesIO(b"a\n\nb \xff\n\n"))
    from bosky.deadline import Deadline
    assert emit.read_message(["-"], stdin, Deadline(5, time.monotonic)) == "a\n\nb \ufffd"


def run_main(argv, env=None):
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(argv, env=env or {}, stdin=None, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_usage_error_is_one_line_and_exit_2():
    status, out, err = run_main(["--nope", "m"])
    assert status == 2 and out == ""
    assert err == "bosky: error: unrecognized arguments: --nope (see bosky --help)\n"


def test_unexpected_exception_is_one_line_without_debug(monkeypatch):
    monkeypatch.setattr(emit, "run", lambda *a: 1 / 0)
    status, _, err = run_main(["m"])
    assert status == 1 and err.count("\n") == 1
    assert "internal error: ZeroDivisionError" in err and "Traceback" not in err


def test_unexpected_exception_shows_traceback_with_debug(monkeypatch):
    monkeypatch.setattr(emit, "run", lambda *a: 1 / 0)
    _, _, err = run_main(["m", "--debug"])
    assert "Traceback" in err


def test_help_documents_every_flag_and_command():
    status, text, _ = run_main(["--help"])
    for flag in ("--pass", "--success", "--fail", "--info", "--status", "--project",
                 "--instance-id", "--detail-type", "--event-bus", "--region", "--endpoint-url",
                 "--timeout", "--dry-run", "--verbose", "--debug", "--permissions", "--config",
                 "--generate-config", "--version", "--help", "--max-attempts", "--spool-dir",
                 "--no-spool", "--no-fail", "bosky flush", "75") + tuple(
                     commands.load(name).HINT for name in commands.NAMES):
        assert flag in text, flag


def test_flush_help_documents_its_options_and_exit_statuses():
    status, out, _ = run_main(["flush", "--help"])
    assert status == 0 and out.startswith("usage: bosky flush")
    for text in ("--timeout", "--spool-dir", "--max-attempts", "--no-fail", "75"):
        assert text in out, text


def test_flush_takes_no_message():
    status, _, err = run_main(["flush", "stray"])
    assert status == 2 and "unrecognized arguments: stray" in err


def test_no_fail_does_not_hide_usage_errors():
    status, _, err = run_main(["--no-fail", "--pass", "--fail", "m"])
    assert status == 2 and "choose one status" in err


def test_no_fail_covers_an_internal_error_too(monkeypatch):
    monkeypatch.setattr(emit, "run", lambda *a: 1 / 0)
    status, _, err = run_main(["m", "--no-fail"])
    assert status == 0 and "internal error: ZeroDivisionError" in err


@pytest.mark.parametrize("command", ["emit"] + list(commands.NAMES))
def test_every_command_has_help(command):
    argv = ([] if command == "emit" else [command]) + ["--help"]
    status, out, _ = run_main(argv)
    expected = "usage: bosky" + ("" if command == "emit" else " " + command)
    assert status == 0 and out.startswith(expected)


@pytest.mark.parametrize("problem,line", [
    (errors.SpooledError(reason="r", path="/s/x.json", attempts=3),
     "bosky: spooled: not delivered after 3 attempt(s): r; the event is kept in /s/x.json "
     "and `bosky flush` will send it"),
    (KeyError("Detail"), "bosky: internal error: KeyError: 'Detail'; rerun with --debug and "
                         "report it"),
    ("cannot run /x: No such file or directory",
     "bosky: error: cannot run /x: No such file or directory"),
])
def test_every_problem_becomes_one_line_the_same_way(problem, line):
    assert errors.describe(problem) == line


def test_a_step_that_goes_on_after_a_failure_reports_it_as_main_does():
    """World.report serves cli.main and the steps (run, watch, hooks) that must go on."""
    from bosky import errors
    from bosky.system import World
    try:
        1 / 0
    except ZeroDivisionError as exc:
        bug = exc
    for debug, wanted in ((False, 0), (True, 1)):
        err = io.StringIO()
        world = World({}, None, io.StringIO(), err, 0.0, debug=debug)
        world.report(bug)
        world.report(errors.UsageError(reason="a usage problem"))
        text = err.getvalue()
        assert text.count("Traceback") == wanted, text
        assert "internal error: ZeroDivisionError" in text and "a usage problem" in text
