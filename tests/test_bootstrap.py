"""`bosky bootstrap` through the built .pyz: the seed's start-up bundle and its custom
bootstrapper, each one line, against loopback IMDS, S3 and EventBridge stand-ins."""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

import standins
from conftest import base_env, one_line, wait_until

INSTANCE = "i-0123456789abcdef0"
SEED_USER_DATA = "# the seed's user data\nenvironment=prod\nrole=memcached\n\ncontext=b\n"
MODULE = ('#!/bin/bash\necho "$(basename "$PWD") env=$environment role=$role"\n'
          'touch "$BOSKY_BOOTSTRAP_DIR/../ran-$(basename "$PWD")"\n')


def build_bundle(path, files, top="bundle-42"):
    """A tar.gz of {relative path: text} under one top directory (as the seed's are)."""
    with tarfile.open(str(path), "w:gz") as tar:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo("{}/{}".format(top, name) if top else name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return path.read_bytes()


SEED_FILES = {"10-java/start.sh": MODULE, "20-rabbitmq/start.sh": MODULE,
              "30-tinydns/start.sh": MODULE, "notes/README": "not a module\n",
              "b/bootstrapper.sh": "echo init: context\n",
              "b/prod/bootstrapper.sh": "echo init: environment $environment\n"}


@pytest.fixture
def world(tmp_path, eventbridge, pyz):
    imds = standins.ImdsStandIn().start()
    imds.paths["/latest/user-data"] = SEED_USER_DATA
    bucket = standins.S3StandIn().start()
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    yield {"imds": imds, "s3": bucket, "eventbridge": eventbridge, "pyz": pyz,
           "dir": tmp_path / "boot" / "current"}
    imds.stop()
    bucket.stop()


def bootstrap(world, *args, **env):
    merged = dict(AWS_ENDPOINT_URL_EVENTBRIDGE=world["eventbridge"].url,
                  AWS_ENDPOINT_URL_S3=world["s3"].url)
    merged.update(env)
    where = [] if "--dir" in args else ["--dir", str(world["dir"])]
    return subprocess.run([sys.executable, world["pyz"], "bootstrap"] + list(args) + where,
                          env=base_env(world["imds"].url, **merged), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)


def details(world):
    return [item["detail"] for item in world["eventbridge"].accepted]


def put_bundle(world, files=SEED_FILES, key="builds/app-42.tar.gz", top="bundle-42"):
    data = build_bundle(world["dir"].parent.parent / "bundle.tar.gz", files, top)
    world["s3"].objects[("boot-bucket", key)] = data
    return hashlib.sha256(data).hexdigest()


def test_the_seed_bundle_from_a_private_bucket_in_one_line(world):
    digest = put_bundle(world)
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == [
        "10-java env=prod role=memcached", "20-rabbitmq env=prod role=memcached",
        "30-tinydns env=prod role=memcached", "init: environment prod"]
    events = details(world)
    assert [(d["Status"], d["Step"]) for d in events] == [
        ("start", "bootstrap"), ("start", "10-java"), ("pass", "10-java"),
        ("start", "20-rabbitmq"), ("pass", "20-rabbitmq"), ("start", "30-tinydns"),
        ("pass", "30-tinydns"), ("start", "b/prod/bootstrapper.sh"),
        ("pass", "b/prod/bootstrapper.sh"), ("pass", "bootstrap")]
    vars_seen = {"environment": "prod", "role": "memcached", "context": "b",
                 "machine_id": INSTANCE}
    assert all(d["Vars"] == vars_seen and d["BundleSha256"] == digest for d in events)
    assert [s["Step"] for s in events[-1]["Steps"]] == [
        "10-java", "20-rabbitmq", "30-tinydns", "b/prod/bootstrapper.sh"]
    assert sorted(n for n in os.listdir(str(world["dir"])) if n.startswith("ran-")) == [
        "ran-10-java", "ran-20-rabbitmq", "ran-30-tinydns"]  # each in its own directory


@pytest.mark.parametrize("present,chosen", [
    ({"b/prod/i-0123456789abcdef0.sh", "b/prod/bootstrapper.sh", "b/bootstrapper.sh"},
     "b/prod/i-0123456789abcdef0.sh"),
    ({"b/prod/bootstrapper.sh", "b/bootstrapper.sh"}, "b/prod/bootstrapper.sh"),
    ({"b/bootstrapper.sh"}, "b/bootstrapper.sh"),
])
def test_the_most_specific_init_file_runs_and_only_it(world, present, chosen):
    put_bundle(world, {name: "echo init {}\n".format(name) for name in present})
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "init {}\n".format(chosen)
    assert [d["Step"] for d in details(world)][-3:-1] == [chosen, chosen]


def test_no_init_file_is_an_info_event_saying_what_was_tried(world):
    put_bundle(world, {"10-java/start.sh": "echo java\n"})
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--init",
                       "$missing/x.sh", "--init", "$context/$role.sh")
    assert result.returncode == 0, result.stderr
    [info] = [d for d in details(world) if d["Status"] == "info"]
    assert info["InitTried"] == ["$missing/x.sh ($missing is not set)",
                                 "b/memcached.sh (no such file)"]


