"""The only module that speaks HTTP: urllib openers, proxies, TLS, error normalising.

It knows nothing about AWS.  Every reply with a status line comes back as a
`Response` (4xx and 5xx included, redirects not followed); every failure to
get one becomes a single `errors.TransportError` saying whether the request
could have reached the server ("connect") or was sent and unanswered ("read").

urllib raises URLError for failures while connecting or sending, and bare
socket/http.client exceptions while waiting for or reading the reply
(CPython Lib/urllib/request.py, AbstractHTTPHandler.do_open).
"""

import http.client
import socket
import ssl
import urllib.error
import urllib.request
from urllib.parse import urlsplit

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


def _build_opener(scheme, proxy, ca_bundle):
    # Built by hand, not with build_opener(): no redirect handler (a redirect
    # would carry our Authorization elsewhere) and no HTTPErrorProcessor, so
    # error statuses come back as replies to read, not exceptions.
    opener = urllib.request.OpenerDirector()
    opener.add_handler(urllib.request.ProxyHandler({scheme: proxy} if proxy else {}))
    opener.add_handler(urllib.request.HTTPHandler())
    if scheme == "https":  # loading the CA store costs time; plain http skips it
        context = ssl.create_default_context(cafile=ca_bundle)
        opener.add_handler(urllib.request.HTTPSHandler(context=context))
    return opener


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
    proxy = proxy_for(url, env) if use_proxy else None
    opener = _build_opener(urlsplit(url).scheme, proxy, ca_bundle)
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    fields = {"url": url, "timeout": timeout, "hint": hint, "retryable": True}
    try:
        with opener.open(request, timeout=timeout) as reply:
            return Response(reply.status, reply.reason,
                            {k.lower(): v for k, v in reply.getheaders()},
                            reply.read(MAX_REPLY_BYTES))
    except urllib.error.URLError as exc:
        reason = exc.reason if isinstance(exc.reason, OSError) else exc
        where = " through the proxy " + proxy if proxy else ""
        if is_certificate_failure(reason):
            fields["hint"], fields["retryable"] = CERTIFICATE_HINT, False
        raise _transport_error(label, "connect", "cannot connect{}: {}".format(
            where, _describe_oserror(reason, timeout)), fields)
    except (OSError, http.client.HTTPException) as exc:
        reason = "no reply: " + (_describe_oserror(exc, timeout) if isinstance(exc, OSError)
                                 else "connection closed ({})".format(exc.__class__.__name__))
        raise _transport_error(label, "read", reason, fields)


def _transport_error(label, phase, reason, fields):
    return errors.TransportError(label, phase, reason, fields["url"], fields["hint"],
                                 retryable=fields["retryable"])
