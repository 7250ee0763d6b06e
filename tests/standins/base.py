"""The stand-ins' shared parts: a threaded loopback HTTP server that records requests.

Each stand-in subclasses `StandIn` and answers in `respond(request)` with
(status, headers, body), or a fault: "hang", "reset" or "cut".
"""

import hashlib
import hmac
import http.server
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

TEST_KEY_ID = "AKIDSTANDIN0EXAMPLE"
TEST_SECRET = "standin/secret+key/EXAMPLEKEY0000000000"
ROLE_NAME = "bosky-test-role"
HANG_SECONDS = 8.0
CONTENT_TYPE = "application/x-amz-json-1.1"


class Authorization(object):
    """A SigV4 Authorization header, as the stand-ins' own verifiers read it."""

    def __init__(self, header):
        """ValueError (or KeyError) for a header that is not AWS4 algorithm Credential=...,
        SignedHeaders=..., Signature=..."""
        self.algorithm, rest = header.split(" ", 1)
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        self.key_id, self.date, self.region, self.service, self.terminator = \
            fields["Credential"].split("/")
        self.signed, self.claimed = fields["SignedHeaders"].split(";"), fields["Signature"]

    def signs(self, secret, to_sign):
        """True when `to_sign`, signed with `secret` for this scope, is the claimed signature."""
        key = ("AWS4" + secret).encode("utf-8")
        for part in (self.date, self.region, self.service, "aws4_request"):
            key = _hmac(key, part).digest()
        return hmac.compare_digest(_hmac(key, to_sign).hexdigest(), self.claimed)


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256)


class Recorded(object):
    __slots__ = ("method", "path", "headers", "body")

    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def header(self, name):
        return self.headers.get(name.lower())


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that gave up at its deadline hangs up mid-reply: expected, not news.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Recorded(self.command, self.path, headers, body)
        self.server.standin.requests.append(request)
        status, reply_headers, reply = self.server.standin.respond(request)
        if status == "hang":
            time.sleep(HANG_SECONDS)
            return
        if status == "cut":  # headers and half a body, then the reset: a reply cut short
            self.send_response(200)
            self.send_header("Content-Length", "200")
            self.end_headers()
            self.wfile.write(b'{"FailedEntryCount": 0, "Entr')
            self.wfile.flush()
            status = "reset"
        if isinstance(status, tuple) and status[0] == "cut-body":  # (_, status): part of
            self.send_response(status[1])                         # the body, then the end
            for name, value in reply_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)  # a clean close, short of the length
            self.close_connection = True
            return
        if status == "reset":  # close with RST: the client sees a reset, not a reply
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in reply_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


class ServerThread(object):
    """A socketserver on 127.0.0.1:0, served from a daemon thread: start, stop, URL."""

    scheme = "http"

    def __init__(self, server):
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)

    @property
    def host(self):
        return "127.0.0.1:{}".format(self._server.server_address[1])

    @property
    def url(self):
        return "{}://{}".format(self.scheme, self.host)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


class StandIn(ServerThread):
    """Base: an HTTP stand-in that records requests; `tls` = (certfile, keyfile) serves HTTPS."""

    def __init__(self, tls=None):
        self.requests = []
        server = _Server(("127.0.0.1", 0), _Handler)
        server.standin = self
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            self.scheme = "https"
        super().__init__(server)

    def respond(self, request):
        raise NotImplementedError


def query_error(status, code, message, namespace):
    """A Query-protocol (STS, Auto Scaling) XML error reply."""
    body = ('<ErrorResponse xmlns="{}"><Error><Type>Sender</Type><Code>{}</Code>'
            "<Message>{}</Message></Error><RequestId>req-{}</RequestId></ErrorResponse>"
            ).format(namespace, code, message, code)
    return status, {"Content-Type": "text/xml"}, body.encode("utf-8")
