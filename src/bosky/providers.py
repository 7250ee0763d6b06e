"""The credential providers, and the chain that tries them in the AWS SDKs' order.

environment keys -> web identity from the environment -> the selected profile
(static keys, credential_process, role_arn via source_profile or
credential_source, web_identity_token_file) -> container credentials -> the
instance profile from IMDS.  A provider takes the deadline and returns
`Credentials`, or None for "not configured here, try the next one"; it raises
only when its source is configured but broken.  Everything a provider uses
comes from the session: nothing here reads the environment, a file or the clock.
"""

from bosky import credentials, errors, urls
from bosky.aws import imds

STS_TIMEOUT = 10.0
CONTAINER_TIMEOUT = 2.0
PROCESS_TIMEOUT = 60.0  # credential_process, as Go v2's default: never past the deadline
ECS_HOST = "http://169.254.170.2"
# Plain-http hosts the SDKs allow for AWS_CONTAINER_CREDENTIALS_FULL_URI (botocore, Go v2);
# any loopback address is allowed too.
CONTAINER_HTTP_HOSTS = ("169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost")
ENV_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def resolve(session, deadline):
    """The first credentials a provider returns, in the SDKs' order."""
    tried = []
    for name, provider in chain(session):
        found = provider(session, deadline)
        if found is not None:
            return found
        tried.append(name)
    raise errors.NoCredentialsError(reason="none found in " + ", ".join(tried))


def chain(session):
    """[(name, provider)]: the environment's keys are skipped when bosky itself chose the
    profile (--profile or its config file), as `aws --profile` does."""
    settings = session.settings
    found = [] if settings.skip_env_credentials else [("environment variables", from_environment)]
    return found + [
        ("web identity (AWS_WEB_IDENTITY_TOKEN_FILE)", from_env_web_identity),
        ("profile {} ({})".format(settings.profile, settings.origin["profile"]),
         lambda s, d: from_profile(s, d, settings.profile)),
        ("container credentials", from_container),
        ("instance profile (IMDS)", from_instance_profile),
    ]


def from_environment(session, deadline=None):
    """Keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)."""
    env = session.world.env
    key_id, secret = env.get("AWS_ACCESS_KEY_ID", ""), env.get("AWS_SECRET_ACCESS_KEY", "")
    if not key_id and not secret:
        return None
    if not (key_id and secret):
        present, missing = ENV_NAMES[:2] if key_id else ENV_NAMES[1::-1]
        raise errors.PartialCredentialsError(present=present, missing=missing)
    # botocore reads the legacy AWS_SECURITY_TOKEN as a fallback too.
    token_name = "AWS_SESSION_TOKEN" if env.get("AWS_SESSION_TOKEN") else "AWS_SECURITY_TOKEN"
    for name, value in ((ENV_NAMES[0], key_id), (ENV_NAMES[1], secret),
                        (token_name, env.get(token_name) or "")):
        problem = _env_value_problem(value)
        if problem:  # a pasted line break would split a header; surrogates are bad bytes
            raise errors.ValidationError(reason="{} holds {}; set it to the value alone".format(
                name, problem))
    return credentials.Credentials(key_id, secret, env.get(token_name),
                                   source="environment variables")


def _env_value_problem(value):
    if any(c.isspace() for c in value):
        return "a space or line break"
    if not all(33 <= ord(c) < 127 for c in value):
        return "characters that are not ASCII (or bytes that are not UTF-8)"
    return None


def session_name(value, session):
    return value or "bosky-{}".format(int(session.clock.now()))


def _sts(session, deadline):
    """(STS URL, signing region): the run's region when known, else the global endpoint."""
    region = session.known_region()
    url, _ = session.endpoint("sts", region)
    return url, region or "us-east-1", deadline.timeout_for(STS_TIMEOUT, "calling STS")


