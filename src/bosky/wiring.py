"""What a run is built from: the outside world (`Deps`) and the parts made from it.

`cli.make_deps` fills `Deps` with the real clock, randomness, HTTP sender,
files and streams; tests can fill it otherwise.  `Run` makes, from settings
and deps, everything `emit`, `flush` and `doctor` share: the deadline, the
AWS profile, the IMDS client, the credential chain, the sender and the spool.
"""

import datetime
import functools
import os

from bosky import chain, credentials, errors, profiles
from bosky.aws import imds
from bosky.deadline import Deadline
from bosky.delivery import Sender


class Deps(object):
    """The outside world, passed in: nothing below cli reads it directly."""

    def __init__(self, env, send, wall_clock, monotonic, sleep, random, token, euid,
                 stdout, log, warn, age=lambda: 0.0, read_text=lambda path: None, home=None,
                 run_process=None, error_line=None, files=None):
        self.env = env
        self.send = send              # transport.send with the env bound
        self.wall_clock = wall_clock  # time.time
        self.monotonic = monotonic    # time.monotonic
        self.sleep = sleep            # time.sleep
        self.random = random          # random.random
        self.token = token            # () -> a fresh random UUID string
        self.euid = euid
        self.stdout = stdout
        self.log = log                # --debug trace; a no-op otherwise
        self.warn = warn              # a line on stderr, always shown
        self.age = age                # seconds this process has already run
        self.read_text = read_text    # path -> text, or None if missing or unreadable
        self.home = home              # the user's home directory, or None
        self.run_process = run_process  # argv -> (exit status, stdout bytes, stderr bytes)
        self.error_line = error_line or warn  # a whole line on stderr, as cli.main prints
        self.files = files            # system: read_tail, is_dir, touch (boot-report)


class AwsConfig(object):
    """The AWS shared files and the profile this run uses."""

    def __init__(self, settings, deps):
        self.profile_name, self.profile_origin, explicit = profiles.profile_name(
            settings.profile if settings.origin["profile"] == "--profile" else None, deps.env,
            settings.profile, settings.origin["profile"])
        # A profile chosen by bosky itself (flag or config file) skips environment keys,
        # as `aws --profile` does; one chosen by AWS_PROFILE does not.
        self.profile_from_code = self.profile_origin not in (
            "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "default")
        self.profiles = profiles.load_profile_files(deps.env, deps.home, deps.read_text)
        self.profile = profiles.select_profile(self.profiles, self.profile_name,
                                               self.profile_origin, explicit)

    def ca_bundle(self, env, read_check):
        """AWS_CA_BUNDLE, else the profile's ca_bundle; None for the system store."""
        path = env.get("AWS_CA_BUNDLE") or self.profile.get("ca_bundle")
        if path and not read_check(path):
            raise errors.ValidationError(reason="the CA bundle {} (AWS_CA_BUNDLE or ca_bundle) "
                                                "cannot be read; point it at a PEM file"
                                                .format(path))
        return path or None


class Run(object):
    """One run's deadline and the clients that share it."""

    def __init__(self, settings, deps, count_startup=True):
        self.settings = settings
        self.deps = deps
        used = deps.age() if count_startup else 0.0
        self.deadline = Deadline(settings.timeout, deps.monotonic, already_used=used)
        deps.log("deadline {:g} s, of which start-up used {:.3f} s".format(settings.timeout,
                                                                          used))
        self.aws = AwsConfig(settings, deps)
        deps.log("AWS profile {} from {}{}".format(
            self.aws.profile_name, self.aws.profile_origin,
            " (" + ", ".join(self.aws.profiles.sources) + ")" if self.aws.profiles.sources
            else " (no AWS config files)"))
        self.ca_bundle = self.aws.ca_bundle(deps.env, lambda p: deps.read_text(p) is not None)
        self.send = functools.partial(deps.send, ca_bundle=self.ca_bundle)
        self.imds = imds.ImdsClient(deps.send, deps.env, self.deadline, deps.log)
        self.region = None  # set once resolved; STS uses it
        self.sources = chain.Sources(
            deps.env, self.aws, self.imds, self.send, deps.read_text, deps.run_process,
            self.now, self.deadline.timeout_for, lambda: self.region or self.configured_region())
        self.sender = Sender(deps, self.send, self._resolve_credentials, self.deadline,
                             settings.max_attempts)

    def now(self):
        return datetime.datetime.fromtimestamp(self.sender.now(), datetime.timezone.utc)

    def configured_region(self):
        """(Without IMDS) --region, AWS_REGION, AWS_DEFAULT_REGION, config, the profile's."""
        return self.settings.region or self.aws.profile.get("region") or None

    def _resolve_credentials(self):
        return credentials.resolve_credentials(chain.providers(self.sources))

    def spool_path(self):
        return self.settings.spool_dir or default_spool_dir(self.deps.env, self.deps.euid,
                                                            is_usable_dir)

    def spool(self):
        from bosky import spool
        return spool.Spool(self.spool_path(), self.deps.euid)

    def wait_a_little(self):
        """Sleep briefly while the deadline allows; False once it does not."""
        if self.deadline.remaining() < 0.5:
            return False
        self.deps.sleep(0.1)
        return True


SYSTEM_SPOOL = "/var/spool/bosky"


def is_usable_dir(path):
    """Whether `path` is a writable directory, or could be created as one."""
    if os.path.isdir(path):
        return os.access(path, os.W_OK | os.X_OK)
    parent = os.path.dirname(path.rstrip("/"))
    return os.path.isdir(parent) and os.access(parent, os.W_OK | os.X_OK)


def default_spool_dir(env, euid, writable):
    """/var/spool/bosky when usable, else the user's state directory (XDG), else /var/tmp.

    `writable(path)` says whether a directory can be created or written there.
    """
    if writable(SYSTEM_SPOOL):
        return SYSTEM_SPOOL
    state = env.get("XDG_STATE_HOME") or (
        os.path.join(env["HOME"], ".local", "state") if env.get("HOME") else "")
    if state:
        return os.path.join(state, "bosky", "spool")
    return "/var/tmp/bosky-{}/spool".format(euid)  # no HOME at boot: still survives reboots
