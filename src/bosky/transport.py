"""The only module that speaks HTTP: connections, proxies, TLS, error normalising.

It knows nothing about AWS.  It uses http.client directly (urllib.request
would add ~30 % to bosky's start-up and its handlers do nothing bosky needs:
proxies are chosen here, redirects are never followed).  Every reply with a
status line comes back as a `Response`, 4xx and 5xx included; every failure to
get one becomes a single `errors.TransportError` saying whether the request
could have reached the server ("connect": connecting, TLS, the proxy tunnel,
sending) or was sent and unanswered ("read").
"""

import http.client
import socket
import ssl
from urllib.parse import unquote, urlsplit

from bosky import errors

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


def _proxy_authorization(proxy_parts):
    """Basic credentials from a proxy URL's user:password, as botocore allows."""
    if proxy_parts.username is None:
        return None
    import base64
    pair = "{}:{}".format(unquote(proxy_parts.username), unquote(proxy_parts.password or ""))
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _connection(parts, proxy, timeout, ca_bundle):
    """(connection, request target, extra headers) for a URL, directly or via `proxy`.

    HTTPS through a proxy is a CONNECT tunnel; plain HTTP through a proxy sends
    the absolute URL to the proxy.
    """
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    context = ssl.create_default_context(cafile=ca_bundle) if parts.scheme == "https" else None
    if proxy is None:
        if context is not None:
            return http.client.HTTPSConnection(parts.hostname, port, timeout=timeout,
                                               context=context), target, {}
        return http.client.HTTPConnection(parts.hostname, port, timeout=timeout), target, {}
    proxied = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    auth = _proxy_authorization(proxied)
    auth_header = {"Proxy-Authorization": auth} if auth else {}
    proxy_port = proxied.port or 80
    if context is not None:
        conn = http.client.HTTPSConnection(proxied.hostname, proxy_port, timeout=timeout,
                                           context=context)
        conn.set_tunnel(parts.hostname, port, headers=auth_header)
        return conn, target, {}
    conn = http.client.HTTPConnection(proxied.hostname, proxy_port, timeout=timeout)
    return conn, "{}://{}{}".format(parts.scheme, parts.netloc, target), auth_header


CERTIFICATE_HINT = ("if your network inspects TLS, set AWS_CA_BUNDLE (or the profile's "
                    "ca_bundle) to its CA certificate in PEM form")


def is_certificate_failure(exc):
    """A TLS verification failure: retrying cannot fix it, trusting the right CA can."""
    return isinstance(exc, ssl.CertificateError) or (
        isinstance(exc, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(exc))


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
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        return "TLS failed: {}".format(getattr(exc, "reason", None) or exc)
    return "{} ({})".format(exc.__class__.__name__, exc.strerror or exc) \
        if isinstance(exc, OSError) else str(exc)


def send(method, url, headers, body, timeout, label, env, use_proxy=True,
         ca_bundle=None, hint=""):
    """Send one request and return its `Response`; raise TransportError if there is none."""
    parts = urlsplit(url)
    proxy = proxy_for(url, env) if use_proxy else None
    fields = {"url": url, "timeout": timeout, "hint": hint, "retryable": True}
    where = " through the proxy " + proxy if proxy else ""
    conn, target, extra = _connection(parts, proxy, timeout, ca_bundle)
    try:
        try:  # connect, TLS handshake, proxy tunnel, send: the server may not have it
            conn.request(method, target, body=body, headers=dict(headers, **extra))
        except OSError as exc:
            if is_certificate_failure(exc):
                fields["hint"], fields["retryable"] = CERTIFICATE_HINT, False
            raise _transport_error(label, "connect", "cannot connect{}: {}".format(
                where, _describe_oserror(exc, timeout)), fields)
        try:  # sent: the server may have acted on it even if no reply comes back
            reply = conn.getresponse()
            return Response(reply.status, reply.reason,
                            {k.lower(): v for k, v in reply.getheaders()},
                            reply.read(MAX_REPLY_BYTES))
        except (OSError, http.client.HTTPException) as exc:
            reason = "no reply: " + (_describe_oserror(exc, timeout) if isinstance(exc, OSError)
                                     else "connection closed ({})".format(
                                         exc.__class__.__name__))
            raise _transport_error(label, "read", reason, fields)
    finally:
        conn.close()


def _transport_error(label, phase, reason, fields):
    return errors.TransportError(label, phase, reason, fields["url"], fields["hint"],
                                 retryable=fields["retryable"])
