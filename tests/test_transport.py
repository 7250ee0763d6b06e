"""The HTTP layer (transport + bounded) against loopback servers that script their bytes.

Polite framings first (http.client parses them; these prove bosky hands it the
right things), then servers that lie: each hostile case asserts that the
request ends by its timeout, whatever the server does, with a read or connect
error that says what happened, and that memory stays bounded.
"""

import socket
import time
import tracemalloc

import pytest

import standins
from bosky import errors, transport
from standins.hostile import HostileServer, forever, then

SLACK = 1.0  # seconds a request may overrun its timeout (the brief allows one)


@pytest.fixture
def serve():
    started = []

    def start(reply_or_script, **kwargs):
        if isinstance(reply_or_script, bytes):
            server = standins.RawReplyServer(reply_or_script).start()
        else:
            server = HostileServer(reply_or_script, **kwargs).start()
        started.append(server)
        return server
    yield start
    for server in started:
        server.stop()


def send(server, method="POST", headers=None, body=b"{}", path="/", timeout=5, **kwargs):
    return transport.Transport({}).request(method, server.url + path, headers or {}, body,
                                           timeout, "Test", **kwargs)


def failure(server, timeout=2, **kwargs):
    """The TransportError a request to `server` ends with, and how long it took."""
    started = time.monotonic()
    with pytest.raises(errors.TransportError) as raised:
        send(server, timeout=timeout, **kwargs)
    return raised.value, time.monotonic() - started


# -- what a polite server sends -------------------------------------------------------

@pytest.mark.parametrize("reply,status,reason,body", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "OK", b"hello"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5;note=x\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n", 200, "OK",
     b"hello, world"),
    (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", 200, "OK",
     b"until the end"),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Slow Down\r\nContent-Length: 2\r\n\r\n{}",
     503, "Slow Down", b"{}"),
    (b"HTTP/1.1 204 No Content\r\n\r\nstray", 204, "No Content", b""),
    (b"HTTP/1.1 301 Moved Permanently\r\nLocation: http://elsewhere.invalid/\r\n"
     b"Content-Length: 0\r\n\r\n", 301, "Moved Permanently", b""),
], ids=["content-length", "chunked", "close-framed", "interim-100", "204", "redirect-kept"])
def test_each_framing_gives_the_body(serve, reply, status, reason, body):
    answer = send(serve(reply))
    assert (answer.status, answer.reason, answer.body) == (status, reason, body)


def test_header_names_come_back_in_lower_case_and_a_repeated_one_keeps_its_last(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Amzn-RequestId: r-1\r\n"
                   b"X-Twice: a\r\nX-Twice: b\r\n\r\n")
    headers = send(server).headers
    assert (headers["x-amzn-requestid"], headers["x-twice"]) == ("r-1", "b")