def test_a_failing_module_stops_the_rest_with_its_status_and_tail(world):
    files = dict(SEED_FILES, **{"20-rabbitmq/start.sh": "echo broken >&2\nexit 7\n"})
    put_bundle(world, files)
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 7
    failed = [d for d in details(world) if d["Status"] == "fail" and d["Step"] == "20-rabbitmq"]
    assert failed[0]["ExitCode"] == 7 and failed[0]["OutputTail"] == "broken\n"
    assert "30-tinydns" not in result.stdout.decode()  # and the init file did not run
    assert details(world)[-1]["Status"] == "fail"


def test_keep_going_runs_every_module_and_the_init_file(world):
    files = dict(SEED_FILES, **{"20-rabbitmq/start.sh": "exit 7\n"})
    put_bundle(world, files)
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--keep-going")
    assert result.returncode == 7
    assert [s["Step"] for s in details(world)[-1]["Steps"]] == [
        "10-java", "20-rabbitmq", "30-tinydns", "b/prod/bootstrapper.sh"]


def test_a_sha256_mismatch_runs_nothing(world):
    put_bundle(world)
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--sha256", "0" * 64)
    assert result.returncode == 1
    assert "given by --sha256" in result.stderr.decode() and result.stdout == b""
    [refused] = details(world)
    assert refused["Status"] == "fail" and refused["Message"].endswith("nothing ran")
    assert not world["dir"].exists()


def test_a_hostile_bundle_runs_nothing_and_says_why(world, tmp_path):
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(str(path), "w:gz") as tar:
        data = b"echo pwned\n"
        info = tarfile.TarInfo("bundle/10-x/start.sh")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("bundle/20-y")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc"
        tar.addfile(link)
    world["s3"].objects[("boot-bucket", "evil.tar.gz")] = path.read_bytes()
    result = bootstrap(world, "s3://boot-bucket/evil.tar.gz")
    assert result.returncode == 1 and b"pwned" not in result.stdout
    assert "bundle refused: member 'bundle/20-y' is a link" in result.stderr.decode()
    assert details(world)[0]["Status"] == "fail" and not world["dir"].exists()


def test_a_url_bundle_needs_its_sha256_and_then_works(world, tmp_path):
    data = build_bundle(tmp_path / "b.tgz", {"10-java/start.sh": "echo from the web\n"})
    server = standins.RawReplyServer(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" %
                                     len(data) + data).start()
    try:
        refused = bootstrap(world, server.url + "/b.tgz")
        assert refused.returncode == 2 and "needs --sha256 HEX" in refused.stderr.decode()
        assert server.requests == []  # nothing fetched; one fail event says why
        assert [d["Status"] for d in details(world)] == ["fail"]
        done = bootstrap(world, server.url + "/b.tgz", "--sha256",
                         hashlib.sha256(data).hexdigest())
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"from the web\n"


def test_the_pointer_names_the_latest_build_and_its_sha256(world):
    digest = put_bundle(world, key="builds/app-43.tar.gz")
    world["s3"].objects[("boot-bucket", "latest")] = "builds/app-43.tar.gz {}\n".format(
        digest).encode()
    result = bootstrap(world, "s3://boot-bucket/latest", "--pointer")
    assert result.returncode == 0, result.stderr
    assert details(world)[0]["BundleSha256"] == digest
    assert details(world)[0]["Bundle"] == "s3://boot-bucket/builds/app-43.tar.gz"
    world["s3"].objects[("boot-bucket", "latest")] = b"builds/app-43.tar.gz " + b"1" * 64
    assert bootstrap(world, "s3://boot-bucket/latest", "--pointer").returncode == 1


