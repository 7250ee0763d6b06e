"""The bootstrap's variables: `key=value` user data, --var overrides, init-file patterns.

User data of `key=value` lines (the seed's `environment=prod`, `role=memcached`,
`context=b`; comments and blank lines allowed) gives variables; any other kind
of user data -- a `#!` script, `#cloud-config`, `#include`, MIME, gzip --
gives none: cloud-init acts on those, and ignores headerless key=value text
("Unhandled non-multipart (text/x-not-multipart) userdata"), so both coexist.
Names are exported to the modules' environment, so only lower-case names are
allowed (upper-case ones are the environment's own: PATH, LD_PRELOAD, BASH_ENV,
GLIBC_TUNABLES, HTTPS_PROXY...), and not the lower-case few tools still read.
Pure functions.
"""

import re

from bosky import errors

NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Lower-case names still read by tools the modules run: proxies (curl, wget, pip...) and
# zsh's arrays tied to PATH-like variables.  Upper-case names are the environment's own
# (PATH, LD_PRELOAD, BASH_ENV, GLIBC_TUNABLES, HTTPS_PROXY...): none is allowed.
REFUSED_NAMES = frozenset(("http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy",
                           "rsync_proxy", "socks_proxy", "gopher_proxy", "wais_proxy", "path",
                           "cdpath", "fpath", "manpath", "mailpath", "module_path"))
OTHER_KINDS = (b"#!", b"#cloud-config", b"#include", b"#cloud-boothook", b"#part-handler",
               b"#upstart-job", b"Content-Type:", b"MIME-Version:", b"\x1f\x8b")
BOM = b"\xef\xbb\xbf"
MALFORMED = "not key=value text:"  # the start of a reason that deserves a warning
MAX_VALUE_CHARS = 4096
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
DEFAULT_INIT = ("$context/$environment/$machine_id.sh", "$context/$environment/bootstrapper.sh",
                "$context/bootstrapper.sh")


def check_name(name, origin):
    if not NAME.fullmatch(name):
        raise errors.ValidationError(reason="variable name {!r} from {}: use lower-case letters, "
                                            "digits and _, starting with a letter (upper-case "
                                            "names are the environment's own)".format(
                                                name[:80], origin))
    if name in REFUSED_NAMES:
        raise errors.ValidationError(reason="variable {} from {} would change how the modules' "
                                            "tools run; choose another name".format(
                                                name, origin))
    return name


def _unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _clean_value(value, name, origin):
    if len(value) > MAX_VALUE_CHARS or any(ord(c) < 32 and c != "\t" for c in value):
        raise errors.ValidationError(reason="the value of {} from {} is over {} characters or "
                                            "holds a line break or control character".format(
                                                name, origin, MAX_VALUE_CHARS))
    return value


def parse_user_data(data, origin="user data"):
    """({name: value}, why none) from user data bytes: variables when every line is
    `key=value` (or a comment, or blank), else none and the reason."""
    if data is None:
        return {}, "no user data"
    if data.startswith(BOM):  # Notepad's, PowerShell's
        data = data[len(BOM):]
    if data.lstrip().startswith(OTHER_KINDS):
        return {}, "the user data is another kind (a script, cloud-config, MIME or gzip)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {}, MALFORMED + " it is not UTF-8"
    found = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("export "):  # the same file, sourced by a shell script
            line = line[len("export "):].lstrip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name.strip()):
            return {}, MALFORMED + " line {} is not NAME=VALUE".format(number)
        name = check_name(name.strip(), "{} line {}".format(origin, number))
        found[name] = _clean_value(_unquote(value), name, origin)
    return found, None if found else "the user data holds no key=value line"


def parse_var_options(options):
    """{name: value} from repeated --var KEY=VALUE."""
    found = {}
    for option in options or ():
        name, sep, value = option.partition("=")
        if not sep:
            raise errors.UsageError(reason="--var {!r}: expected KEY=VALUE".format(option))
        name = check_name(name, "--var")
        found[name] = _clean_value(value, name, "--var")
    return found


def expand(pattern, variables):
    """(path, None) with each $name / ${name} replaced, or (None, why) when a variable is
    unset or its value could leave the bundle (a /, .., or an empty part)."""
    missing = [m.group(1) or m.group(2) for m in VARIABLE.finditer(pattern)
               if (m.group(1) or m.group(2)) not in variables]
    if missing:
        return None, "${} is not set".format(missing[0])
    for match in VARIABLE.finditer(pattern):
        value = variables[match.group(1) or match.group(2)]
        if not value or "/" in value or value in (".", "..") or "\x00" in value:
            return None, "${} = {!r} is not a file name".format(match.group(1) or match.group(2),
                                                                value)
    path = VARIABLE.sub(lambda m: variables[m.group(1) or m.group(2)], pattern)
    parts = path.split("/")
    if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return None, "{!r} is not a path inside the bundle".format(path)
    return path, None
