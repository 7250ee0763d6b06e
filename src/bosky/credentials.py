"""AWS credentials: the value, the providers, and the chain that picks one.

A provider is a callable taking no arguments that returns `Credentials` or
None ("not configured here, try the next one"); it raises only when its
source is configured but broken.  `resolve_credentials` walks the providers
in order, the way the AWS SDKs do; later issues add providers (web identity,
profiles, containers) to the list without touching the chain.

Secrets never leave this module in text form: `repr` hides them.
"""

import datetime
import json
from urllib.parse import urlsplit

from bosky import errors
from bosky.aws import imds

_EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Credentials(object):
    __slots__ = ("access_key_id", "secret_access_key", "session_token",
                 "expiration", "source")

    def __init__(self, access_key_id, secret_access_key, session_token=None,
                 expiration=None, source=""):
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token or None
        self.expiration = expiration  # aware UTC datetime, or None for long-term keys
        self.source = source

    def __repr__(self):
        return "Credentials(access_key_id={!r}, secret_access_key='****', " \
               "session_token={}, source={!r})".format(
                   self.access_key_id, "'****'" if self.session_token else None, self.source)


def from_environment(env):
    """Keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)."""
    key_id = env.get("AWS_ACCESS_KEY_ID", "")
    secret = env.get("AWS_SECRET_ACCESS_KEY", "")
    if not key_id and not secret:
        return None
    if not secret:
        raise errors.PartialCredentialsError(present="AWS_ACCESS_KEY_ID",
                                             missing="AWS_SECRET_ACCESS_KEY")
    if not key_id:
        raise errors.PartialCredentialsError(present="AWS_SECRET_ACCESS_KEY",
                                             missing="AWS_ACCESS_KEY_ID")
    # botocore reads the legacy AWS_SECURITY_TOKEN as a fallback too.
    token_name = "AWS_SESSION_TOKEN" if env.get("AWS_SESSION_TOKEN") else "AWS_SECURITY_TOKEN"
    token = env.get(token_name)
    for name, value in (("AWS_ACCESS_KEY_ID", key_id), ("AWS_SECRET_ACCESS_KEY", secret),
                        (token_name, token or "")):
        if any(c.isspace() for c in value):  # a pasted line break would split a header
            raise errors.ValidationError(reason="{} holds a space or line break; set it to "
                                         "the value alone".format(name))
    return Credentials(key_id, secret, token, source="environment variables")


def parse_credential_json(body, source, what):
    """Credentials from the JSON IMDS and container endpoints serve
    (AccessKeyId, SecretAccessKey, Token, Expiration; a non-Success Code is an error)."""
    try:
        doc = json.loads(body.decode("utf-8"))
        if doc.get("Code", "Success") != "Success":
            raise errors.CredentialsError(source=what, reason="{}: {}".format(
                doc.get("Code"), doc.get("Message", "")))
        return Credentials(doc["AccessKeyId"], doc["SecretAccessKey"], doc.get("Token"),
                           expiration=parse_expiration(doc.get("Expiration")), source=source)
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise errors.CredentialsError(source=what, reason="the reply is not the expected JSON "
                                      "({})".format(exc.__class__.__name__))


def parse_expiration(value):
    """An aware UTC datetime from an ISO 8601 `...Z` timestamp; None for None."""
    if value is None:
        return None
    parsed = datetime.datetime.strptime(str(value)[:19], _EXPIRATION_FORMAT[:-1])
    return parsed.replace(tzinfo=datetime.timezone.utc)


def parse_role_credentials(body, role):
    """Credentials from the IMDS `iam/security-credentials/<role>` JSON reply."""
    return parse_credential_json(body, "instance profile role {} (IMDS)".format(role),
                                 "instance profile role {!r}".format(role))


# -- containers (ECS, EKS Pod Identity) -----------------------------------------

ECS_HOST = "http://169.254.170.2"
# Plain-http hosts the SDKs allow for AWS_CONTAINER_CREDENTIALS_FULL_URI (botocore, Go v2).
CONTAINER_HTTP_HOSTS = ("169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost")


def container_url(env):
    """The container credentials URL, or None when neither variable is set."""
    relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "").strip()
    if relative:  # botocore: the relative URI wins when both are set
        return ECS_HOST + relative
    full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "").strip()
    if not full:
        return None
    parts = urlsplit(full)
    host = (parts.hostname or "").lower()
    allowed = parts.scheme == "https" or (parts.scheme == "http" and (
        host in CONTAINER_HTTP_HOSTS or host.startswith("127.") or host == "::1"))
    if not allowed:
        raise errors.ValidationError(
            reason="AWS_CONTAINER_CREDENTIALS_FULL_URI {!r} is not allowed: it must be https, "
                   "or http to a loopback address, 169.254.170.2 or 169.254.170.23".format(full))
    return full


def container_authorization(env, read_text):
    """The Authorization header value: the token file (re-read each time) wins."""
    token_file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "").strip()
    token = read_text(token_file) if token_file else env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if token_file and token is None:
        raise errors.CredentialsError(source="container credentials", reason="cannot read "
                                      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + token_file)
    token = (token or "").strip()
    if "\r" in token or "\n" in token:
        raise errors.ValidationError(reason="the container authorization token holds a line "
                                            "break; it must be one line")
    return token or None


def from_container(env, send, read_text, timeout):
    """Credentials from the ECS / EKS Pod Identity endpoint; None when not in a container."""
    url = container_url(env)
    if url is None:
        return None
    headers = {"Accept": "application/json"}
    authorization = container_authorization(env, read_text)
    if authorization:
        headers["Authorization"] = authorization
    reply = send("GET", url, headers, None, timeout, "container credentials", use_proxy=False)
    if reply.status != 200:
        raise errors.CredentialsError(source="container credentials at " + url,
                                      reason="HTTP {} {}".format(reply.status, reply.reason))
    return parse_credential_json(reply.body, "container credentials ({})".format(url),
                                 "container credentials at " + url)


# -- credential_process ------------------------------------------------------------

def from_process(command, run_process, profile):
    """Credentials printed by a profile's credential_process (version 1 JSON)."""
    import shlex
    what = "credential_process of profile {}".format(profile)
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise errors.ValidationError(reason="{}: cannot split {!r}: {}".format(what, command, exc))
    code, out, err = run_process(argv)
    if code != 0:
        raise errors.CredentialsError(source=what, reason="exited {}: {}".format(
            code, err.decode("utf-8", "replace").strip()[:300] or "(no message)"))
    try:
        doc = json.loads(out.decode("utf-8"))
        if doc.get("Version") != 1:
            raise ValueError("Version must be 1")
        return Credentials(doc["AccessKeyId"], doc["SecretAccessKey"], doc.get("SessionToken"),
                           expiration=parse_expiration(doc.get("Expiration")),
                           source=what)
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise errors.CredentialsError(source=what, reason="its output is not version 1 "
                                      "credentials JSON ({})".format(exc))


def from_instance_profile(imds_client):
    """The instance profile role's credentials from IMDS; None when no role is attached."""
    if imds_client.disabled:
        return None
    listing = imds_client.get(imds.ROLE_LIST, optional=True)
    role = listing.decode("utf-8", "replace").strip().split("\n")[0].strip() if listing else ""
    if not role:
        return None
    return parse_role_credentials(imds_client.get(imds.ROLE_LIST + role), role)


def resolve_credentials(providers):
    """First credentials any provider returns; `providers` is [(name, callable)]."""
    tried = []
    for name, provider in providers:
        found = provider()
        if found is not None:
            return found
        tried.append(name)
    raise errors.NoCredentialsError(reason="none found in " + ", ".join(tried))