@pytest.mark.parametrize("user_data,expected", [
    (None, {"machine_id": INSTANCE}),                               # none: IMDS answers 404
    ("#!/bin/bash\nenvironment=prod\n", {"machine_id": INSTANCE}),  # a script: not variables
    ("#cloud-config\nruncmd: []\n", {"machine_id": INSTANCE}),
    ("environment=prod\nmachine_id=web-1\n", {"environment": "prod", "machine_id": "web-1"}),
])
def test_variables_come_only_from_key_value_user_data(world, user_data, expected):
    put_bundle(world, {"10-java/start.sh": "echo x\n"})
    if user_data is None:
        world["imds"].paths.pop("/latest/user-data")
    else:
        world["imds"].paths["/latest/user-data"] = user_data
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 0, result.stderr
    assert details(world)[0]["Vars"] == expected


def test_var_and_a_user_data_file_override_imds(world, tmp_path):
    put_bundle(world, {"10-java/start.sh": 'echo "$role $tier"\n'})
    data = tmp_path / "user-data"
    data.write_text("role=from-file\ntier=web\n")
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--user-data",
                       str(data), "--var", "role=from-flag")
    assert result.returncode == 0 and result.stdout == b"from-flag web\n", result.stderr


@pytest.mark.parametrize("option", [
    "PATH=/tmp/evil", "LD_PRELOAD=/tmp/x.so", "1x=y", "noequals",  # the shell's, or no name
    "http_proxy=http://127.0.0.1:9", "Environment=prod", "GLIBC_TUNABLES=x", "path=/tmp",
])  # ... and names the modules' tools would read
def test_a_variable_that_would_change_the_shell_or_its_tools_is_refused(world, option):
    result = bootstrap(world, "s3://boot-bucket/k", "--var", option)
    assert result.returncode == 2 and world["s3"].requests == []


def test_dry_run_fetches_checks_and_lists_but_runs_nothing(world):
    digest = put_bundle(world)
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--dry-run")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout.decode())
    assert plan["modules"] == ["10-java", "20-rabbitmq", "30-tinydns"]
    assert plan["init"] == "b/prod/bootstrapper.sh" and plan["sha256"] == digest
    assert plan["vars"]["role"] == "memcached"
    assert plan["directory"] == str(world["dir"] / "bundle-42")  # where it would run
    assert world["eventbridge"].requests == [] and not world["dir"].exists()
    assert os.listdir(str(world["dir"].parent)) == []  # nothing left behind


def test_a_local_directory_is_run_in_place(world, tmp_path):
    tree = tmp_path / "tree"
    (tree / "10-a").mkdir(parents=True)
    (tree / "10-a" / "start.sh").write_text("echo local $role\n")
    result = bootstrap(world, str(tree))
    assert result.returncode == 0 and result.stdout == b"local memcached\n", result.stderr
    assert "BundleSha256" not in details(world)[0]


@pytest.mark.parametrize("module,expected", [("exit 0\n", "CONTINUE"), ("exit 4\n", "ABANDON")])
def test_the_launch_hook_is_completed_from_the_outcome(world, module, expected):
    put_bundle(world, {"10-java/start.sh": module})
    asg = standins.AutoScalingStandIn().start()
    try:
        result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz",
                           "--complete-lifecycle", "boot-gate", "--group", "web-asg",
                           AWS_ENDPOINT_URL_AUTO_SCALING=asg.url)
    finally:
        asg.stop()
    assert result.returncode == (0 if expected == "CONTINUE" else 4), result.stderr
    [(action, params)] = asg.calls
    assert action == "CompleteLifecycleAction"
    assert params["LifecycleActionResult"] == expected and params["InstanceId"] == INSTANCE


