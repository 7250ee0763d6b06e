"""An HTTP proxy that tunnels CONNECT requests, recording what it was asked."""

import select
import socket
import socketserver

from .base import ServerThread


class _TunnelHandler(socketserver.StreamRequestHandler):
    def handle(self):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target = lines[0].split(" ")[:2]
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        self.server.proxy.requests.append((method, target, headers))
        if method != "CONNECT" or (self.server.proxy.auth and
                                   headers.get("Proxy-Authorization") != self.server.proxy.auth):
            self.request.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            return
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), timeout=10)
        self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self._relay(self.request, upstream)

    @staticmethod
    def _relay(client, upstream):
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 10)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        finally:
            upstream.close()


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ConnectProxy(ServerThread):
    """`auth`: the Proxy-Authorization value it requires (None: none)."""

    def __init__(self, auth=None):
        self.auth, self.requests = auth, []
        server = _Server(("127.0.0.1", 0), _TunnelHandler)
        server.proxy = self
        super().__init__(server)
