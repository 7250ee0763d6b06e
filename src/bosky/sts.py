"""AWS STS over the Query API: AssumeRole (signed) and AssumeRoleWithWebIdentity (unsigned).

Wire facts (botocore model sts/2011-06-15, AWS-NOTES 5.5-5.6): POST / with a
form-encoded body `Action=...&Version=2011-06-15&...`, Content-Type
application/x-www-form-urlencoded; charset=utf-8, SigV4 service `sts`.
AssumeRoleWithWebIdentity carries no Authorization at all.  Replies are XML:
`.../Credentials/{AccessKeyId,SecretAccessKey,SessionToken,Expiration}`;
errors are `<ErrorResponse><Error><Code/><Message/></Error><RequestId/>`.
"""

import datetime
import xml.etree.ElementTree as ElementTree
from urllib.parse import quote

from bosky import errors, sigv4
from bosky.credentials import Credentials

API_VERSION = "2011-06-15"
SIGNING_NAME = "sts"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

ERROR_HINTS = {
    "AccessDenied": "the source credentials may not assume this role: check the role's trust "
                    "policy and the caller's sts:AssumeRole permission",
    "InvalidIdentityToken": "the web identity token was refused: check the token file and the "
                            "role's trust policy for the identity provider",
    "ExpiredTokenException": "the web identity token has expired; it must be renewed",
    "RegionDisabledException": "STS is not activated in this region; activate it in IAM",
}


def form_body(params):
    """The form-encoded body, keys in the order given; space is %20, never +."""
    return "&".join("{}={}".format(quote(k, safe="-_.~"), quote(str(v), safe="-_.~"))
                    for k, v in params).encode("utf-8")


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _find(element, name):
    for child in element.iter():
        if _local(child.tag) == name:
            return child
    return None


def parse_error(body, status, reason):
    """(code, message, request id) from an XML error reply (namespaces ignored)."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return str(status), reason or "no message", ""
    texts = {name: (_find(root, name).text or "") if _find(root, name) is not None else ""
             for name in ("Code", "Message", "RequestId")}
    return texts["Code"] or str(status), texts["Message"] or reason, texts["RequestId"]


def parse_credentials(body, source):
    """Credentials from an AssumeRole* reply body."""
    try:
        node = _find(ElementTree.fromstring(body), "Credentials")
        values = {name: _find(node, name).text for name in
                  ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")}
        expiration = datetime.datetime.strptime(values["Expiration"][:19], "%Y-%m-%dT%H:%M:%S")
    except (ElementTree.ParseError, AttributeError, TypeError, ValueError):
        raise errors.UnexpectedReplyError(service="STS", reason="no credentials in the reply")
    return Credentials(values["AccessKeyId"], values["SecretAccessKey"], values["SessionToken"],
                       expiration=expiration.replace(tzinfo=datetime.timezone.utc),
                       source=source)


def _call(send, url, headers, body, timeout, action, source):
    reply = send("POST", url, headers, body, timeout, "STS " + action)
    if reply.status != 200:
        code, message, request_id = parse_error(reply.body, reply.status, reply.reason)
        raise errors.ServiceError("STS", code, "{} ({})".format(message, action), request_id,
                                  ERROR_HINTS.get(code, ""), status=reply.status,
                                  server_date=reply.headers.get("date", ""))
    return parse_credentials(reply.body, source)


def assume_role(send, url, region, credentials, role, now, timeout):
    """AssumeRole with `credentials`; `role` holds arn, session_name, external_id, duration."""
    params = [("Action", "AssumeRole"), ("Version", API_VERSION), ("RoleArn", role["arn"]),
              ("RoleSessionName", role["session_name"])]
    if role.get("external_id"):
        params.append(("ExternalId", role["external_id"]))
    if role.get("duration"):
        params.append(("DurationSeconds", role["duration"]))
    body = form_body(params)
    headers = sigv4.sign_request("POST", url, {"Content-Type": CONTENT_TYPE}, body, credentials,
                                 region, SIGNING_NAME, now)
    return _call(send, url, headers, body, timeout, "AssumeRole",
                 "role {} assumed with {}".format(role["arn"], credentials.source))


def assume_role_with_web_identity(send, url, role, token, timeout, origin):
    """AssumeRoleWithWebIdentity: unsigned, the token file's contents as the identity."""
    body = form_body([("Action", "AssumeRoleWithWebIdentity"), ("Version", API_VERSION),
                      ("RoleArn", role["arn"]), ("RoleSessionName", role["session_name"]),
                      ("WebIdentityToken", token)])
    return _call(send, url, {"Content-Type": CONTENT_TYPE}, body, timeout,
                 "AssumeRoleWithWebIdentity",
                 "web identity role {} ({})".format(role["arn"], origin))