def test_a_refused_bundle_abandons_the_launch_hook(world):
    put_bundle(world)
    asg = standins.AutoScalingStandIn().start()
    try:
        result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--sha256",
                           "1" * 64, "--complete-lifecycle", "boot-gate", "--group", "web-asg",
                           AWS_ENDPOINT_URL_AUTO_SCALING=asg.url)
    finally:
        asg.stop()
    assert result.returncode == 1
    assert [p["LifecycleActionResult"] for _, p in asg.calls] == ["ABANDON"]


def test_a_missing_bundle_is_one_line_and_a_fail_event(world):
    result = bootstrap(world, "s3://boot-bucket/builds/nope.tar.gz")
    assert result.returncode == 1 and "nope.tar.gz" in one_line(result)
    assert [d["Status"] for d in details(world)] == ["fail"]


def test_bad_user_data_is_a_fail_event_not_silence(world):
    put_bundle(world)
    world["imds"].paths["/latest/user-data"] = "environment=prod\nLD_PRELOAD=/tmp/x.so\n"
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 2 and "LD_PRELOAD" in result.stderr.decode()
    [event] = details(world)
    assert event["Status"] == "fail" and "LD_PRELOAD" in event["Message"]
    assert world["s3"].requests == [] and result.stdout == b""


@pytest.mark.parametrize("pointer,words", [
    (b"x" * (2 * 1024 * 1024), "over 65536 bytes"),
    (b"", "is empty"),
    (b"builds/app-42.tar.gz not-a-digest\n", "the SHA-256 in the pointer"),
    (b"builds/a builds/b c\n", "is not `BUNDLE [SHA256]`"),
    (b"http://127.0.0.1:9/b.tgz\n", "a URL, without a SHA-256"),
])
def test_a_bad_pointer_is_one_line_and_a_fail_event(world, pointer, words):
    world["s3"].objects[("boot-bucket", "latest")] = pointer
    result = bootstrap(world, "s3://boot-bucket/latest", "--pointer")
    assert result.returncode == 2 and words in one_line(result)
    assert [d["Status"] for d in details(world)] == ["fail"]
    assert len(world["s3"].requests) == 1  # one GET of the pointer, not retried


def test_a_dir_that_is_not_boskys_is_left_alone_and_nothing_is_fetched(world):
    world["dir"].mkdir(parents=True)
    (world["dir"] / "precious").write_text("keep me")
    put_bundle(world)
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 2 and "name a new directory" in result.stderr.decode()
    assert os.listdir(str(world["dir"])) == ["precious"] and world["s3"].requests == []


def test_the_next_bootstrap_replaces_the_last_one(world):
    put_bundle(world, {"10-a/start.sh": "echo one\n"})
    assert bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz").stdout == b"one\n"
    digest = put_bundle(world, {"10-b/start.sh": "echo two\n"}, top="bundle-43")
    again = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert again.returncode == 0 and again.stdout == b"two\n", again.stderr
    assert sorted(os.listdir(str(world["dir"]))) == [".bosky-bundle", "bundle-43"]
    assert digest in (world["dir"] / ".bosky-bundle").read_text()


def test_a_bundle_with_nothing_to_run_fails(world):
    put_bundle(world, {"10-java/run.sh": "echo wrong entry name\n"})
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 1 and "nothing to run" in result.stderr.decode()
    assert "has start.sh (--entry)" in details(world)[0]["Message"]
    assert bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--entry",
                     "run.sh").stdout == b"wrong entry name\n"


def test_a_dir_that_cannot_be_made_is_one_line(world):
    put_bundle(world)
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--dir",
                       "/proc/self/bosky/current")
    text = result.stderr.decode()
    assert result.returncode == 2 and "cannot make a directory" in text and "Traceback" \
        not in text, text


# -- found by a second attacker ---------------------------------------------------------

def test_user_data_imds_fails_to_give_is_asked_again_not_taken_as_none(world):
    put_bundle(world, {"10-java/start.sh": 'echo "role=$role"\n'})
    world["imds"].failing["/latest/user-data"] = 3  # then it answers
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 0 and result.stdout == b"role=memcached\n", result.stderr


def test_user_data_imds_never_gives_is_a_failure_and_nothing_runs(world):
    put_bundle(world, {"10-java/start.sh": "echo ran\n"})
    world["imds"].failing["/latest/user-data"] = -1
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--fetch-timeout", "3")
    assert result.returncode == 1 and result.stdout == b""
    assert "the user data could not be read" in result.stderr.decode()
    assert [d["Status"] for d in details(world)] == ["fail"]