def web_identity(session, deadline, token_file, role_arn, name, origin):
    token = session.world.read_text(token_file)  # re-read on every refresh: it rotates
    if token is None:
        raise errors.CredentialsError(source=origin, reason="cannot read the web identity "
                                      "token file " + token_file)
    from bosky.aws import sts  # with xml.etree: loaded only by runs that assume a role
    url, _, timeout = _sts(session, deadline)
    role = {"arn": role_arn, "session_name": session_name(name, session)}
    values = sts.assume_role_with_web_identity(session.http.request, url, role, token.strip(),
                                               timeout)
    return _from_sts(values, "web identity role {} ({})".format(role_arn, origin))


def _from_sts(values, source):
    return credentials.checked(values["AccessKeyId"], values["SecretAccessKey"],
                               values["SessionToken"], values["Expiration"], source)


def from_env_web_identity(session, deadline):
    env = session.world.env
    token_file = env.get("AWS_WEB_IDENTITY_TOKEN_FILE", "").strip()
    role_arn = env.get("AWS_ROLE_ARN", "").strip()
    if not (token_file and role_arn):
        return None
    return web_identity(session, deadline, token_file, role_arn,
                        env.get("AWS_ROLE_SESSION_NAME"), "AWS_WEB_IDENTITY_TOKEN_FILE")


def static_keys(values, name):
    key_id, secret = values.get("aws_access_key_id"), values.get("aws_secret_access_key")
    if not key_id and not secret:
        return None
    if not (key_id and secret):
        raise errors.ValidationError(reason="profile {} has only one of aws_access_key_id and "
                                            "aws_secret_access_key; set both".format(name))
    token = values.get("aws_security_token") or values.get("aws_session_token")
    return credentials.checked(key_id, secret, token, None, "profile " + name,
                               ("aws_access_key_id", "aws_secret_access_key",
                                "aws_session_token"))


CREDENTIAL_SOURCES = {"Environment": lambda s, d: from_environment(s, d),
                      "Ec2InstanceMetadata": lambda s, d: from_instance_profile(s, d),
                      "EcsContainer": lambda s, d: from_container(s, d)}


def from_credential_source(session, deadline, kind, name):
    provider = CREDENTIAL_SOURCES.get(kind)
    if provider is None:
        raise errors.ValidationError(reason="profile {}: credential_source {!r} is not one of "
                                            "Environment, Ec2InstanceMetadata, EcsContainer"
                                            .format(name, kind))
    found = provider(session, deadline)
    if found is None:
        raise errors.CredentialsError(source="profile " + name, reason="credential_source = {} "
                                      "found no credentials".format(kind))
    return found


def assume_profile_role(session, deadline, values, name, visited):
    if values.get("web_identity_token_file"):
        return web_identity(session, deadline, values["web_identity_token_file"],
                            values["role_arn"], values.get("role_session_name"),
                            "profile " + name)
    if values.get("source_profile"):
        source_name = values["source_profile"]
        base = static_keys(values, name) if source_name == name else \
            from_profile(session, deadline, source_name, visited + [name])
    elif values.get("credential_source"):
        base = from_credential_source(session, deadline, values["credential_source"], name)
    else:
        raise errors.ValidationError(reason="profile {} has role_arn but neither source_profile "
                                            "nor credential_source".format(name))
    if base is None:
        raise errors.CredentialsError(source="profile " + name, reason="source_profile {} has "
                                      "no credentials".format(values["source_profile"]))
    from bosky.aws import sts
    url, region, timeout = _sts(session, deadline)
    role = {"arn": values["role_arn"], "external_id": values.get("external_id"),
            "duration": values.get("duration_seconds"),
            "session_name": session_name(values.get("role_session_name"), session)}
    found = sts.assume_role(session.http.request, url, region, base, role,
                            session.clock.utcnow(), timeout)
    return _from_sts(found, "role {} assumed with {}".format(role["arn"], base.source))


