"""A loopback server that lies: it reads a request, then plays a script of bytes and pauses.

For what no polite server sends: replies that trickle a byte at a time, endless
interim replies, negative or huge lengths, garbage status lines, endless
headers or bodies, a TLS handshake that never completes.  Each connection
runs `script(send)`, where `send(data, pause=0)` writes and then sleeps; the
script ends when the client hangs up (the send fails).  `requests` records
each request head it read.
"""

import socket
import socketserver
import time

from .base import ServerThread


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        standin = self.server.standin
        if standin.read_request:
            head = b""
            self.request.settimeout(10)
            while b"\r\n\r\n" not in head:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                head += chunk
            standin.requests.append(head.split(b"\r\n\r\n", 1)[0].decode("latin-1"))

        def send(data, pause=0.0):
            self.request.sendall(data)
            if pause:
                time.sleep(pause)
        try:
            standin.script(send)
        except (OSError, socket.timeout):
            pass  # the client gave up, as it should


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class HostileServer(ServerThread):
    """`script(send)` plays each connection; `read_request=False` for a TLS client's hello."""

    def __init__(self, script, read_request=True):
        self.script, self.read_request, self.requests = script, read_request, []
        server = _Server(("127.0.0.1", 0), _Handler)
        server.standin = self
        super().__init__(server)


def forever(data, pause=0.0):
    """A script sending `data` again and again (each followed by `pause`)."""
    def script(send):
        while True:
            send(data, pause)
    return script


def then(*steps):
    """A script of (data, pause) steps, in order; a last step of None repeats the one before."""
    def script(send):
        for index, step in enumerate(steps):
            if step is None:
                while True:
                    send(*steps[index - 1])
            send(*step)
    return script