def test_with_instance_id_imds_is_not_asked_for_user_data(world):
    put_bundle(world, {"10-java/start.sh": 'echo "[$role]"\n'})
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--instance-id",
                       INSTANCE, "--var", "role=web")
    assert result.returncode == 0 and result.stdout == b"[web]\n", result.stderr
    assert not any(r.path == "/latest/user-data" for r in world["imds"].requests)


def test_two_bootstraps_on_one_dir_never_run_each_others_bundle(world):
    put_bundle(world, {"10-a/start.sh": "sleep 2; cat ../id\n", "id": "A\n"})
    first = subprocess.Popen([sys.executable, world["pyz"], "bootstrap", "s3://boot-bucket/builds/"
                              "app-42.tar.gz", "--dir", str(world["dir"])],
                             env=base_env(world["imds"].url,
                                          AWS_ENDPOINT_URL_EVENTBRIDGE=world["eventbridge"].url,
                                          AWS_ENDPOINT_URL_S3=world["s3"].url),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until((world["dir"] / "bundle-42" / "id").exists, "the first bootstrap to run")
    second = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    out, err = first.communicate(timeout=30)
    assert first.returncode == 0 and out == b"A\n", err
    assert second.returncode == 1 and "another bosky bootstrap is running" in \
        second.stderr.decode()


def test_a_bundle_with_nothing_to_run_leaves_the_last_good_one(world):
    put_bundle(world, {"10-a/start.sh": "echo good\n"})
    assert bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz").returncode == 0
    put_bundle(world, {"lib/common.sh": "true\n"}, key="builds/empty.tar.gz")
    assert bootstrap(world, "s3://boot-bucket/builds/empty.tar.gz").returncode == 1
    assert (world["dir"] / "bundle-42" / "10-a" / "start.sh").exists()
    assert "builds/app-42.tar.gz" in (world["dir"] / ".bosky-bundle").read_text()


@pytest.mark.parametrize("attempt", range(3))  # the window was narrow: try it a few times
def test_a_sigterm_as_a_module_starts_ends_the_module_and_is_reported(world, attempt):
    put_bundle(world, {"10-m/start.sh": 'kill -TERM $PPID; sleep 1; echo survived\n'})
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 128 + 15 and b"survived" not in result.stdout, result.stderr
    statuses = [(d["Status"], d["Step"]) for d in details(world)]
    assert ("fail", "10-m") in statuses and statuses[-1] == ("fail", "bootstrap")


def test_user_data_with_a_bom_and_export_lines_still_gives_its_variables(world):
    put_bundle(world, {"10-a/start.sh": 'echo "$environment $role"\n'})
    world["imds"].paths["/latest/user-data"] = "\ufeffexport environment=prod\nrole=web\n"
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 0 and result.stdout == b"prod web\n", result.stderr


def test_user_data_meant_as_variables_but_malformed_gets_a_warning(world):
    put_bundle(world, {"10-a/start.sh": "echo ran\n"})
    world["imds"].paths["/latest/user-data"] = "environment=prod\nmy-var=1\n"
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 0
    assert "warning: no variables from IMDS user data: not key=value text: line 2" in \
        result.stderr.decode()


def test_a_pointer_with_a_bom_works_and_one_with_dot_dot_is_refused(world):
    digest = put_bundle(world)
    world["s3"].objects[("boot-bucket", "latest")] = "\ufeffbuilds/app-42.tar.gz {}\r\n".format(
        digest).encode()
    assert bootstrap(world, "s3://boot-bucket/latest", "--pointer").returncode == 0
    world["s3"].objects[("boot-bucket", "latest")] = b"../other-bucket/app.tar.gz\n"
    result = bootstrap(world, "s3://boot-bucket/latest", "--pointer")
    assert result.returncode == 2 and "a key with . or .." in result.stderr.decode()


@pytest.mark.parametrize("kind", ["source-fifo", "user-data-fifo", "stdin-never-closed"])
def test_local_inputs_that_never_end_are_bounded(world, tmp_path, kind):
    import os
    import time
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    put_bundle(world)
    args = {"source-fifo": [str(fifo)],
            "user-data-fifo": ["s3://boot-bucket/builds/app-42.tar.gz", "--user-data", str(fifo)],
            "stdin-never-closed": ["s3://boot-bucket/builds/app-42.tar.gz", "--user-data", "-"]}
    started = time.monotonic()
    reader, writer = os.pipe()  # stdin: a pipe whose writer stays open
    try:
        result = subprocess.run([sys.executable, world["pyz"], "bootstrap"] + args[kind] + [
            "--dir", str(world["dir"]), "--fetch-timeout", "2"], stdin=reader,
            env=base_env(world["imds"].url, AWS_ENDPOINT_URL_EVENTBRIDGE=world["eventbridge"].url,
                         AWS_ENDPOINT_URL_S3=world["s3"].url),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    finally:
        os.close(reader)
        os.close(writer)
    assert time.monotonic() - started < 2 + 2.5
    assert result.returncode in (1, 2) and result.stdout == b""
    one_line(result)


def test_a_missing_interpreter_is_named(world):
    put_bundle(world, {"10-a/start.sh": "#!/usr/bin/no-such-shell\necho x\n"})
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    assert result.returncode == 127
    failed = [d for d in details(world) if d["Status"] == "fail" and d["Step"] == "10-a"]
    assert "its interpreter /usr/bin/no-such-shell is missing" in failed[0]["Message"]


def test_a_bad_option_still_abandons_the_launch_hook(world):
    asg = standins.AutoScalingStandIn().start()
    try:
        result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", "--var",
                           "LD_PRELOAD=/tmp/x.so", "--complete-lifecycle", "boot-gate",
                           "--group", "web-asg", AWS_ENDPOINT_URL_AUTO_SCALING=asg.url)
    finally:
        asg.stop()
    assert result.returncode == 2 and world["s3"].requests == []
    assert [p["LifecycleActionResult"] for _, p in asg.calls] == ["ABANDON"]
    assert [d["Status"] for d in details(world)] == ["fail"]


def test_an_echoed_session_token_is_masked_in_the_line_and_the_event(world):
    token = "FwoGZXIvYXdzEXAMPLETOKEN" + "x" * 200

    def echo(request, reply):
        body = "<Error><Code>AccessDenied</Code><Message>you sent {}</Message></Error>".format(
            request.header("x-amz-security-token")).encode()
        return 403, {"Content-Type": "application/xml"}, body
    world["s3"].lie = echo
    world["eventbridge"].token = token
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz", AWS_ACCESS_KEY_ID=
                       standins.TEST_KEY_ID, AWS_SECRET_ACCESS_KEY=standins.TEST_SECRET,
                       AWS_SESSION_TOKEN=token, AWS_REGION="us-east-1")
    text = result.stderr.decode()
    assert result.returncode == 1 and "you sent ****" in text and token not in text, text
    sent = details(world)
    assert sent and "you sent ****" in sent[0]["Message"]
    assert all(token not in json.dumps(d) for d in sent)


def test_a_bundle_declaring_more_than_the_cap_is_refused_before_it_is_read(world):
    server = standins.RawReplyServer(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n"
                                     b"\r\n" + b"x" * 1000).start()
    try:
        result = bootstrap(world, server.url + "/b.tgz", "--sha256", "0" * 64)
    finally:
        server.stop()
    assert result.returncode == 1 and "Content-Length is over" in result.stderr.decode()


@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_a_lock_file_of_the_wrong_kind_is_one_line_and_nothing_is_fetched(world, tmp_path,
                                                                           kind):
    """The lock beside --dir is opened the way the spool's is (system.hold_lock)."""
    world["dir"].parent.mkdir(parents=True)
    lock = world["dir"].parent / ".current.lock"
    if kind == "fifo":
        os.mkfifo(str(lock))
    else:
        lock.symlink_to(tmp_path / "elsewhere")
    put_bundle(world)
    result = bootstrap(world, "s3://boot-bucket/builds/app-42.tar.gz")
    err = result.stderr.decode()
    assert result.returncode == 1 and "cannot be used as a lock file" in err, err
    assert str(lock) in err and world["s3"].requests == []
