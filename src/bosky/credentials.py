"""AWS credentials: the value, how replies and files are read into one, and the
per-process cache that refreshes them before they expire.

Every value is checked where it enters (an integer AccessKeyId from IMDS, a
line break pasted into a variable, bytes that are not UTF-8), so a bad one is
a clear error naming its source instead of a request that cannot be signed.
Secrets never leave this module in text form: `repr` hides them.
"""

import datetime

from bosky import errors, jsonin

REFRESH_MARGIN_SECONDS = 300.0  # fetched again this long before they expire


class Credentials(object):
    __slots__ = ("access_key_id", "secret_access_key", "session_token", "expiration",
                 "source")

    def __init__(self, access_key_id, secret_access_key, session_token=None,
                 expiration=None, source=""):
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token or None
        self.expiration = expiration  # aware UTC datetime, or None for long-term keys
        self.source = source
        # Whatever source they came from: a server may echo the token back in an error.
        errors.never_show(secret_access_key, self.session_token)

    def __repr__(self):
        return "Credentials(access_key_id={!r}, secret_access_key='****', " \
               "session_token={}, source={!r})".format(
                   self.access_key_id, "'****'" if self.session_token else None, self.source)


def checked(key_id, secret, token, expiration, source, names=None):
    """Credentials from raw values, each checked: a string of visible ASCII characters.

    `names` are what the user calls the three values (variables or JSON keys),
    for the message; a bad value is never printed, only named.
    """
    names = names or ("AccessKeyId", "SecretAccessKey", "Token")
    for name, value, required in zip(names, (key_id, secret, token), (True, True, False)):
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value or not _is_visible_ascii(value):
            raise errors.CredentialsError(source=source, reason="{} is {}; it must be one "
                                          "line of ASCII text".format(name, _what(value)))
    return Credentials(key_id, secret, token, expiration, source)


def _is_visible_ascii(text):
    return all(33 <= ord(c) < 127 for c in text)


def _what(value):
    if not isinstance(value, str):
        return "not a string ({})".format(type(value).__name__)
    if not value:
        return "empty"
    if any(c.isspace() for c in value):
        return "holding a space or line break"
    return "holding characters that are not ASCII (or bytes that are not UTF-8)"


def parse_expiration(value, source):
    """An aware UTC datetime from an ISO 8601 timestamp (`...Z`); None for None."""
    if value is None:
        return None
    try:
        parsed = datetime.datetime.strptime(str(value)[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise errors.CredentialsError(source=source, reason="Expiration {!r} is not an ISO "
                                      "8601 time".format(str(value)[:40]))
    return parsed.replace(tzinfo=datetime.timezone.utc)


def parse_credential_json(body, source, what):
    """Credentials from the JSON IMDS and container endpoints serve (AccessKeyId,
    SecretAccessKey, Token, Expiration; a Code other than Success is an error)."""
    try:
        doc = jsonin.loads(body)
    except (ValueError, AttributeError) as exc:
        doc = exc
    if isinstance(doc, dict) and doc.get("Code", "Success") != "Success":
        raise errors.CredentialsError(source=what, reason="{}: {}".format(
            doc.get("Code"), doc.get("Message", "")))
    if not isinstance(doc, dict) or "AccessKeyId" not in doc or "SecretAccessKey" not in doc:
        raise errors.CredentialsError(source=what, reason="the reply is not the expected JSON "
                                      "({})".format(doc.__class__.__name__ if isinstance(
                                          doc, Exception) else "no AccessKeyId and "
                                      "SecretAccessKey"))
    return checked(doc["AccessKeyId"], doc["SecretAccessKey"], doc.get("Token"),
                   parse_expiration(doc.get("Expiration"), what), source)


def parse_process_output(out, source):
    """Credentials a credential_process printed (version 1 JSON)."""
    try:
        doc = jsonin.loads(out)
        if not isinstance(doc, dict) or doc.get("Version") != 1:
            raise ValueError("Version must be 1")
        key_id, secret = doc["AccessKeyId"], doc["SecretAccessKey"]
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise errors.CredentialsError(source=source, reason="its output is not version 1 "
                                      "credentials JSON ({})".format(exc))
    return checked(key_id, secret, doc.get("SessionToken"),
                   parse_expiration(doc.get("Expiration"), source), source,
                   ("AccessKeyId", "SecretAccessKey", "SessionToken"))


class Cache(object):
    """The process's credentials: resolved once, again only when they near expiry or
    a service says they expired.  Safe to share with the start event's thread."""

    def __init__(self, resolve, clock, log):
        import _thread  # threading.Lock is this; importing threading costs a plain emit
        self._resolve, self._clock, self._log = resolve, clock, log
        self._value, self._lock = None, _thread.allocate_lock()

    def get(self, deadline, refresh=False):
        with self._lock:
            if refresh or self._value is None or self._expiring():
                self._value = self._resolve(deadline)
                self._log("credentials from {} (key id ****{})".format(
                    self._value.source, self._value.access_key_id[-4:]))
            return self._value

    def _expiring(self):
        expiry = self._value.expiration
        return expiry is not None and expiry.timestamp() - self._clock.now() < \
            REFRESH_MARGIN_SECONDS
