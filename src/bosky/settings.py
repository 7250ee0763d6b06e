"""Settings, resolved once per process: flags > environment > bosky's file > the AWS profile
> (the instance, through IMDS: the session's job) > defaults.

A pure function of its inputs: the parsed flags, an environment mapping, the
config file's values and the parsed AWS files.  It reads no files, no
environment, no clock.  Each setting has one precedence table below; every
value from every source is checked here, so a bad one is one clear usage error
naming where it came from.  `origin[name]` records that source for `doctor`,
`--debug` and error messages; code that uses a setting reads its value only.

bosky's config file (default /etc/bosky/config) holds `key = value` lines;
`key: value` is accepted too, so beacon's one-line YAML (`project: x`) works.
"""

from bosky import errors, events, profiles, urls
from bosky.aws import endpoints

DEFAULT_CONFIG_PATH = "/etc/bosky/config"
DEFAULT_PROJECT = "unknown"
DEFAULT_DETAIL_TYPE = "User Data"
DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 86400.0
FILE_KEYS = ("project", "detail_type", "event_bus", "region", "endpoint_url", "timeout",
             "max_attempts", "spool_dir", "profile")

FLAG = ("flag", None)


def env(name):
    return ("env", name)


def file(key):
    return ("file", key)


def profile(key):
    return ("profile", key)


