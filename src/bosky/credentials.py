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

from bosky import errors, imds

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
    token = env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN")
    return Credentials(key_id, secret, token, source="environment variables")


def parse_role_credentials(body, role):
    """Credentials from the IMDS `iam/security-credentials/<role>` JSON reply."""
    try:
        doc = json.loads(body.decode("utf-8"))
        if doc.get("Code", "Success") != "Success":
            raise errors.ImdsError(reason="role {!r} credentials not available: {}: {}".format(
                role, doc.get("Code"), doc.get("Message", "")))
        expiration = datetime.datetime.strptime(doc["Expiration"], _EXPIRATION_FORMAT)
        return Credentials(
            doc["AccessKeyId"], doc["SecretAccessKey"], doc.get("Token"),
            expiration=expiration.replace(tzinfo=datetime.timezone.utc),
            source="instance profile role {} (IMDS)".format(role))
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise errors.ImdsError(
            reason="role {!r} credentials reply is not the expected JSON ({})".format(
                role, exc.__class__.__name__))


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
