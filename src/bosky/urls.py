"""URLs as bosky checks, shows and signs them: pure functions, no network code.

Every URL bosky is given (endpoint overrides, IMDS and container addresses,
proxies) is checked here once, so that a bad one is a clear usage error
rather than a failure deep in the HTTP library.  `host_header` is the one
place the Host value is made: the transport sends it and SigV4 signs it.
"""

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def split_url(url):
    """urlsplit(url) when it is an absolute http(s) URL bosky can send to, else None.

    It needs a host and a valid port, and no whitespace or control characters
    anywhere (a space in the path would split the request line).
    """
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 or ord(c) == 127
                                       for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number, or too big
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port == 0:
        return None
    return parts if _is_sendable_name(url, parts.hostname) else None


def _is_sendable_name(url, host):
    """False for a lone surrogate anywhere (undecodable bytes in the environment) and for a
    non-ASCII host the IDNA codec refuses (an empty label, one over 63 characters)."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in url):
        return False
    try:
        host.encode("ascii")
        return True
    except UnicodeEncodeError:
        pass
    try:
        host.encode("idna")  # only a non-ASCII name pays for the codec
        return True
    except UnicodeError:
        return False


def has_userinfo(url):
    """True when the URL carries user[:password]@ before its host.

    Any @ counts: with an unencoded / or # in a password, urlsplit would end
    the host early and miss it, and no endpoint bosky talks to has @ in its path.
    """
    return "@" in url.partition("://")[2]


def shown(url):
    """The URL for messages and logs: any password becomes ****, the rest is kept."""
    if not isinstance(url, str):
        return repr(url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    at = rest.rfind("@")
    if at < 0:
        return url
    userinfo, host = rest[:at], rest[at + 1:]
    user, colon, _ = userinfo.partition(":")
    return scheme + sep + user + (":****" if colon else "") + "@" + host


def host_header(url):
    """The Host value for `url`: lower case, IPv6 in brackets, the port unless the default.

    SigV4 signs this value and the transport sends it, so both use this function.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = "[{}]".format(host)
    if parts.port and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = "{}:{}".format(host, parts.port)
    return host
