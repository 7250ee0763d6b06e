"""bosky's own HTTP/1.1 (http1.py) through transport.send, against scripted loopback replies.

Each test's server answers with exact bytes, so the framings and failures a
polite server never produces are covered: chunked bodies, bodies framed by
the close, interim 1xx replies, replies cut short, garbage, oversize bodies.
"""

import pytest

from bosky import errors, transport
from standins import RawReplyServer


@pytest.fixture
def serve():
    started = []

    def start(reply):
        server = RawReplyServer(reply).start()
        started.append(server)
        return server
    yield start
    for server in started:
        server.stop()


def send(server, method="POST", headers=None, body=b"{}", path="/"):
    return transport.send(method, server.url + path, headers or {}, body, 5, "Test",
                          env={})


@pytest.mark.parametrize("reply,status,reason,body", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "OK", b"hello"),
    # chunked, with a chunk extension and a trailer
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5;note=x\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n", 200, "OK",
     b"hello, world"),
    # no length: the body ends where the server closes the connection
    (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", 200, "OK",
     b"until the end"),
    # an interim 100 Continue is skipped for the reply that follows it
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Slow Down\r\nContent-Length: 2\r\n\r\n{}",
     503, "Slow Down", b"{}"),
    # a 204 has no body, even when the server sends bytes after it
    (b"HTTP/1.1 204 No Content\r\n\r\nstray", 204, "No Content", b""),
], ids=["content-length", "chunked", "close-framed", "interim-100", "204"])
def test_each_framing_gives_the_body(serve, reply, status, reason, body):
    answer = send(serve(reply))
    assert (answer.status, answer.reason, answer.body) == (status, reason, body)


def test_header_names_come_back_in_lower_case(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Amzn-RequestId: r-1\r\n\r\n")
    assert send(server).headers["x-amzn-requestid"] == "r-1"


def test_a_folded_header_joins_and_a_repeated_one_keeps_its_last_value(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\nX-Twice: a\r\nX-Twice: b\r\n"
                   b"Content-Length: 0\r\n\r\n")
    headers = send(server).headers
    assert (headers["x-long"], headers["x-twice"]) == ("one two", "b")


def test_the_body_is_capped(serve, monkeypatch):
    monkeypatch.setattr(transport, "MAX_REPLY_BYTES", 8)
    assert send(serve(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + b"x" * 20)).body \
        == b"x" * 8
    chunked = serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n")
    assert send(chunked).body == b"abcdefgh"


@pytest.mark.parametrize("reply,words", [
    (b"", "connection closed (RemoteDisconnected)"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "connection closed (IncompleteRead)"),
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "unreadable reply (BadStatusLine"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", "InvalidContentLength"),
    (b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", "TooManyHeaders: more than 100"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "BadChunkSize"),
])
def test_a_broken_reply_is_a_read_error_that_says_what_broke(serve, reply, words):
    with pytest.raises(errors.TransportError) as raised:
        send(serve(reply))
    assert raised.value.fields["phase"] == "read" and raised.value.fields["retryable"]
    assert words in str(raised.value)


def test_the_request_carries_host_length_and_close(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    send(server, method="PUT", body=None, path="/latest/api/token?x=1",
         headers={"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    head, body = server.requests[0]
    lines = head.split("\r\n")
    assert lines[0] == "PUT /latest/api/token?x=1 HTTP/1.1"
    assert "Host: " + server.host in lines  # the port is not the default, so it is kept
    assert "Content-Length: 0" in lines  # a PUT says how long its (empty) body is
    assert "Connection: close" in lines and body == b""


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
