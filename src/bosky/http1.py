"""HTTP/1.1 on the wire: one request per connection, written and read by bosky itself.

Why not http.client: importing it loads the email package (to parse header
blocks) and ssl, which together were a fifth of a plain emit's start-up;
bosky needs one request, a status, a few headers and a bounded body.  The
reply is read the way RFC 9112 frames it: interim 1xx replies skipped, then a
chunked body, a Content-Length body, or everything until the server closes.
Anything else is a `BadReply`.  Timeouts are the socket's, per operation, as
in http.client.  `transport` decides where to connect and what failures mean.
"""

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_LINE = 65536  # http.client's limits for a status or header line and header count
MAX_HEADERS = 100
NO_BODY_STATUSES = (204, 304)


class BadReply(Exception):
    """The bytes that came back are not (all of) an HTTP reply.

    `kind` names what went wrong, for the error message: http.client's names
    (RemoteDisconnected, BadStatusLine, IncompleteRead, LineTooLong) where it
    has one, else TooManyHeaders, InvalidContentLength or BadChunkSize.
    """

    def __init__(self, kind, detail=""):
        super(BadReply, self).__init__("{}: {}".format(kind, detail) if detail else kind)
        self.kind = kind


class BadHeader(ValueError):
    """A header (or the target) HTTP/1.1 cannot carry: a line break would split the
    request, and a character outside latin-1 has no bytes on the wire."""

    def __init__(self, name):
        super(BadHeader, self).__init__(
            "{} holds a line break or a character HTTP headers cannot carry".format(name))
        self.name = name


def _unsendable(text):
    text = str(text)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return True
    return "\r" in text or "\n" in text


def connect(host, port, timeout):
    """A connected TCP socket; OSError (including socket.timeout) when there is none."""
    import socket  # here, so that URL checks (config, endpoints) import no network code
    return socket.create_connection((_resolver_host(host), port), timeout)


def _resolver_host(host):
    """An ASCII host name as bytes: given str, the resolver loads the idna codec first."""
    try:
        return host.encode("ascii")
    except UnicodeEncodeError:
        return host


def split_url(url):
    """urlsplit(url) when it is an absolute http(s) URL with a host and a valid port, else None."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number, or too big
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port == 0:
        return None
    return parts


def host_header(url):
    """The Host value for `url`: lower case, IPv6 in brackets, the port unless the default.

    SigV4 signs this value too, so both use this one function.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = "[{}]".format(host)
    if parts.port and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = "{}:{}".format(host, parts.port)
    return host


def write_request(sock, method, target, headers, body=None):
    """Send the request line, `headers` (name, value pairs) and the body in one write."""
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = b""  # a request that carries a body says how long it is, even when empty
    lines = ["{} {} HTTP/1.1".format(method, target)]
    lines += ["{}: {}".format(name, value) for name, value in headers]
    broken = [name for name, value in headers if _unsendable(name) or _unsendable(value)]
    if broken or _unsendable(target):  # a line break would end the head early, or forge one
        raise BadHeader(broken[0] if broken else "the request target")
    if body is not None:
        lines.append("Content-Length: {}".format(len(body)))
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    sock.sendall(head + (body or b""))


def read_reply(stream, limit, method="GET"):
    """(status, reason, {lower-case name: value}, body of at most `limit` bytes)."""
    while True:
        status, reason, headers = read_status_and_headers(stream)
        if not 100 <= status < 200:
            break  # a 1xx is an interim reply; the real one follows it
    if method == "HEAD" or status in NO_BODY_STATUSES:
        return status, reason, headers, b""
    return status, reason, headers, _read_body(stream, headers, limit)


def read_status_and_headers(stream):
    """(status, reason, headers): a reply up to its body (all a proxy's CONNECT needs)."""
    status, reason = _read_status_line(stream)
    return status, reason, _read_headers(stream)


def _read_line(stream):
    line = stream.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise BadReply("LineTooLong", "a reply line over {} bytes".format(MAX_LINE))
    return line


def _read_status_line(stream):
    line = _read_line(stream)
    if not line:
        raise BadReply("RemoteDisconnected", "closed without a reply")
    words = line.decode("latin-1").rstrip("\r\n").split(None, 2)
    if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit() \
            or len(words[1]) != 3:
        raise BadReply("BadStatusLine", repr(line[:80]))
    return int(words[1]), words[2] if len(words) > 2 else ""


def _read_headers(stream):
    """The header block up to its blank line; a repeated name keeps its last value."""
    headers, last = {}, None
    for _ in range(MAX_HEADERS + 1):
        line = _read_line(stream).decode("latin-1")
        if line in ("\r\n", "\n", ""):
            return headers
        if line[0] in " \t" and last is not None:  # an obsolete folded continuation
            headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if colon:
            last = name.strip().lower()
            headers[last] = value.strip()
    raise BadReply("TooManyHeaders", "more than {}".format(MAX_HEADERS))


def _read_body(stream, headers, limit):
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _read_chunked(stream, limit)
    length = headers.get("content-length")
    if length is not None:
        try:
            wanted = int(length)
        except ValueError:
            raise BadReply("InvalidContentLength", repr(length[:40]))
        return _read_exactly(stream, min(wanted, limit))
    return stream.read(limit)  # framed by the server closing the connection


def _read_exactly(stream, size):
    data = stream.read(size)
    if len(data) < size:
        raise BadReply("IncompleteRead", "{} of {} bytes".format(len(data), size))
    return data


def _read_chunked(stream, limit):
    parts, total = [], 0
    while total < limit:
        size_text = _read_line(stream).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadReply("BadChunkSize", "{!r}".format(size_text[:20]))
        if size == 0:
            _read_headers(stream)  # the trailer section, if any, ends the body
            break
        parts.append(_read_exactly(stream, min(size, limit - total)))
        total += len(parts[-1])
        if total < limit:
            _read_line(stream)  # the CRLF after each chunk
    return b"".join(parts)
