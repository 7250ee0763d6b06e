"""One session per process: what a run learns once, it keeps for every event it sends."""

import time

import standins
from conftest import base_env, make_session, run_pyz
from test_e2e import ENV_KEYS, INSTANCE

from bosky.aws import imds
from bosky.deadline import Deadline

ROLE_CREDENTIALS = imds.ROLE_LIST + standins.ROLE_NAME


def make_parts(tmp_path, count):
    bundle = tmp_path / "parts"
    bundle.mkdir()
    for index in range(count):
        part = bundle / "{:02d}-part".format(index)
        part.write_text("#!/bin/sh\necho part {}\n".format(index))
        part.chmod(0o755)
    return bundle


def test_ten_parts_ask_imds_for_one_token_one_identity_and_one_set_of_credentials(
        pyz, eventbridge, imds_server, tmp_path):
    eventbridge.token = "IQoJb3JpZ2luX2VjEXAMPLE"
    env = base_env(imds_server.url, AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url)
    result = run_pyz(pyz, ["run-parts", str(make_parts(tmp_path, 10))], env)
    assert result.returncode == 0, result.stderr
    assert len(eventbridge.accepted) == 21  # start and finish for each part, one summary
    requests = [(r.method, r.path) for r in imds_server.requests]
    assert requests.count(("PUT", imds.TOKEN_PATH)) == 1
    assert requests.count(("GET", imds.IDENTITY_DOCUMENT)) == 1
    assert requests.count(("GET", ROLE_CREDENTIALS)) == 1  # expiring 2099: never refreshed


def test_the_clock_offset_learned_once_serves_every_later_event(pyz, eventbridge, tmp_path):
    eventbridge.clock_offset = 900.0  # the local clock is 15 minutes behind EventBridge's
    env = base_env(AWS_ENDPOINT_URL_EVENTBRIDGE=eventbridge.url, AWS_REGION="us-east-1",
                   **ENV_KEYS)
    result = run_pyz(pyz, ["run-parts", "--instance-id", INSTANCE,
                           str(make_parts(tmp_path, 3))], env)
    assert result.returncode == 0, result.stderr
    refused = [r for r in eventbridge.requests if eventbridge.check(r) is not None]
    assert len(refused) == 1  # the first signature was refused; every later one was right
    assert len(eventbridge.accepted) == 7


def test_credentials_near_expiry_are_fetched_again_and_others_are_kept(imds_server):
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 120))
    imds_server.paths[ROLE_CREDENTIALS] = imds_server.paths[ROLE_CREDENTIALS].replace(
        "2099-01-01T00:00:00Z", soon)
    session = make_session({"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds_server.url})
    for _ in range(3):
        session.credentials.get(Deadline(5, time.monotonic))
    fetches = [r for r in imds_server.requests if r.path == ROLE_CREDENTIALS]
    assert len(fetches) == 3  # within five minutes of expiring: fetched again each time
    assert len([r for r in imds_server.requests if r.method == "PUT"]) == 1


def test_a_session_reads_the_identity_once_for_all_its_deadlines(imds_server):
    session = make_session({"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds_server.url})
    for _ in range(4):
        assert session.identity(session.deadline()).instance_id == INSTANCE
        assert session.region(session.deadline()) == ("us-east-1", "the instance identity")
    assert [r.path for r in imds_server.requests].count(imds.IDENTITY_DOCUMENT) == 1
