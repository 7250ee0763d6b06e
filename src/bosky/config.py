"""Settings precedence: flags > environment > config file > defaults.

A pure function of its inputs: the parsed flags, an environment mapping and
the config file's text.  It never reads os.environ, files or the network;
values only IMDS can supply (instance identity, a last-resort region) are
resolved later, in `emit`.  Each setting remembers where it came from, so
errors and --debug can say "from AWS_REGION".

The config file (default /etc/bosky/config) holds `key = value` lines;
`key: value` is accepted too, so beacon's one-line YAML (`project: x`) works.
"""

from bosky import errors, events
from bosky.aws import endpoints

DEFAULT_CONFIG_PATH = "/etc/bosky/config"
DEFAULT_PROJECT = "unknown"
DEFAULT_DETAIL_TYPE = "User Data"
DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 86400.0

FILE_KEYS = ("project", "detail_type", "event_bus", "region", "endpoint_url", "timeout",
             "max_attempts", "spool_dir", "profile")

# setting -> (flag, environment variables in order, config file key, default)
SOURCES = {
    "project": ("--project", ("BOSKY_PROJECT", "BOSKEY_PROJECT"), "project", DEFAULT_PROJECT),
    "detail_type": ("--detail-type", ("BOSKY_DETAIL_TYPE",), "detail_type", DEFAULT_DETAIL_TYPE),
    "event_bus": ("--event-bus", ("BOSKY_EVENT_BUS",), "event_bus", None),
    "region": ("--region", ("AWS_REGION", "AWS_DEFAULT_REGION"), "region", None),
    # The AWS variables and profile keys for endpoints and profiles are resolved with
    # the profile (endpoints.resolve_url, profiles.profile_name), which they interleave with.
    "endpoint_url": ("--endpoint-url", (), "endpoint_url", None),
    "profile": ("--profile", (), "profile", None),
    "instance_id": ("--instance-id", ("BOSKY_INSTANCE_ID",), None, None),
    "timeout": ("--timeout", ("BOSKY_TIMEOUT",), "timeout", DEFAULT_TIMEOUT),
    # None: keep retrying until the deadline (boot favours persistence over a fixed count).
    "max_attempts": ("--max-attempts", ("AWS_MAX_ATTEMPTS",), "max_attempts", None),
    "spool_dir": ("--spool-dir", ("BOSKY_SPOOL_DIR",), "spool_dir", None),
}


# Settings that become event text: made valid UTF-8 here, where every source meets.
EVENT_TEXT = ("project", "detail_type")


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


def first_set(flag_value, env, env_names, file_values, file_key, config_path):
    """(value, origin) of the first source that sets a value, or (None, None)."""
    if flag_value is not None:
        return flag_value, None  # origin filled in by the caller with the flag name
    for name in env_names:
        if env.get(name, "").strip():
            return env[name].strip(), name
    if file_key and file_values.get(file_key, ""):
        return file_values[file_key], config_path
    return None, None


def parse_timeout(value, origin):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 < seconds <= MAX_TIMEOUT:
        raise errors.ValidationError(reason="invalid timeout {!r} from {}: expected seconds, "
                                            "more than 0 and at most {:g}".format(
                                                value, origin, MAX_TIMEOUT))
    return seconds


def parse_max_attempts(value, origin):
    try:
        attempts = int(value)
    except (TypeError, ValueError):
        attempts = 0
    if attempts < 1:
        raise errors.ValidationError(reason="invalid max attempts {!r} from {}: expected a "
                                            "whole number, 1 or more".format(value, origin))
    return attempts


def resolve_settings(flags, env, file_values, config_path):
    """Settings from the flag values (dict, None = not given), env and config file."""
    values, origin = {}, {}
    for name, (flag, env_names, file_key, default) in SOURCES.items():
        value, where = first_set(flags.get(name), env, env_names, file_values, file_key,
                                 config_path)
        if value is None:
            value, where = default, "default"
        values[name], origin[name] = value, where or flag
    for name in EVENT_TEXT:  # undecodable argv/env bytes arrive as lone surrogates
        values[name] = events.sanitize_text(values[name])
    values["timeout"] = parse_timeout(values["timeout"], origin["timeout"])
    if values["max_attempts"] is not None:
        values["max_attempts"] = parse_max_attempts(values["max_attempts"],
                                                    origin["max_attempts"])
    values["no_spool"] = bool(flags.get("no_spool"))
    values["no_context"] = bool(flags.get("no_context"))
    values["details"] = events.parse_detail_options(flags.get("details"))
    values["complete_lifecycle"] = flags.get("complete_lifecycle")
    values["group"] = flags.get("group")
    if values["region"] is not None:
        endpoints.check_region(values["region"], origin["region"])
    if values["endpoint_url"] is not None:
        endpoints.check_endpoint_url(values["endpoint_url"], origin["endpoint_url"])
    if values["event_bus"] is not None:
        events.check_event_bus(values["event_bus"])
    return Settings(values, origin)
