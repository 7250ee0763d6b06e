"""The AWS shared config and credentials files, read the way botocore reads them.

Pure functions of the files' text and an environment mapping; reading the
files is the caller's job (`load_profile_files` takes a `read_text`).

Facts (botocore configloader.py, session.py): `[default]` or `[profile NAME]`
in the config file, `[NAME]` in the credentials file, whose values win for
the same profile; `[services NAME]` sections hold per-service settings as
indented sub-keys (`eventbridge =` then `  endpoint_url = ...`); values are
raw (no inline comments, no interpolation).
"""

import os

from bosky import errors

SERVICE_KEYS = {"events": "eventbridge", "sts": "sts", "autoscaling": "auto_scaling", "s3": "s3"}


class Profiles(object):
    """All profiles from both files, plus the `services` sections."""

    def __init__(self, profiles, services, sources):
        self.profiles = profiles  # name -> {key: value}
        self.services = services  # section name -> {service key: {key: value}}
        self.sources = sources    # the file paths that were read, for messages

    def get(self, name):
        return self.profiles.get(name)


def _parse(text, path):
    import configparser  # only runs that find an AWS config file pay for it
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        raise errors.ConfigFileError(path=path, reason="not a valid AWS config file: {}".format(
            str(exc).splitlines()[0]))
    return {section: dict(parser.items(section)) for section in parser.sections()}


def parse_nested(value):
    """{key: value} from an indented sub-key block such as `\\n  endpoint_url = x`."""
    nested = {}
    for line in value.splitlines():
        key, sep, item = line.partition("=")
        if sep and key.strip():
            nested[key.strip()] = item.strip()
    return nested


def parse_files(config_text, credentials_text, config_path="config",
                credentials_path="credentials"):
    """Profiles from the config and credentials files' text (either may be None)."""
    profiles, services, sources = {}, {}, []
    if config_text is not None:
        sources.append(config_path)
        for section, values in _parse(config_text, config_path).items():
            kind, _, name = section.partition(" ")
            if section == "default" or (kind == "profile" and name.strip()):
                profiles.setdefault(name.strip() or "default", {}).update(values)
            elif kind == "services" and name.strip():
                services[name.strip()] = {k: parse_nested(v) for k, v in values.items()}
    if credentials_text is not None:
        sources.append(credentials_path)
        for section, values in _parse(credentials_text, credentials_path).items():
            profiles.setdefault(section.strip(), {}).update(values)  # credentials file wins
    return Profiles(profiles, services, sources)


def file_paths(env, home):
    """(config path, credentials path); None where neither a variable nor HOME gives one."""
    def expand(value):
        value = os.path.expandvars(value)
        if value.startswith("~") and home:
            value = home + value[1:]
        return value

    config = env.get("AWS_CONFIG_FILE") or (os.path.join(home, ".aws", "config") if home
                                            else None)
    credentials = env.get("AWS_SHARED_CREDENTIALS_FILE") or (
        os.path.join(home, ".aws", "credentials") if home else None)
    return (expand(config) if config else None, expand(credentials) if credentials else None)


def load_profile_files(env, home, read_text):
    """Profiles from the files `env`/`home` point at; `read_text(path)` -> text or None."""
    config_path, credentials_path = file_paths(env, home)
    return parse_files(read_text(config_path) if config_path else None,
                       read_text(credentials_path) if credentials_path else None,
                       config_path or "config", credentials_path or "credentials")


def service_setting(profiles, profile, service, key):
    """A per-service setting from the profile's `services` section, or None."""
    section_name = profile.get("services")
    if not section_name:
        return None
    section = profiles.services.get(section_name)
    if section is None:
        raise errors.ValidationError(reason="the profile's services = {!r} names no "
                                            "[services {}] section".format(section_name,
                                                                           section_name))
    return section.get(SERVICE_KEYS.get(service, service), {}).get(key)
