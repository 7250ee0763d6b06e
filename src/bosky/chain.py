"""The credential provider chain, in the order the AWS SDKs use.

environment keys -> web identity from the environment -> the selected
profile (static keys, credential_process, role_arn via source_profile or
credential_source, web_identity_token_file) -> container credentials ->
the instance profile from IMDS.  The first provider that returns
credentials wins; a provider that is configured but broken raises.

`Sources` carries what the providers need (environment, profiles, the
clients, a clock); nothing here reads the environment or the clock itself.
"""

from bosky import credentials, errors
from bosky.aws import endpoints

STS_TIMEOUT = 10.0
CONTAINER_TIMEOUT = 2.0


class Sources(object):
    """Everything the providers draw on; built by `wiring.Run`."""

    def __init__(self, env, aws, imds_client, send, read_text, run_process, now, timeout_for,
                 region):
        self.env = env
        self.aws = aws                # wiring.AwsConfig: profiles and the selected profile
        self.imds = imds_client
        self.send = send
        self.read_text = read_text
        self.run_process = run_process
        self.now = now                # () -> aware UTC datetime (skew-corrected)
        self.timeout_for = timeout_for
        self.region = region          # () -> region for STS, or None


def session_name(value, now):
    return value or "bosky-{}".format(int(now.timestamp()))


def sts_url(sources):
    region = sources.region()
    url, _ = endpoints.resolve_url("sts", region, sources.env, sources.aws.profiles,
                                   sources.aws.profile)
    return url, region or "us-east-1"


def web_identity(sources, token_file, role_arn, name, origin):
    token = sources.read_text(token_file)  # re-read on every refresh: it rotates
    if token is None:
        raise errors.CredentialsError(source=origin, reason="cannot read the web identity "
                                      "token file " + token_file)
    url, _ = sts_url(sources)
    role = {"arn": role_arn, "session_name": session_name(name, sources.now())}
    from bosky.aws import sts  # with xml.etree: loaded only by runs that assume a role
    return sts.assume_role_with_web_identity(
        sources.send, url, role, token.strip(), sources.timeout_for(STS_TIMEOUT, "STS"), origin)


def from_env_web_identity(sources):
    token_file = sources.env.get("AWS_WEB_IDENTITY_TOKEN_FILE", "").strip()
    role_arn = sources.env.get("AWS_ROLE_ARN", "").strip()
    if not (token_file and role_arn):
        return None
    return web_identity(sources, token_file, role_arn, sources.env.get("AWS_ROLE_SESSION_NAME"),
                        "AWS_WEB_IDENTITY_TOKEN_FILE")


def static_keys(values, name):
    key_id, secret = values.get("aws_access_key_id"), values.get("aws_secret_access_key")
    if not key_id and not secret:
        return None
    if not (key_id and secret):
        raise errors.ValidationError(reason="profile {} has only one of aws_access_key_id and "
                                            "aws_secret_access_key; set both".format(name))
    token = values.get("aws_security_token") or values.get("aws_session_token")
    return credentials.Credentials(key_id, secret, token, source="profile " + name)


def from_credential_source(sources, kind, name):
    found = {
        "Environment": lambda: credentials.from_environment(sources.env),
        "Ec2InstanceMetadata": lambda: credentials.from_instance_profile(sources.imds),
        "EcsContainer": lambda: credentials.from_container(
            sources.env, sources.send, sources.read_text,
            sources.timeout_for(CONTAINER_TIMEOUT, "container credentials")),
    }.get(kind)
    if found is None:
        raise errors.ValidationError(reason="profile {}: credential_source {!r} is not one of "
                                            "Environment, Ec2InstanceMetadata, EcsContainer"
                                            .format(name, kind))
    result = found()
    if result is None:
        raise errors.CredentialsError(source="profile " + name, reason="credential_source = {} "
                                      "found no credentials".format(kind))
    return result


def assume_profile_role(sources, values, name, visited):
    if values.get("web_identity_token_file"):
        return web_identity(sources, values["web_identity_token_file"], values["role_arn"],
                            values.get("role_session_name"), "profile " + name)
    if values.get("source_profile"):
        source_name = values["source_profile"]
        if source_name == name:  # a profile may use its own static keys as the source
            base = static_keys(values, name)
        else:
            base = from_profile(sources, source_name, visited + [name])
    elif values.get("credential_source"):
        base = from_credential_source(sources, values["credential_source"], name)
    else:
        raise errors.ValidationError(reason="profile {} has role_arn but neither source_profile "
                                            "nor credential_source".format(name))
    if base is None:
        raise errors.CredentialsError(source="profile " + name, reason="source_profile {} has "
                                      "no credentials".format(values["source_profile"]))
    url, region = sts_url(sources)
    role = {"arn": values["role_arn"], "external_id": values.get("external_id"),
            "duration": values.get("duration_seconds"),
            "session_name": session_name(values.get("role_session_name"), sources.now())}
    from bosky.aws import sts
    return sts.assume_role(sources.send, url, region, base, role, sources.now(),
                           sources.timeout_for(STS_TIMEOUT, "STS"))


def from_profile(sources, name, visited=()):
    """Credentials the named profile defines, or None when it defines none."""
    if name in visited:
        raise errors.ValidationError(reason="source_profile loop: " + " -> ".join(
            list(visited) + [name]))
    values = sources.aws.profiles.get(name)
    if values is None:
        if visited:
            raise errors.ValidationError(reason="source_profile {} is not in {}".format(
                name, " or ".join(sources.aws.profiles.sources) or "any AWS config file"))
        return None
    if values.get("role_arn"):
        return assume_profile_role(sources, values, name, list(visited))
    if values.get("credential_process"):
        return credentials.from_process(values["credential_process"], sources.run_process, name)
    return static_keys(values, name)


def providers(sources):
    """[(name, provider)] in the SDKs' order."""
    aws = sources.aws
    chain = [] if aws.profile_from_code else [
        ("environment variables", lambda: credentials.from_environment(sources.env))]
    chain += [
        ("web identity (AWS_WEB_IDENTITY_TOKEN_FILE)", lambda: from_env_web_identity(sources)),
        ("profile {} ({})".format(aws.profile_name, aws.profile_origin),
         lambda: from_profile(sources, aws.profile_name)),
        ("container credentials", lambda: credentials.from_container(
            sources.env, sources.send, sources.read_text,
            sources.timeout_for(CONTAINER_TIMEOUT, "container credentials"))),
        ("instance profile (IMDS)", lambda: credentials.from_instance_profile(sources.imds)),
    ]
    return chain