def test_the_request_carries_host_length_close_and_our_user_agent(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    send(server, method="PUT", body=None, path="/latest/api/token?x=1",
         headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    head, body = server.requests[0]
    lines = head.split("\r\n")
    assert lines[0] == "PUT /latest/api/token?x=1 HTTP/1.1"
    assert "Host: " + server.host in lines  # the port is not the default, so it is kept
    assert "Content-Length: 0" in lines  # a PUT says how long its (empty) body is
    assert "Connection: close" in lines and body == b""
    assert any(line.startswith("User-Agent: bosky/") for line in lines)


def test_a_get_has_no_length_and_a_signed_host_is_not_sent_twice(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    send(server, method="GET", body=None, headers={"Host": "signed.example:1234"})
    lines = server.requests[0][0].split("\r\n")
    assert [line for line in lines if line.lower().startswith("host:")] == \
        ["Host: signed.example:1234"]
    assert not any(line.lower().startswith("content-length") for line in lines)


def test_a_post_body_arrives_whole(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    body = "{\"Entries\": [\"\u2713\"]}".encode("utf-8") * 500
    send(server, body=body)
    assert server.requests[0][1] == body


@pytest.mark.parametrize("value", ["token\r\nX-Forged: 1", "t\u00f6ken\u2713"],
                         ids=["line-break", "not-latin-1"])
def test_a_header_http_cannot_carry_is_never_sent(serve, value):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(errors.TransportError) as raised:
        send(server, headers={"X-aws-ec2-metadata-token": value})
    assert ("cannot send: X-aws-ec2-metadata-token holds a line break or a character HTTP "
            "headers cannot carry") in str(raised.value)
    assert raised.value.fields["retryable"] is False
    assert server.requests == []


def test_a_refused_connection_is_a_connect_error():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(errors.TransportError) as raised:
        transport.Transport({}).request("GET", "http://127.0.0.1:{}/".format(port), {}, None,
                                        2, "Test")
    assert raised.value.fields["phase"] == "connect" and "connection refused" in \
        str(raised.value)


# -- broken replies -------------------------------------------------------------------

@pytest.mark.parametrize("reply,words", [
    (b"", "no reply: connection closed (RemoteDisconnected)"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "connection closed (IncompleteRead)"),
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "unreadable reply (BadStatusLine"),
    ("HTTP/1.1 \u00b2\u00b2\u00b2 OK\r\nContent-Length: 0\r\n\r\n".encode("latin-1"),
     "unreadable reply (BadStatusLine"),
    (b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", "got more than 100 headers"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "IncompleteRead"),
], ids=["closed", "short-body", "not-http", "superscript-status", "too-many-headers",
        "bad-chunk-size"])
def test_a_broken_reply_is_a_retryable_read_error_that_says_what_broke(serve, reply, words):
    exc, _ = failure(serve(reply))
    assert exc.fields["phase"] == "read" and exc.fields["retryable"]
    assert words in str(exc)


def test_a_reply_over_the_cap_is_an_error_not_a_truncated_body(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + b"x" * 20)
    with pytest.raises(errors.TransportError) as raised:
        send(server, limit=8)
    assert "the reply is over 8 bytes" in str(raised.value)


# -- servers that lie: the timeout is a wall clock ----------------------------------

HEAD_OK = b"HTTP/1.1 200 OK\r\n"


@pytest.mark.parametrize("script,words", [
    (then((HEAD_OK, 0), (b"X", 0.3), None), "timed out after 2 s"),          # trickled headers
    (then((HEAD_OK + b"Content-Length: 1000\r\n\r\n", 0), (b"x", 0.3), None),
     "timed out after 2 s"),                                                 # trickled body
    (forever(b"HTTP/1.1 100 Continue\r\n\r\n"), "timed out after 2 s"),       # endless interims
    (then((b"H", 0.3), None), "timed out after 2 s"),                         # trickled status
], ids=["trickled-headers", "trickled-body", "endless-100-continue", "trickled-status"])
def test_a_trickling_server_cannot_stretch_the_timeout(serve, script, words):
    exc, elapsed = failure(serve(script), timeout=2)
    assert elapsed < 2 + SLACK, elapsed
    assert exc.fields["phase"] == "read" and words in str(exc)


@pytest.mark.parametrize("head", [
    b"Content-Length: -1\r\n\r\n", b"Content-Length: 1000000000000\r\n\r\n",
    b"Transfer-Encoding: chunked\r\n\r\n-5\r\n", b"\r\n"],
    ids=["negative-length", "huge-length", "negative-chunk", "close-framed"])
def test_an_endless_body_is_cut_at_the_cap_within_the_timeout(serve, head):
    server = serve(then((HEAD_OK + head, 0), (b"y" * 65536, 0), None))
    tracemalloc.start()
    try:
        exc, elapsed = failure(server, timeout=3, limit=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 3 + SLACK and exc.fields["phase"] == "read"
    assert peak < 16 * 1024 * 1024, peak  # bounded by the cap, not by what was sent
    assert any(words in str(exc) for words in ("over 1048576 bytes", "IncompleteRead",
                                                "unreadable reply"))


def test_endless_headers_end_at_http_clients_limit(serve):
    exc, elapsed = failure(serve(then((HEAD_OK, 0), (b"X-Junk: y\r\n", 0), None)), timeout=3)
    assert elapsed < 3 + SLACK and "got more than 100 headers" in str(exc)


def test_a_tls_handshake_that_trickles_ends_by_the_timeout(serve):
    # A TLS record header promising 16 KiB of ServerHello, then a byte every 0.3 s.
    server = serve(then((b"\x16\x03\x03\x40\x00", 0.3), (b"\x02", 0.3), None),
                   read_request=False)
    started = time.monotonic()
    with pytest.raises(errors.TransportError) as raised:
        transport.Transport({}).request("GET", "https://127.0.0.1:{}/".format(
            server.host.split(":")[1]), {}, None, 2, "Test")
    assert time.monotonic() - started < 2 + SLACK
    assert raised.value.fields["phase"] == "connect" and "timed out" in str(raised.value)


def test_a_proxy_that_trickles_its_connect_reply_ends_by_the_timeout(serve):
    proxy = serve(then((b"HTTP/1.1 200 Connection established\r\n", 0), (b"X", 0.3), None))
    started = time.monotonic()
    with pytest.raises(errors.TransportError) as raised:
        transport.Transport({"https_proxy": proxy.url}).request(
            "GET", "https://events.example.invalid/", {}, None, 2, "Test")
    assert time.monotonic() - started < 2 + SLACK
    assert "through the proxy " + proxy.url in str(raised.value)
    assert proxy.requests[0].startswith("CONNECT events.example.invalid:443 ")
