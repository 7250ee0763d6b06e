"""AWS STS: AssumeRole (signed) and AssumeRoleWithWebIdentity (unsigned), Query API.

Wire facts (botocore model sts/2011-06-15, AWS-NOTES 5.5-5.6): Version
2011-06-15, SigV4 service `sts`; AssumeRoleWithWebIdentity carries no
Authorization at all.  Replies hold
`.../Credentials/{AccessKeyId,SecretAccessKey,SessionToken,Expiration}`.
"""

import datetime
import xml.etree.ElementTree as ElementTree

from bosky import errors
from bosky.aws import query

API_VERSION = "2011-06-15"
SIGNING_NAME = "sts"

ERROR_HINTS = {
    "AccessDenied": "the source credentials may not assume this role: check the role's trust "
                    "policy and the caller's sts:AssumeRole permission",
    "InvalidIdentityToken": "the web identity token was refused: check the token file and the "
                            "role's trust policy for the identity provider",
    "ExpiredTokenException": "the web identity token has expired; it must be renewed",
    "RegionDisabledException": "STS is not activated in this region; activate it in IAM",
}


def parse_credentials(body):
    """{AccessKeyId, SecretAccessKey, SessionToken, Expiration (aware UTC)} from an
    AssumeRole* reply body; the values are checked by the caller like any others."""
    try:
        node = query.find(ElementTree.fromstring(body), "Credentials")
        values = {name: query.find(node, name).text for name in
                  ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")}
        expiration = datetime.datetime.strptime(values["Expiration"][:19], "%Y-%m-%dT%H:%M:%S")
    except (ElementTree.ParseError, AttributeError, TypeError, ValueError):
        raise errors.UnexpectedReplyError(service="STS", reason="no credentials in the reply")
    values["Expiration"] = expiration.replace(tzinfo=datetime.timezone.utc)
    return values


def assume_role(send, url, region, credentials, role, now, timeout):
    """AssumeRole with `credentials`; `role` holds arn, session_name, external_id, duration."""
    params = [("Action", "AssumeRole"), ("Version", API_VERSION), ("RoleArn", role["arn"]),
              ("RoleSessionName", role["session_name"])]
    if role.get("external_id"):
        params.append(("ExternalId", role["external_id"]))
    if role.get("duration"):
        params.append(("DurationSeconds", role["duration"]))
    body = query.call(send, url, params, "STS AssumeRole", ERROR_HINTS,
                      (credentials, region, SIGNING_NAME, now, timeout))
    return parse_credentials(body)


def assume_role_with_web_identity(send, url, role, token, timeout):
    """AssumeRoleWithWebIdentity: unsigned, the token file's contents as the identity."""
    params = [("Action", "AssumeRoleWithWebIdentity"), ("Version", API_VERSION),
              ("RoleArn", role["arn"]), ("RoleSessionName", role["session_name"]),
              ("WebIdentityToken", token)]
    body = query.call(send, url, params, "STS AssumeRoleWithWebIdentity", ERROR_HINTS,
                      (None, None, SIGNING_NAME, None, timeout))
    return parse_credentials(body)