def from_profile(session, deadline, name, visited=()):
    """Credentials the named profile defines, or None when it defines none."""
    aws_files = session.settings.aws_files
    if name in visited:
        raise errors.ValidationError(reason="source_profile loop: " + " -> ".join(
            list(visited) + [name]))
    values = aws_files.get(name)
    if values is None:
        if visited:
            raise errors.ValidationError(reason="source_profile {} is not in {}".format(
                name, " or ".join(aws_files.sources) or "any AWS config file"))
        return None
    if values.get("role_arn"):
        return assume_profile_role(session, deadline, values, name, list(visited))
    if values.get("credential_process"):
        return from_process(session, deadline, values["credential_process"], name)
    return static_keys(values, name)


def from_process(session, deadline, command, profile):
    """Credentials printed by a profile's credential_process (version 1 JSON)."""
    import shlex
    what = "credential_process of profile {}".format(profile)
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise errors.ValidationError(reason="{}: cannot split {!r}: {}".format(what, command, exc))
    timeout = deadline.timeout_for(PROCESS_TIMEOUT, "running " + what)
    code, out, err = session.world.run_process(argv, timeout)
    if code != 0:
        raise errors.CredentialsError(source=what, reason="exited {}: {}".format(
            code, err.decode("utf-8", "replace").strip()[:300] or "(no message)"))
    return credentials.parse_process_output(out, what)


# -- containers (ECS, EKS Pod Identity) ----------------------------------------------------

def container_url(env):
    """The container credentials URL, or None when neither variable is set."""
    relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "").strip()
    full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "").strip()
    if relative:  # botocore: the relative URI wins when both are set
        url, variable = ECS_HOST + relative, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
    elif full:
        url, variable = full, "AWS_CONTAINER_CREDENTIALS_FULL_URI"
    else:
        return None
    parts = urls.split_url(url)
    if parts is None or urls.has_userinfo(url):
        raise errors.ValidationError(reason="{} {!r} is not a usable URL: expected "
                                            "http(s)://host[:port]/path".format(
                                                variable, urls.shown(url)))
    host = parts.hostname.lower()
    if parts.scheme != "https" and host not in CONTAINER_HTTP_HOSTS and not _is_loopback(host):
        raise errors.ValidationError(
            reason="{} {!r} is not allowed: it must be https, or http to a loopback address, "
                   "169.254.170.2 or 169.254.170.23".format(variable, url))
    return url


def _is_loopback(host):
    """127.0.0.0/8 or ::1 as an address (a name such as 127.attacker.invalid is not one)."""
    import ipaddress
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def from_container(session, deadline):
    """Credentials from the ECS / EKS Pod Identity endpoint; None when not in a container."""
    env = session.world.env
    url = container_url(env)
    if url is None:
        return None
    headers = {"Accept": "application/json"}
    authorization = container_authorization(env, session.world.read_text)
    if authorization:
        headers["Authorization"] = authorization
    reply = session.http.request("GET", url, headers, None, deadline.timeout_for(
        CONTAINER_TIMEOUT, "fetching container credentials"), "container credentials",
        direct=True)
    if reply.status != 200:
        raise errors.CredentialsError(source="container credentials at " + url,
                                      reason="HTTP {} {}".format(reply.status, reply.reason))
    return credentials.parse_credential_json(reply.body, "container credentials ({})".format(
        url), "container credentials at " + url)


def from_instance_profile(session, deadline):
    """The instance profile role's credentials from IMDS; None when no role is attached."""
    client = session.imds
    if client.disabled:
        return None
    listing = client.get(imds.ROLE_LIST, deadline, optional=True)
    role = listing.decode("utf-8", "replace").strip().split("\n")[0].strip() if listing else ""
    if not role:
        return None
    return credentials.parse_credential_json(
        client.get(imds.ROLE_LIST + role, deadline),
        "instance profile role {} (IMDS)".format(role), "instance profile role {!r}".format(role))
