"""IMDS client and transport against loopback servers: tokens, give-up, proxies."""

import time

import pytest

import standins
from bosky import credentials, errors, transport
from bosky.aws import imds
from bosky.deadline import Deadline


def sender(env):
    """What cli wires in for IMDS: a Transport's request, as `send`."""
    sending = transport.Transport(env)

    def send(method, url, headers, body, timeout, label, use_proxy=True, hint=""):
        return sending.request(method, url, headers, body, timeout, label,
                               direct=not use_proxy, hint=hint)
    return send


def client_for(url, **env):
    env = dict(env, AWS_EC2_METADATA_SERVICE_ENDPOINT=url)
    send = sender(env)
    log_lines = []
    client = imds.ImdsClient(send, env, Deadline(10, time.monotonic), log_lines.append)
    return client, log_lines


def test_every_get_carries_the_token_from_one_put(imds_server):
    client, _ = client_for(imds_server.url)
    client.get(imds.IDENTITY_DOCUMENT)
    client.get(imds.PARTITION)
    puts = [r for r in imds_server.requests if r.method == "PUT"]
    assert len(puts) == 1
    assert puts[0].header("x-aws-ec2-metadata-token-ttl-seconds") == "21600"


def test_expired_token_is_replaced_once(imds_server):
    client, _ = client_for(imds_server.url)
    client.get(imds.PARTITION)
    imds_server.tokens.clear()  # the service forgot it: next GET is a 401
    assert client.get(imds.IDENTITY_DOCUMENT).startswith(b"{")
    assert [r.method for r in imds_server.requests] == ["PUT", "GET", "GET", "PUT", "GET"]


def test_missing_optional_path_is_none_and_required_one_is_an_error(imds_server):
    client, _ = client_for(imds_server.url)
    assert client.get("/latest/meta-data/nothing", optional=True) is None
    with pytest.raises(errors.ImdsError) as caught:
        client.get("/latest/meta-data/nothing")
    assert "404" in str(caught.value)


def test_v1_fallback_is_refused_when_v1_is_disabled():
    server = standins.ImdsStandIn(mode="v1").start()
    try:
        client, _ = client_for(server.url, AWS_EC2_METADATA_V1_DISABLED="true")
        with pytest.raises(errors.ImdsError) as caught:
            client.get(imds.PARTITION)
    finally:
        server.stop()
    assert "AWS_EC2_METADATA_V1_DISABLED" in str(caught.value)


def test_hanging_imds_is_asked_once_and_then_given_up(monkeypatch):
    server = standins.ImdsStandIn(mode="hang").start()
    try:
        client, _ = client_for(server.url, AWS_METADATA_SERVICE_TIMEOUT="0.3")
        with pytest.raises(errors.TransportError) as first:
            client.get(imds.IDENTITY_DOCUMENT)
        with pytest.raises(errors.TransportError) as second:
            client.get(imds.PARTITION)
    finally:
        server.stop()
    assert first.value is second.value
    assert len(server.requests) == 1
    assert "timed out after 0.3 s" in str(first.value) and "--instance-id" in str(first.value)


def test_instance_profile_credentials_hide_their_secrets(imds_server):
    client, _ = client_for(imds_server.url)
    found = credentials.from_instance_profile(client)
    assert found.access_key_id == standins.TEST_KEY_ID
    assert found.session_token and found.expiration.year == 2099
    assert standins.TEST_SECRET not in repr(found) and found.session_token not in repr(found)


def test_imds_error_reply_in_role_credentials_is_an_error(imds_server):
    path = "/latest/meta-data/iam/security-credentials/" + standins.ROLE_NAME
    imds_server.paths[path] = '{"Code": "AssumeRoleUnauthorizedAccess", "Message": "denied"}'
    client, _ = client_for(imds_server.url)
    with pytest.raises(errors.CredentialsError) as caught:
        credentials.from_instance_profile(client)
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
    assert transport.proxy_for(url, env) == expected


class RecordingProxy(standins.StandIn):
    """A forward proxy that records what it was asked for and answers 502."""

    def respond(self, request):
        return 502, {}, b"proxy"


def test_aws_calls_use_the_proxy_but_imds_never_does(imds_server):
    proxy = RecordingProxy().start()
    try:
        env = {"HTTP_PROXY": proxy.url, "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds_server.url}
        send = sender(env)
        client = imds.ImdsClient(send, env, Deadline(10, time.monotonic), lambda text: None)
        assert client.get(imds.PARTITION) == b"aws"
        reply = send("POST", "http://events.example.invalid/", {}, b"{}", 2, "PutEvents")
    finally:
        proxy.stop()
    assert reply.status == 502
    assert [r.path for r in proxy.requests] == ["http://events.example.invalid/"]
    assert all(not r.path.startswith("http") for r in imds_server.requests)


def test_settled_answers_are_read_once_but_credentials_every_time(imds_server):
    client, _ = client_for(imds_server.url)
    for _ in range(3):
        client.get(imds.IDENTITY_DOCUMENT)
        credentials.from_instance_profile(client)
    paths = [r.path for r in imds_server.requests if r.method == "GET"]
    assert paths.count(imds.IDENTITY_DOCUMENT) == 1
    assert paths.count(imds.ROLE_LIST + standins.ROLE_NAME) == 3
