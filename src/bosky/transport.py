"""The only module that decides how a request travels: proxies, TLS, error normalising.

It knows nothing about AWS.  The bytes on the wire are `http1`'s (not
http.client's, whose import cost a plain emit a fifth of its start-up); ssl is
imported only for an https URL.  Every reply with a status line comes back as a
`Response`, 4xx and 5xx included; every failure to get one becomes a single
`errors.TransportError` saying whether the request could have reached the
server ("connect": connecting, TLS, the proxy tunnel, sending) or was sent and
unanswered ("read").  Redirects are never followed.
"""

import os
import socket
import sys
from urllib.parse import unquote, urlsplit

from bosky import errors, http1

MAX_REPLY_BYTES = 1024 * 1024


class Response(object):
    __slots__ = ("status", "reason", "headers", "body")

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case names
        self.body = body


def proxy_for(url, env):
    """The proxy URL for `url` from the env mapping, or None.

    Lower-case variables win over upper-case ones (as urllib and the AWS CLI
    docs have it); NO_PROXY holds host suffixes, host:port, or `*`.
    """
    parts = urlsplit(url)
    scheme_var = "{}_proxy".format(parts.scheme)
    proxy = env.get(scheme_var) or env.get(scheme_var.upper())
    if not proxy:
        return None
    no_proxy = env.get("no_proxy", env.get("NO_PROXY", ""))
    host = (parts.hostname or "").lower()
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return None
        name, _, port = entry.partition(":")
        if port and str(parts.port or "") != port:
            continue
        name = name.lstrip(".")
        if host == name or host.endswith("." + name):
            return None
    return proxy


def shown_proxy(proxy):
    """The proxy URL for messages: a password in it becomes ****, the rest is kept."""
    scheme, sep, rest = proxy.rpartition("://")
    netloc, slash, path = rest.partition("/")
    if "@" not in netloc:
        return proxy
    userinfo, _, host = netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    return scheme + sep + user + (":****" if colon else "") + "@" + host + slash + path


def _proxy_authorization(proxy_parts):
    """Basic credentials from a proxy URL's user:password, as botocore allows."""
    if proxy_parts.username is None:
        return None
    import base64
    pair = "{}:{}".format(unquote(proxy_parts.username), unquote(proxy_parts.password or ""))
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _proxy_parts(proxy, scheme):
    """The proxy URL split, or ValidationError: a bad one is a setting to fix, not a bug."""
    parts = http1.split_url(proxy if "://" in proxy else "http://" + proxy)
    if parts is None:
        raise errors.ValidationError(
            reason="the proxy {!r} from {}_PROXY (or {}_proxy) is not a proxy URL: expected "
                   "http://[user:password@]host:port".format(shown_proxy(proxy), scheme.upper(),
                                                             scheme))
    return parts


class TunnelRefused(OSError):
    """The proxy answered CONNECT with something other than 200."""


def _open(parts, proxy, timeout, trust):
    """(socket, request target, extra headers): connected, tunnelled, TLS-wrapped as needed.

    HTTPS through a proxy is a CONNECT tunnel; plain HTTP through a proxy sends
    the absolute URL to the proxy.
    """
    https = parts.scheme == "https"
    port = parts.port or http1.DEFAULT_PORTS["https" if https else "http"]
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    extra = []
    if proxy is None:
        sock = http1.connect(parts.hostname, port, timeout)
    else:
        proxied = _proxy_parts(proxy, parts.scheme)
        auth = _proxy_authorization(proxied)
        sock = http1.connect(proxied.hostname, proxied.port or 80, timeout)
        if not https:
            target = "{}://{}{}".format(parts.scheme, parts.netloc, target)
            extra = [("Proxy-Authorization", auth)] if auth else []
    try:
        if proxy is not None and https:
            _tunnel(sock, parts.hostname, port, auth)
        if https:
            sock = _tls_context(trust).wrap_socket(sock, server_hostname=parts.hostname)
    except BaseException:
        sock.close()
        raise
    return sock, target, extra


def _tunnel(sock, host, port, auth):
    """Ask the proxy for a tunnel to host:port (CONNECT); TunnelRefused unless it says 200."""
    authority = "{}:{}".format("[{}]".format(host) if ":" in host else host, port)
    headers = [("Host", authority)] + ([("Proxy-Authorization", auth)] if auth else [])
    http1.write_request(sock, "CONNECT", authority, headers)
    # Nothing follows the proxy's reply until TLS starts, so this reader cannot
    # swallow bytes meant for the TLS layer.
    with sock.makefile("rb") as stream:
        status, reason, _ = http1.read_status_and_headers(stream)
    if status != 200:
        raise TunnelRefused("the proxy refused the tunnel: {} {}".format(status, reason))


_CONTEXTS = {}  # one per trust for the process: retries and later events reuse it


def _tls_context(trust):
    """A verifying client context.  `trust` holds create_default_context's cafile or
    capath; empty, it is OpenSSL's default (its CA file and its CA directory)."""
    key = tuple(sorted(trust.items()))
    if key not in _CONTEXTS:  # building one can mean parsing every system CA: 50-70 ms
        import ssl  # only https needs it, and it is a tenth of an emit's start-up
        _CONTEXTS[key] = ssl.create_default_context(**trust)
    return _CONTEXTS[key]


# Loading the system's CA file costs OpenSSL 3 some 50-70 ms (it parses every
# certificate in it), more than the rest of an emit.  A hashed CA directory
# (Debian and Ubuntu keep one) is read lazily, one certificate per lookup.  It
# is at most part of what the default trusts (that is the file and the
# directory), so it is tried first, and a server it cannot verify gets one more
# try with the default: a CA added to the file alone is still trusted.
_DIRECTORY_FAILED = set()


