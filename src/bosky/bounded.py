"""urllib's HTTP and HTTPS handlers with a wall clock on every socket operation.

urllib and http.client take one timeout and apply it to each socket
operation, so a server that trickles a byte every half second, or an endless
stream of interim replies, can hold a request for ever.  Here a `Budget`
says how long the whole request may still take, and every connect, TLS
handshake (CPython bounds a whole handshake by the socket's timeout), send
and read gets only what is left.  The name lookup, which has no timeout of
its own, is asked in a thread and abandoned when time runs out.  Nothing
here parses HTTP: http.client does, through these sockets.
"""

import functools
import http.client
import io
import socket
import sys
import time
import urllib.request
from urllib.parse import urlsplit


class Budget(object):
    """How long a request may still take: `seconds` in all, `idle` for any one operation."""

    def __init__(self, seconds, idle=None, clock=time.monotonic):
        self.seconds = seconds
        self._idle = idle or seconds
        self._clock = clock
        self._end = clock() + seconds

    def left(self):
        return self._end - self._clock()

    def timeout(self):
        """The timeout for the next socket operation; socket.timeout once time is up."""
        left = self.left()
        if left <= 0:
            raise socket.timeout("timed out")
        return min(left, self._idle)


class _BoundedReader(io.RawIOBase):
    """A socket's reads, each given only the time the budget has left."""

    def __init__(self, sock, budget):
        super(_BoundedReader, self).__init__()
        self._sock, self._budget = sock, budget
        self._stream = sock.makefile("rb", buffering=0)  # holds the socket open until closed

    def readable(self):
        return True

    def readinto(self, buffer):
        self._sock.settimeout(self._budget.timeout())
        return self._stream.readinto(buffer)

    def close(self):
        if not self.closed:
            self._stream.close()
        super(_BoundedReader, self).close()


class _BoundedSocket(object):
    """What http.client sees as its socket: the real one, with every read and send bounded."""

    def __init__(self, sock, budget):
        self.plain, self._budget = sock, budget

    def makefile(self, mode="rb", *args, **kwargs):
        return io.BufferedReader(_BoundedReader(self.plain, self._budget))

    def sendall(self, data):
        # Since 3.5 a socket timeout bounds the whole sendall, not each chunk of it.
        self.plain.settimeout(self._budget.timeout())
        return self.plain.sendall(data)

    def __getattr__(self, name):
        return getattr(self.plain, name)


def _is_address(host):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except (OSError, ValueError):
            pass
    return False


def _as_ascii_bytes(host):
    """An ASCII name as bytes: given str, the resolver and ssl (3.7+) load the idna codec,
    with stringprep and unicodedata, to encode it (half a MiB of an emit's peak)."""
    try:
        return host.encode("ascii")
    except UnicodeEncodeError:
        return host


def _resolve(host, port, budget):
    """getaddrinfo, abandoned when the budget runs out (it has no timeout of its own)."""
    name = _as_ascii_bytes(host)
    if _is_address(host):
        return socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
    import threading  # only runs that look a name up pay for it
    answer = []

    def look_up():
        try:
            answer.append(socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM))
        except OSError as exc:
            answer.append(exc)

    thread = threading.Thread(target=look_up, name="bosky-resolve", daemon=True)
    thread.start()
    thread.join(budget.timeout())
    if not answer:
        raise socket.timeout("looking up {} timed out".format(host))
    if isinstance(answer[0], Exception):
        raise answer[0]
    return answer[0]


def _connect(budget, address, timeout=None, source_address=None):
    """socket.create_connection's loop over the addresses, with a bounded look-up."""
    host, port = address
    last = OSError("no address for {}".format(host))
    for family, kind, proto, _, where in _resolve(host, port, budget):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(budget.timeout())
            sock.connect(where)
            return _BoundedSocket(sock, budget)
        except OSError as exc:
            sock.close()
            last = exc
    raise last


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, budget=None, **kwargs):
        super(_HTTPConnection, self).__init__(host, **kwargs)
        self._create_connection = functools.partial(_connect, budget)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, budget=None, **kwargs):
        super(_HTTPSConnection, self).__init__(host, **kwargs)
        self._budget = budget
        self._create_connection = functools.partial(_connect, budget)

    def connect(self):
        # TCP and any proxy tunnel through the bounded socket, then TLS on the plain one:
        # CPython bounds a whole handshake by the socket's timeout.
        http.client.HTTPConnection.connect(self)
        plain = self.sock.plain
        plain.settimeout(self._budget.timeout())
        name = self._tunnel_host or self.host
        if sys.version_info >= (3, 7):  # 3.6's ssl matches the name in Python, as str
            name = _as_ascii_bytes(name)
        tls = self._context.wrap_socket(plain, server_hostname=name)
        self.sock = _BoundedSocket(tls, self._budget)


class HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_HTTPConnection, req, budget=req.budget)


class HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_HTTPSConnection, req, context=self._context, budget=req.budget)


class KeepErrorReplies(urllib.request.BaseHandler):
    """With redirects followed, urllib raises HTTPError for other statuses; keep them replies."""

    def http_error_default(self, req, fp, code, msg, headers):
        return fp


class SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to http(s), never from https down to http; keep the budget."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        scheme = urlsplit(newurl).scheme
        if scheme not in ("http", "https") or (req.type == "https" and scheme != "https"):
            return None
        new = super(SafeRedirects, self).redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.budget = req.budget
        return new