# One precedence table per setting: the first source that gives a value wins.
PROFILE_SOURCES = (FLAG, env("AWS_PROFILE"), env("AWS_DEFAULT_PROFILE"), file("profile"))
PRECEDENCE = {
    "project": (FLAG, env("BOSKY_PROJECT"), env("BOSKEY_PROJECT"), file("project")),
    "detail_type": (FLAG, env("BOSKY_DETAIL_TYPE"), file("detail_type")),
    "event_bus": (FLAG, env("BOSKY_EVENT_BUS"), file("event_bus")),
    "instance_id": (FLAG, env("BOSKY_INSTANCE_ID")),
    "timeout": (FLAG, env("BOSKY_TIMEOUT"), file("timeout")),
    # None: keep retrying until the deadline (boot favours persistence over a fixed count).
    "max_attempts": (FLAG, env("AWS_MAX_ATTEMPTS"), file("max_attempts"),
                     profile("max_attempts")),
    "spool_dir": (FLAG, env("BOSKY_SPOOL_DIR"), file("spool_dir")),
    # Region: after these, the instance's own (an --instance-id ARN, or IMDS).
    "region": (FLAG, env("AWS_REGION"), env("AWS_DEFAULT_REGION"), file("region"),
               profile("region")),
    "ca_bundle": (env("AWS_CA_BUNDLE"), profile("ca_bundle")),
    "use_fips": (env("AWS_USE_FIPS_ENDPOINT"), profile("use_fips_endpoint")),
    "use_dualstack": (env("AWS_USE_DUALSTACK_ENDPOINT"), profile("use_dualstack_endpoint")),
    "ignore_endpoint_urls": (env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"),
                             profile("ignore_configured_endpoint_urls")),
    "imds_endpoint": (env("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
                      profile("ec2_metadata_service_endpoint")),
    "imds_endpoint_mode": (env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"),
                           profile("ec2_metadata_service_endpoint_mode")),
    "imds_disabled": (env("AWS_EC2_METADATA_DISABLED"),),
    "imds_v1_disabled": (env("AWS_EC2_METADATA_V1_DISABLED"),
                         profile("ec2_metadata_v1_disabled")),
    "imds_timeout": (env("AWS_METADATA_SERVICE_TIMEOUT"), profile("metadata_service_timeout")),
    "imds_attempts": (env("AWS_METADATA_SERVICE_NUM_ATTEMPTS"),
                      profile("metadata_service_num_attempts")),
}
DEFAULTS = {"project": DEFAULT_PROJECT, "detail_type": DEFAULT_DETAIL_TYPE,
            "timeout": DEFAULT_TIMEOUT, "imds_timeout": 1.0, "imds_attempts": 1}
# Settings that become event text: made valid UTF-8 here, where every source meets.
EVENT_TEXT = ("project", "detail_type")
BOOLEANS = ("use_fips", "use_dualstack", "ignore_endpoint_urls", "imds_disabled",
            "imds_v1_disabled")


class Settings(object):
    """Resolved values; `origin[name]` says which flag, variable or file gave each."""

    def __init__(self, values, origin):
        self.__dict__.update(values)
        self.origin = origin


def parse_config_text(text, path):
    """{key: value} from the config file's text; unknown keys are errors (typos)."""
    values = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")) or line == "---":
            continue
        sep = min((i for i in (line.find("="), line.find(":")) if i > 0), default=-1)
        if sep < 0:
            raise errors.ConfigFileError(path=path, reason="line {}: expected 'key = value', "
                                                           "got {!r}".format(number, line))
        key = line[:sep].strip().lower().replace("-", "_")
        value = line[sep + 1:].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if key not in FILE_KEYS:
            raise errors.ConfigFileError(path=path, reason="line {}: unknown key {!r}; known "
                                         "keys: {}".format(number, key, ", ".join(FILE_KEYS)))
        values[key] = value
    return values


class _Sources(object):
    """Where values can come from, and how each source is named in messages."""

    def __init__(self, flags, env_map, file_values, config_path, profile_name, profile_values):
        self.flags, self.env, self.file = flags, env_map, file_values
        self.config_path, self.profile_name = config_path, profile_name
        self.profile = profile_values

    def first(self, name, table, flag_name=None):
        """(value, origin) of the first source in `table` with a value, or (None, None)."""
        for kind, key in table:
            if kind == "flag":
                value, origin = self.flags.get(name), flag_name or "--" + name.replace("_", "-")
            elif kind == "env":
                value, origin = self.env.get(key, "").strip() or None, key
            elif kind == "file":
                value, origin = self.file.get(key) or None, self.config_path
            else:
                value = self.profile.get(key, "").strip() or None
                origin = "profile {} ({})".format(self.profile_name, key)
            if value is not None:
                return value, origin
        return None, None


def choose_profile(flags, env_map, file_values, config_path, aws_files):
    """(name, origin, values): the AWS profile in use; a named one must exist."""
    sources = _Sources(flags, env_map, file_values, config_path, None, {})
    name, origin = sources.first("profile", PROFILE_SOURCES)
    values = aws_files.get(name or "default")
    if values is None and name is not None:
        raise errors.ValidationError(
            reason="the AWS profile {!r} (from {}) is not in {}".format(
                name, origin, " or ".join(aws_files.sources) or "any AWS config file (none "
                "found: set AWS_CONFIG_FILE or HOME)"))
    return name or "default", origin or "default", values or {}


def resolve(flags, env_map, file_values, config_path, aws_files, endpoint_service="events",
            own=None, sends_events=True):
    """Settings from the flags (dict; None = not given), environment, bosky's config file
    and the AWS files.  `endpoint_service` is the service --endpoint-url points at; `own`
    is {setting: (table, default)} for a command whose setting means something else (the
    deadline of an S3 transfer is not an event's: only its own flag sets it).  A command
    that sends no event (`sends_events` False) is not refused for an event setting it
    never uses (a bad BOSKY_EVENT_BUS must not stop `bosky s3 cp`)."""
    own = own or {}
    name, profile_origin, profile_values = choose_profile(flags, env_map, file_values,
                                                          config_path, aws_files)
    sources = _Sources(flags, env_map, file_values, config_path, name, profile_values)
    values = {"profile": name, "profile_values": profile_values, "aws_files": aws_files,
              # A profile chosen by bosky itself (flag or config file) skips the
              # environment's keys, as `aws --profile` does; AWS_PROFILE does not.
              "skip_env_credentials": profile_origin in ("--profile", config_path)}
    origin = {"profile": profile_origin}
    for setting, table in PRECEDENCE.items():
        table, default = own.get(setting, (table, DEFAULTS.get(setting)))
        value, where = sources.first(setting, table)
        if value is None:
            value, where = default, "default"
        values[setting], origin[setting] = value, where
    if not sends_events:
        values["event_bus"] = None
    _check(values, origin)
    values["endpoints"] = {service: endpoint_override(service, sources, flags, values,
                                                      endpoint_service)
                           if sends_events or service != "events" else (None, None)
                           for service in endpoints.SERVICES}
    for flag in ("no_spool", "no_context"):
        values[flag] = bool(flags.get(flag))
    values["details"] = events.parse_detail_options(flags.get("details"))
    values["complete_lifecycle"] = flags.get("complete_lifecycle")
    values["group"] = flags.get("group")
    values["buckets"] = list(flags.get("buckets") or ())
    return Settings(values, origin)


def _check(values, origin):
    """Parse and check every value, naming its source when it is wrong."""
    for name in EVENT_TEXT:  # undecodable argv/env bytes arrive as lone surrogates
        values[name] = events.sanitize_text(values[name])
    for name in BOOLEANS:
        values[name] = str(values[name] or "").strip().lower() == "true"
    values["timeout"] = parse_seconds(values["timeout"], origin["timeout"], "timeout")
    values["imds_timeout"] = parse_seconds(values["imds_timeout"], origin["imds_timeout"],
                                           "instance metadata timeout")
    for name in ("max_attempts", "imds_attempts"):
        if values[name] is not None:
            values[name] = parse_count(values[name], origin[name])
    if values["region"] is not None:
        values["region"] = endpoints.check_region(values["region"], origin["region"])
    if values["event_bus"] is not None:
        events.check_event_bus(values["event_bus"])
    if values["imds_endpoint"] is not None:
        values["imds_endpoint"] = check_url(values["imds_endpoint"], origin["imds_endpoint"],
                                            "instance metadata endpoint").rstrip("/")


def endpoint_override(service, sources, flags, values, flag_service):
    """(URL, origin) configured for `service`, or (None, None) for its default host.

    flag (when --endpoint-url points at this service) > AWS_ENDPOINT_URL_<SERVICE> >
    AWS_ENDPOINT_URL > bosky's config file (EventBridge only) > the profile's
    [services] section > the profile's endpoint_url.  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
    (or the profile key) drops the variables and the profile's values, as in botocore.
    """
    variable = "AWS_ENDPOINT_URL_" + endpoints.SERVICES[service][1]
    ignore = values["ignore_endpoint_urls"]
    candidates = [(flags.get("endpoint_url"), "--endpoint-url")] if service == flag_service \
        else []
    if not ignore:
        candidates += [(sources.env.get(variable, "").strip(), variable),
                       (sources.env.get("AWS_ENDPOINT_URL", "").strip(), "AWS_ENDPOINT_URL")]
    if service == "events":
        candidates.append((sources.file.get("endpoint_url"), sources.config_path))
    if not ignore:
        candidates += [
            (profiles.service_setting(values["aws_files"], sources.profile, service,
                                      "endpoint_url"), "the profile's services section"),
            (sources.profile.get("endpoint_url"), "the profile's endpoint_url")]
    for url, where in candidates:
        if url and url.strip():
            return check_url(url.strip(), where, "endpoint URL"), where
    return None, None


def check_url(url, origin, what):
    """An absolute http(s) URL with a host and no user:password (never printed)."""
    if urls.has_userinfo(url):
        raise errors.ValidationError(reason="the {} {} from {} holds a user name or password; "
                                            "AWS endpoints take none: remove it".format(
                                                what, urls.shown(url), origin))
    if urls.split_url(url) is None:
        raise errors.ValidationError(reason="invalid {} {!r} from {}: expected "
                                            "http(s)://host[:port][/path]".format(
                                                what, url, origin))
    return url


def parse_seconds(value, origin, what):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= MAX_TIMEOUT:  # also refuses nan and inf
        raise errors.ValidationError(reason="invalid {} {!r} from {}: expected seconds, "
                                            "more than 0 and at most {:g}".format(
                                                what, value, origin, MAX_TIMEOUT))
    return seconds


def parse_count(value, origin):
    try:
        count = int(str(value).strip())
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= 1000:
        raise errors.ValidationError(reason="invalid number of attempts {!r} from {}: expected "
                                            "a whole number from 1 to 1000".format(value, origin))
    return count


CONFIG_TEMPLATE = """\
# bosky configuration ({path})
# Precedence: flags > environment variables > this file > defaults.
# One `key = value` per line; lines starting with # are comments.

# The event's Source; EventBridge rules match it as "source".  Not "aws.*".
# project = my-service

# The event's detail-type (1-128 characters).
# detail_type = {detail_type}

# A custom event bus, by name or ARN; unset means the account's default bus.
# event_bus = boot-events

# The AWS region; unset means AWS_REGION, AWS_DEFAULT_REGION, the AWS
# profile's region, then the instance's own from the instance metadata service.
# region = us-east-1

# The AWS profile (from ~/.aws/config and ~/.aws/credentials) for credentials,
# region and endpoints; AWS_PROFILE overrides it.  Unset: environment keys,
# then the default profile, container and instance-profile credentials.
# profile = boot-reporter

# Send to this URL instead of events.<region>.amazonaws.com (for example a
# VPC interface endpoint without private DNS).
# endpoint_url = https://vpce-0123-abcd.events.us-east-1.vpce.amazonaws.com

# Seconds bosky may take in all, retries included, before it gives up
# (and spools the event for `bosky flush`).
# timeout = {timeout:g}

# Stop retrying after this many attempts (unset: retry until the timeout).
# max_attempts = 5

# Where undelivered events wait; unset means /var/spool/bosky when writable,
# else the user's state directory.
# spool_dir = /var/spool/bosky
"""


def config_template(path):
    return CONFIG_TEMPLATE.format(path=path, detail_type=DEFAULT_DETAIL_TYPE,
                                  timeout=DEFAULT_TIMEOUT)
