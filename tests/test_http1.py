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


def test_a_content_length_reply(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Amzn-RequestId: r-1\r\n\r\nhello")
    reply = send(server)
    assert (reply.status, reply.reason, reply.body) == (200, "OK", b"hello")
    assert reply.headers["x-amzn-requestid"] == "r-1"  # names come back in lower case


def test_a_chunked_reply_with_extensions_and_a_trailer(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"5;note=x\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n")
    assert send(server).body == b"hello, world"


def test_a_reply_framed_by_the_close(serve):
    server = serve(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
    assert send(server).body == b"until the end"


def test_an_interim_100_continue_is_skipped(serve):
    server = serve(b"HTTP/1.1 100 Continue\r\n\r\n"
                   b"HTTP/1.1 503 Slow Down\r\nContent-Length: 2\r\n\r\n{}")
    reply = send(server)
    assert (reply.status, reply.reason, reply.body) == (503, "Slow Down", b"{}")


def test_no_body_for_204_even_if_the_server_sends_bytes_after(serve):
    server = serve(b"HTTP/1.1 204 No Content\r\n\r\nstray")
    assert send(server).body == b""


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
    (b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", "more than 100 headers"),
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


def test_a_header_with_a_line_break_is_never_sent(serve):
    server = serve(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(errors.TransportError) as raised:
        send(server, headers={"X-aws-ec2-metadata-token": "token\r\nX-Forged: 1"})
    assert "cannot send: X-aws-ec2-metadata-token holds a line break" in str(raised.value)
    assert raised.value.fields["retryable"] is False
    assert server.requests == []