def trust_for(ca_bundle, env):
    """The trust to try first: {"cafile": the configured bundle}, else {"capath": a hashed
    CA directory}, else {} (the default)."""
    if ca_bundle:
        return {"cafile": ca_bundle}
    import ssl
    paths = ssl.get_default_verify_paths()
    directory = env.get(paths.openssl_capath_env) or paths.openssl_capath
    if directory in _DIRECTORY_FAILED or not _is_hashed_directory(directory):
        return {}
    return {"capath": directory}


def _is_hashed_directory(path):
    """True when `path` holds OpenSSL subject-hash names (c_rehash's 1a2b3c4d.0)."""
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return any(len(n) >= 10 and n[8] == "." and n[9:].isdigit() and
               all(c in "0123456789abcdef" for c in n[:8]) for n in names)


def _open_verified(parts, proxy, timeout, ca_bundle, env, log):
    """`_open`, trusting a hashed CA directory first when there is no configured bundle."""
    trust = trust_for(ca_bundle, env) if parts.scheme == "https" else {}
    directory = trust.get("capath")
    if directory is None:
        return _open(parts, proxy, timeout, trust)
    log("TLS: verifying {} with the CAs in {}, read as needed".format(parts.hostname, directory))
    try:
        return _open(parts, proxy, timeout, trust)
    except (OSError,) + _ssl_errors() as exc:
        if not is_certificate_failure(exc):
            raise
        _DIRECTORY_FAILED.add(directory)  # the rest of this run loads the default at once
        log("TLS: no CA in {} verifies {}; trying the default trust store".format(
            directory, parts.hostname))
        return _open(parts, proxy, timeout, {})


CERTIFICATE_HINT = ("if your network inspects TLS, set AWS_CA_BUNDLE (or the profile's "
                    "ca_bundle) to its CA certificate in PEM form")


def _ssl_errors():
    """ssl's exception classes, or () when ssl was never imported (no https, no TLS error)."""
    ssl = sys.modules.get("ssl")
    return (ssl.SSLError, ssl.CertificateError) if ssl else ()


def is_certificate_failure(exc):
    """A TLS verification failure: retrying cannot fix it, trusting the right CA can."""
    ssl = sys.modules.get("ssl")
    return ssl is not None and (isinstance(exc, ssl.CertificateError) or (
        isinstance(exc, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(exc)))


def _describe_oserror(exc, timeout):
    if isinstance(exc, socket.timeout):
        return "timed out after {:.3g} s".format(timeout)
    if is_certificate_failure(exc):
        return "TLS certificate verification failed ({})".format(
            getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the host name"
    if isinstance(exc, TunnelRefused):
        return str(exc)
    if isinstance(exc, _ssl_errors()):
        return "TLS failed: {}".format(getattr(exc, "reason", None) or exc)
    return "{} ({})".format(exc.__class__.__name__, exc.strerror or exc) \
        if isinstance(exc, OSError) else str(exc)


def _describe_bad_reply(exc):
    if exc.kind in ("RemoteDisconnected", "IncompleteRead"):
        return "no reply: connection closed ({})".format(exc.kind)
    return "unreadable reply ({})".format(exc)


def request_headers(url, headers, extra):
    """The header lines to send: the caller's (a signed request's carry Host), then ours."""
    pairs = list(headers.items())
    if not any(name.lower() == "host" for name, _ in pairs):
        pairs.insert(0, ("Host", http1.host_header(url)))
    # identity: bosky cannot decode a compressed reply; close: one request per connection.
    return pairs + extra + [("Accept-Encoding", "identity"), ("Connection", "close")]


def send(method, url, headers, body, timeout, label, env, use_proxy=True,
         ca_bundle=None, hint="", log=lambda text: None):
    """Send one request and return its `Response`; raise TransportError if there is none."""
    proxy = proxy_for(url, env) if use_proxy else None
    fields = {"url": url, "timeout": timeout, "hint": hint, "retryable": True}
    where = " through the proxy " + shown_proxy(proxy) if proxy else ""
    sock = None
    try:
        try:  # connect, proxy tunnel, TLS handshake, send: the server may not have it
            sock, target, extra = _open_verified(urlsplit(url), proxy, timeout, ca_bundle,
                                                 env, log)
            http1.write_request(sock, method, target, request_headers(url, headers, extra),
                                body)
        except http1.BadHeader as exc:  # never sent: the value came from a file or a reply
            fields["hint"], fields["retryable"] = "check where that value comes from", False
            raise _transport_error(label, "connect", "cannot send: {}".format(exc), fields)
        except (OSError,) + _ssl_errors() as exc:
            if is_certificate_failure(exc):
                fields["hint"], fields["retryable"] = CERTIFICATE_HINT, False
            raise _transport_error(label, "connect", "cannot connect{}: {}".format(
                where, _describe_oserror(exc, timeout)), fields)
        try:  # sent: the server may have acted on it even if no reply comes back
            with sock.makefile("rb") as stream:
                return Response(*http1.read_reply(stream, MAX_REPLY_BYTES, method))
        except OSError as exc:
            raise _transport_error(label, "read", "no reply: " + _describe_oserror(
                exc, timeout), fields)
        except http1.BadReply as exc:
            raise _transport_error(label, "read", _describe_bad_reply(exc), fields)
    finally:
        if sock is not None:
            sock.close()


def _transport_error(label, phase, reason, fields):
    return errors.TransportError(label, phase, reason, fields["url"], fields["hint"],
                                 retryable=fields["retryable"])
