"""The one user of urllib.request: how a request travels, and how long it may take.

It knows nothing about AWS.  Per request it picks an opener: direct (IMDS and
container credentials never go through a proxy) or through the environment's
proxy (NO_PROXY honoured; HTTPS tunnels with CONNECT and the proxy URL's
Basic credentials, as urllib does it).  Redirects are never followed, except
where a caller asks for it on an unsigned download: a signature made for one
host is wrong for another.  Every reply with a status line is a reply, 4xx
and 5xx included; every failure to get one is one `errors.TransportError`
saying whether the request can have reached the server ("connect") or was
sent and unanswered ("read"), and whether trying again may help.

What the standard library does not give, bosky adds around it:
- a wall clock: `timeout` bounds the whole request (connect, TLS, the proxy
  tunnel, sending, headers, body), not each socket operation; every read and
  send gets only the time that is left, so a server that trickles a byte at a
  time cannot stretch it, and a name lookup is abandoned when time runs out;
- a cap on what a reply may make bosky read into memory;
- the CAs of a hashed certificate directory first (see `trust_for`).
"""

import http.client
import socket
import ssl
import sys
from urllib.parse import urlsplit


def _import_urllib_request():
    """urllib.request, without the bz2 and lzma modules its import of tempfile (through
    shutil) would load: their libraries are 0.4 MiB of an emit's peak memory, and no
    request needs them.  Nothing stays blocked: a later `import bz2` works."""
    blocked = [name for name in ("bz2", "lzma") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None
    try:
        import urllib.request
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return urllib.request


urllib_request = _import_urllib_request()
from urllib.error import HTTPError, URLError  # noqa: E402

from bosky import __version__, bounded, errors, urls  # noqa: E402
from bosky.proxies import proxy_for  # noqa: E402
from bosky.trust import CERTIFICATE_HINT, is_certificate_failure, trust_for  # noqa: E402

MAX_REPLY_BYTES = 1024 * 1024
USER_AGENT = "bosky/{}".format(__version__)


class Response(object):
    """A whole reply: status, reason, headers (lower-case names), body."""

    __slots__ = ("status", "reason", "headers", "body")

    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body


# -- sending ----------------------------------------------------------------------------

class Transport(object):
    """Sends one process's requests; its openers and TLS contexts are built once, since a
    context with the system's CAs costs 50-70 ms to build."""

    def __init__(self, env, ca_bundle=None, log=lambda text: None):
        self._env, self._ca_bundle, self._log = env, ca_bundle, log
        self._contexts, self._openers, self._failed_directories = {}, {}, set()

    def request(self, method, url, headers, body, timeout, label, direct=False, hint="",
                limit=MAX_REPLY_BYTES, follow_redirects=False):
        """One request and its whole reply (a body over `limit` bytes is a read error)."""
        with self.open(method, url, headers, body, timeout, label, direct, hint,
                       follow_redirects) as reply:
            return Response(reply.status, reply.reason, reply.headers, reply.read_all(limit))

    def open(self, method, url, headers, body, timeout, label, direct=False, hint="",
             follow_redirects=False, idle=None):
        """Send the request and return the open `Reply`; the body is the caller's to read.

        `timeout` bounds everything up to the last byte of the reply; `idle`, if
        given, bounds each socket operation (a long download's reads).
        """
        failure = _Failure(label, url, hint)
        check_headers(headers, failure)
        proxy = None if direct else proxy_for(url, self._env)
        failure.proxy = proxy
        budget = bounded.Budget(timeout, idle)
        https = urlsplit(url).scheme == "https"
        trust = trust_for(self._ca_bundle, self._env, self._failed_directories) if https else {}
        if "capath" in trust:
            self._log("TLS: verifying {} with the CAs in {}, read as needed".format(
                urlsplit(url).hostname, trust["capath"]))
        try:
            return self._open(method, url, headers, body, budget, proxy, trust,
                              follow_redirects, failure)
        except errors.TransportError as exc:
            if "capath" not in trust or not exc.fields.get("certificate"):
                raise
        self._failed_directories.add(trust["capath"])  # the rest of the run uses the default
        self._log("TLS: no CA in {} verifies {}; trying the default trust store".format(
            trust["capath"], urlsplit(url).hostname))
        return self._open(method, url, headers, body, budget, proxy, {}, follow_redirects,
                          failure)

    def _open(self, method, url, headers, body, budget, proxy, trust, follow_redirects,
              failure):
        request = urllib_request.Request(url, data=body, headers=headers, method=method)
        request.budget = budget
        opener = self._opener(urlsplit(url).scheme, proxy, trust, follow_redirects)
        try:
            response = opener.open(request, timeout=budget.timeout())
        except HTTPError as exc:  # a redirect loop, when following them: the last reply
            response = exc
        except URLError as exc:  # connecting, the proxy tunnel, TLS, sending
            raise failure.connect(exc.reason, budget)
        except ssl.CertificateError as exc:  # 3.6: a ValueError from the handshake, unwrapped
            raise failure.connect(exc, budget)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # the reply
            raise failure.read(exc, budget)
        return Reply(response, method, budget, failure)

    def _opener(self, scheme, proxy, trust, follow_redirects):
        key = (scheme, proxy, tuple(sorted(trust.items())), follow_redirects)
        if key not in self._openers:
            opener = urllib_request.OpenerDirector()
            opener.addheaders = [("User-Agent", USER_AGENT)]
            # No HTTPErrorProcessor: every status comes back as a reply, none as an exception.
            handlers = [urllib_request.ProxyHandler({scheme: proxy} if proxy else {}),
                        bounded.HTTPHandler()]
            if scheme == "https" or follow_redirects:  # a TLS context costs up to 70 ms
                handlers.append(bounded.HTTPSHandler(context=self._context(trust)))
            if follow_redirects:
                handlers += [urllib_request.HTTPErrorProcessor(), bounded.SafeRedirects(),
                             bounded.KeepErrorReplies()]
            for handler in handlers:
                opener.add_handler(handler)
            self._openers[key] = opener
        return self._openers[key]

    def _context(self, trust):
        key = tuple(sorted(trust.items()))
        if key not in self._contexts:
            try:
                self._contexts[key] = ssl.create_default_context(**trust)
            except (ssl.SSLError, OSError) as exc:  # a CA file OpenSSL cannot use
                raise errors.ValidationError(reason="the CAs to trust ({}) cannot be loaded: "
                                                    "{}; point AWS_CA_BUNDLE at a PEM file of "
                                                    "CA certificates".format(
                                                        ", ".join(trust.values()) or
                                                        "OpenSSL's default", exc))
        return self._contexts[key]


class Reply(object):
    """An open reply: status, reason, headers (lower-case names) and a body read in pieces,
    each read within the request's budget.  A body that ends before its Content-Length is
    a read error, not a short body."""

    def __init__(self, response, method, budget, failure):
        self._response, self._budget, self._failure = response, budget, failure
        self.status, self.reason = response.status, response.reason
        self.headers = {name.lower(): value for name, value in response.getheaders()}
        self._expected = _expected_length(self.headers, method, self.status)
        self._received = 0

    def read(self, size):
        """Up to `size` bytes of the body; b"" at its end."""
        try:
            data = self._response.read(size)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise self._failure.read(exc, self._budget)
        self._received += len(data)
        if not data and self._expected is not None and self._received < self._expected:
            raise self._failure.read(http.client.IncompleteRead(b"", self._expected -
                                                                self._received), self._budget)
        return data

    def read_up_to(self, count):
        """The body's first `count` bytes (all of it, if it is shorter)."""
        pieces, received = [], 0
        while received < count:
            piece = self.read(count - received)
            if not piece:
                break
            pieces.append(piece)
            received += len(piece)
        return b"".join(pieces)

    def read_all(self, limit):
        """The whole body; one over `limit` bytes is a read error."""
        data = self.read_up_to(limit + 1)
        if len(data) > limit:
            raise self._failure.too_large(limit)
        return data

    def close(self):
        self._response.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _expected_length(headers, method, status):
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200 or \
            "chunked" in headers.get("transfer-encoding", "").lower():
        return None
    try:
        length = int(headers.get("content-length", ""))
    except ValueError:
        return None
    return length if length >= 0 else None


def check_headers(headers, failure):
    """Refuse, before sending, a header HTTP/1.1 cannot carry: a line break would end the
    head early (or forge a header), a character outside latin-1 has no bytes on the wire."""
    for name, value in headers.items():
        for text in (str(name), str(value)):
            try:
                text.encode("latin-1")
                broken = "\r" in text or "\n" in text
            except UnicodeEncodeError:
                broken = True
            if broken:
                raise failure.unsendable(name)


class _Failure(object):
    """Makes the one TransportError for whatever went wrong with one request."""

    def __init__(self, label, url, hint):
        self.label, self.url, self.hint, self.proxy = label, url, hint, None

    def _error(self, phase, reason, retryable=True, hint=None, **extra):
        exc = errors.TransportError(self.label, phase, reason, urls.shown(self.url),
                                    self.hint if hint is None else hint, retryable=retryable)
        exc.fields.update(extra)
        return exc

    def unsendable(self, name):
        return self._error("connect", "cannot send: {} holds a line break or a character "
                           "HTTP headers cannot carry".format(name), retryable=False,
                           hint="check where that value comes from")

    def connect(self, exc, budget):
        """Nothing was received: connecting, the tunnel, TLS or sending failed."""
        where = " through the proxy " + urls.shown(self.proxy) if self.proxy else ""
        if is_certificate_failure(exc):
            return self._error("connect", "cannot connect{}: TLS certificate verification "
                               "failed ({})".format(where, getattr(exc, "verify_message", None)
                                                    or getattr(exc, "reason", None) or exc),
                               retryable=False, hint=CERTIFICATE_HINT, certificate=True)
        return self._error("connect", "cannot connect{}: {}".format(where, describe(exc,
                                                                                    budget)))

    def too_large(self, limit):
        # Retryable all the same: the request may have been acted on (an event accepted),
        # so what it carried must reach the spool, as for any reply that never came whole.
        return self._error("read", "the reply is over {} bytes, more than this request can "
                           "ever need".format(limit))

    def read(self, exc, budget):
        """The request went out and may have been acted on; its reply never came whole."""
        if isinstance(exc, (http.client.RemoteDisconnected, http.client.IncompleteRead)):
            return self._error("read", "no reply: connection closed ({})".format(
                exc.__class__.__name__))
        if isinstance(exc, (http.client.HTTPException, ValueError)):
            return self._error("read", "unreadable reply ({}: {})".format(
                exc.__class__.__name__, str(exc)[:100]))
        return self._error("read", "no reply: " + describe(exc, budget))


def describe(exc, budget):
    """What an OSError (or anything else) means, in a few words."""
    if isinstance(exc, socket.timeout):
        return "timed out after {:.3g} s".format(budget.seconds)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the host name"
    if isinstance(exc, ssl.SSLError):
        return "TLS failed: {}".format(getattr(exc, "reason", None) or exc)
    if type(exc) is OSError and not exc.strerror:  # http.client's tunnel refusal says it all
        return str(exc)
    if isinstance(exc, OSError):
        return "{} ({})".format(exc.__class__.__name__, exc.strerror or exc)
    return str(exc)
