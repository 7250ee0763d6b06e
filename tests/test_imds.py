"""The IMDS client against the loopback IMDS stand-in: tokens, memos, give-up, proxies."""

import time

import pytest

import standins
from bosky import errors, providers, proxies
from bosky.aws import imds
from bosky.deadline import Deadline
from conftest import make_session


def client_for(url, **env):
    session = make_session(dict(env, AWS_EC2_METADATA_SERVICE_ENDPOINT=url))
    return session.imds, session


def deadline(seconds=10):
    return Deadline(seconds, time.monotonic)


def test_every_get_carries_the_token_from_one_put(imds_server):
    client, _ = client_for(imds_server.url)
    client.get(imds.IDENTITY_DOCUMENT, deadline())
    client.get(imds.PARTITION, deadline())
    puts = [r for r in imds_server.requests if r.method == "PUT"]
    assert len(puts) == 1
    assert puts[0].header("x-aws-ec2-metadata-token-ttl-seconds") == "21600"


def test_expired_token_is_replaced_once(imds_server):
    client, _ = client_for(imds_server.url)
    client.get(imds.PARTITION, deadline())
    imds_server.tokens.clear()  # the service forgot it: next GET is a 401
    assert client.get(imds.IDENTITY_DOCUMENT, deadline()).startswith(b"{")
    assert [r.method for r in imds_server.requests] == ["PUT", "GET", "GET", "PUT", "GET"]


def test_missing_optional_path_is_none_and_required_one_is_an_error(imds_server):
    client, _ = client_for(imds_server.url)
    assert client.get("/latest/meta-data/nothing", deadline(), optional=True) is None
    with pytest.raises(errors.ImdsError) as caught:
        client.get("/latest/meta-data/nothing", deadline())
    assert "404" in str(caught.value)


def test_v1_fallback_is_refused_when_v1_is_disabled():
    server = standins.ImdsStandIn(mode="v1").start()
    try:
        client, _ = client_for(server.url, AWS_EC2_METADATA_V1_DISABLED="true")
        with pytest.raises(errors.ImdsError) as caught:
            client.get(imds.PARTITION, deadline())
    finally:
        server.stop()
    assert "AWS_EC2_METADATA_V1_DISABLED" in str(caught.value)


def test_hanging_imds_is_asked_once_and_then_given_up(monkeypatch):
    server = standins.ImdsStandIn(mode="hang").start()
    try:
        client, _ = client_for(server.url, AWS_METADATA_SERVICE_TIMEOUT="0.3")
        with pytest.raises(errors.TransportError) as first:
            client.get(imds.IDENTITY_DOCUMENT, deadline())
        with pytest.raises(errors.TransportError) as second:
            client.get(imds.PARTITION, deadline())
    finally:
        server.stop()
    assert first.value is second.value
    assert len(server.requests) == 1
    assert "timed out after 0.3 s" in str(first.value) and "--instance-id" in str(first.value)


def test_instance_profile_credentials_hide_their_secrets(imds_server):
    _, session = client_for(imds_server.url)
    found = providers.from_instance_profile(session, deadline())
    assert found.access_key_id == standins.TEST_KEY_ID
    assert found.session_token and found.expiration.year == 2099
    assert standins.TEST_SECRET not in repr(found) and found.session_token not in repr(found)


def test_imds_error_reply_in_role_credentials_is_an_error(imds_server):
    path = "/latest/meta-data/iam/security-credentials/" + standins.ROLE_NAME
    imds_server.paths[path] = '{"Code": "AssumeRoleUnauthorizedAccess", "Message": "denied"}'
    _, session = client_for(imds_server.url)
    with pytest.raises(errors.CredentialsError) as caught:
        providers.from_instance_profile(session, deadline())
    assert "AssumeRoleUnauthorizedAccess" in str(caught.value)


@pytest.mark.parametrize("url,env,expected", [
    ("https://events.us-east-1.amazonaws.com/", {"HTTPS_PROXY": "http://p:3128"}, "http://p:3128"),
    ("https://events.us-east-1.amazonaws.com/", {"https_proxy": "http://lower:1",
                                                 "HTTPS_PROXY": "http://upper:1"}, "http://lower:1"),
    ("https://events.us-east-1.amazonaws.com/", {"HTTP_PROXY": "http://p:3128"}, None),
    ("https://events.us-east-1.amazonaws.com/", {"HTTPS_PROXY": "http://p:1",
                                                 "NO_PROXY": ".amazonaws.com"}, None),
    ("https://events.us-east-1.amazonaws.com/", {"HTTPS_PROXY": "http://p:1",
                                                 "NO_PROXY": "amazon.com"}, "http://p:1"),
    ("http://127.0.0.1:8080/", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1:8080"}, None),
    ("http://127.0.0.1:8080/", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1:9"},
     "http://p:1"),
    ("http://x/", {"HTTP_PROXY": "http://p:1", "no_proxy": "*"}, None),
])
def test_proxy_choice(url, env, expected):
    assert proxies.proxy_for(url, env) == expected


class RecordingProxy(standins.StandIn):
    """A forward proxy that records what it was asked for and answers 502."""

    def respond(self, request):
        return 502, {}, b"proxy"


def test_aws_calls_use_the_proxy_but_imds_never_does(imds_server):
    proxy = RecordingProxy().start()
    try:
        client, session = client_for(imds_server.url, HTTP_PROXY=proxy.url)
        assert client.get(imds.PARTITION, deadline()) == b"aws"
        reply = session.http.request("POST", "http://events.example.invalid/", {}, b"{}", 2,
                                     "PutEvents")
    finally:
        proxy.stop()
    assert reply.status == 502
    assert [r.path for r in proxy.requests] == ["http://events.example.invalid/"]
    assert all(not r.path.startswith("http") for r in imds_server.requests)


def test_settled_answers_are_read_once_but_credentials_every_time(imds_server):
    client, session = client_for(imds_server.url)
    for _ in range(3):
        client.get(imds.IDENTITY_DOCUMENT, deadline())
        providers.from_instance_profile(session, deadline())
    paths = [r.path for r in imds_server.requests if r.method == "GET"]
    assert paths.count(imds.IDENTITY_DOCUMENT) == 1
    assert paths.count(imds.ROLE_LIST + standins.ROLE_NAME) == 3


def test_one_token_serves_a_process_until_it_nears_its_ttl(imds_server):
    client, _ = client_for(imds_server.url)
    clock = [0.0]
    client._monotonic = lambda: clock[0]  # the token's age, as the session's clock says it
    client.get(imds.PARTITION, deadline())
    clock[0] = imds.TOKEN_TTL_SECONDS - imds.TOKEN_MARGIN_SECONDS - 1
    client.get(imds.IDENTITY_DOCUMENT, deadline())
    assert client.token_requests == 1
    clock[0] += 2  # within a minute of its end: a new one before the next read
    client.get("/latest/meta-data/local-hostname", deadline())
    assert client.token_requests == 2


@pytest.mark.parametrize("attempts,requests", [("1", 1), ("3", 3)])
def test_imds_attempts_follow_aws_metadata_service_num_attempts(attempts, requests):
    server = standins.ImdsStandIn(mode="hang").start()
    try:
        client, _ = client_for(server.url, AWS_METADATA_SERVICE_TIMEOUT="0.2",
                               AWS_METADATA_SERVICE_NUM_ATTEMPTS=attempts)
        with pytest.raises(errors.TransportError):
            client.get(imds.IDENTITY_DOCUMENT, deadline())
    finally:
        server.stop()
    assert len(server.requests) == requests
