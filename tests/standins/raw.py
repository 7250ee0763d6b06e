"""A loopback server that answers every request with bytes the test scripts.

For the framings and failures a well-behaved HTTP server never produces:
chunked bodies, replies that end early, garbage status lines, interim 1xx.
It records the raw request head and body it read.
"""

import socketserver

from .base import ServerThread


class _RawHandler(socketserver.BaseRequestHandler):
    def handle(self):
        stream = self.request.makefile("rb")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = stream.readline(65537)
            if not line:
                return
            head += line
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        self.server.standin.requests.append((head.decode("latin-1"), stream.read(length)))
        self.request.sendall(self.server.standin.reply)


class _RawServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class RawReplyServer(ServerThread):
    """Replies `reply` (bytes) to each request, then closes the connection."""

    def __init__(self, reply):
        self.reply = reply
        self.requests = []
        server = _RawServer(("127.0.0.1", 0), _RawHandler)
        server.standin = self
        super().__init__(server)
