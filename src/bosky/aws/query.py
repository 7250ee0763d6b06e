"""The AWS Query protocol that STS and Auto Scaling speak.

POST / with a form-encoded body (`Action=...&Version=...&...`), Content-Type
application/x-www-form-urlencoded; charset=utf-8, SigV4-signed unless the
action is anonymous; XML replies, errors as
`<ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>`
(namespaces differ by service, so elements are matched by local name).
"""

import xml.etree.ElementTree as ElementTree
from urllib.parse import quote

from bosky import errors
from bosky.aws import sigv4

CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def form_body(params):
    """The form-encoded body, keys in the order given; space is %20, never +."""
    return "&".join("{}={}".format(quote(k, safe="-_.~"), quote(str(v), safe="-_.~"))
                    for k, v in params).encode("utf-8")


def local_name(tag):
    return tag.rsplit("}", 1)[-1]


def find(element, name):
    """The first element named `name` (any namespace) under `element`, or None."""
    for child in element.iter():
        if local_name(child.tag) == name:
            return child
    return None


def parse_error(body, status, reason):
    """(code, message, request id) from an XML error reply."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return str(status), reason or "no message", ""
    texts = {}
    for name in ("Code", "Message", "RequestId"):
        node = find(root, name)
        texts[name] = (node.text or "") if node is not None else ""
    return texts["Code"] or str(status), texts["Message"] or reason, texts["RequestId"]


def call(send, url, params, label, hints, signing):
    """POST one Query action; returns the reply body (XML bytes) or raises ServiceError.

    signing: (credentials, region, service, now, timeout); credentials None sends
    the action unsigned (AssumeRoleWithWebIdentity is anonymous by design).
    `label` names the service first ("STS AssumeRole"), for messages.
    """
    body = form_body(params)
    headers = {"Content-Type": CONTENT_TYPE}
    credentials, region, service, now, timeout = signing
    if credentials is not None:
        headers = sigv4.sign_request("POST", url, headers, body, credentials, region, service,
                                     now)
    reply = send("POST", url, headers, body, timeout, label)
    if reply.status != 200:
        code, message, request_id = parse_error(reply.body, reply.status, reply.reason)
        action = dict(params).get("Action", "")
        raise errors.ServiceError(label.split()[0], code, "{} ({})".format(message, action),
                                  request_id, hints.get(code, ""), status=reply.status,
                                  server_date=reply.headers.get("date", ""))
    return reply.body
