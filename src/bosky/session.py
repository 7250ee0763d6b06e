"""One session per process: what bosky learns once, shared by every event, step, hook
call and flush of the process.

It holds the settings (resolved once, by `settings.resolve`), the outside
world (`system.World`), the HTTP transport (its openers and TLS contexts), the
IMDS client (its token, memoized answers, an "unreachable" memo), the
credentials (refreshed near expiry), the clock offset learned from AWS's
`Date` headers, and the instance: identity, region and context, each asked
of IMDS at most once.  Deadlines are not the session's: each command, and
each event of a `run` step, takes its own from `deadline()`.
"""

import datetime
import os

from bosky import credentials, errors, identity, providers
from bosky.aws import endpoints, imds
from bosky.deadline import Deadline

SYSTEM_SPOOL = "/var/spool/bosky"
MIN_SKEW_SECONDS = 60.0  # below this the clock is not why a signature was refused


class Clock(object):
    """The process's clocks: wall time corrected by what a service's Date header showed."""

    def __init__(self, world):
        self.wall, self.monotonic, self.sleep = world.wall_clock, world.monotonic, world.sleep
        self.offset = 0.0

    def now(self):
        """Epoch seconds by the local clock, corrected by any offset a service showed us."""
        return self.wall() + self.offset

    def utcnow(self):
        return datetime.datetime.fromtimestamp(self.now(), datetime.timezone.utc)

    def learn(self, server_epoch):
        """Take the service's time as right when the local clock is a minute or more off;
        returns the offset learned, or None (no change)."""
        if server_epoch is None:
            return None
        offset = server_epoch - self.wall()
        if abs(offset) < MIN_SKEW_SECONDS:
            return None
        self.offset = offset
        return offset


class Session(object):
    """Everything one bosky process shares; built by the CLI for the commands."""

    def __init__(self, settings, world):
        import _thread  # `bosky run` resolves the instance from the start event's thread too
        self.settings, self.world, self.log = settings, world, world.log
        self.clock = Clock(world)
        self._http = None
        self.imds = imds.ImdsClient(self._request, settings, world.monotonic, world.log,
                                    remember_failures=True)
        self.credentials = credentials.Cache(lambda deadline: providers.resolve(self, deadline),
                                             self.clock, self.log)
        self._lock = _thread.allocate_lock()
        self._identity = self._region = self._context = None
        self._started_deadlines = 0

    @property
    def http(self):
        """The transport, built on first use: urllib.request costs 35-50 ms to import."""
        if self._http is None:
            from bosky import transport
            self._http = transport.Transport(self.world.env, self.ca_bundle(), self.log)
        return self._http

    def _request(self, *args, **kwargs):
        return self.http.request(*args, **kwargs)

    def ca_bundle(self):
        """AWS_CA_BUNDLE, else the profile's ca_bundle; None for the system's trust store."""
        path = self.settings.ca_bundle
        if not path:
            return None
        text = self.world.read_text(path)
        if text is None or "-----BEGIN CERTIFICATE-----" not in text:
            raise errors.ValidationError(reason="the CA bundle {} (from {}) {}; point it at a "
                                                "PEM file of CA certificates".format(
                                                    path, self.settings.origin["ca_bundle"],
                                                    "cannot be read" if text is None else
                                                    "holds no PEM certificate"))
        return path

    def deadline(self, seconds=None, option="--timeout"):
        """A fresh deadline of `seconds` (default --timeout), set by `option`.  The
        process's first is charged its start-up: on a busy boot the interpreter alone can
        take seconds."""
        seconds = self.settings.timeout if seconds is None else seconds
        self._started_deadlines += 1
        used = self.world.age() if self._started_deadlines == 1 else 0.0
        self.log("deadline {:g} s{}".format(seconds, ", of which start-up used {:.3f} s".format(
            used) if used else ""))
        return Deadline(seconds, self.world.monotonic, already_used=used, option=option)

    def recover(self, kind, error, deadline):
        """Learn from a SKEW or EXPIRED error: the service's clock, or fresh credentials.
        True when the same request is worth another try."""
        from bosky import retry
        if kind == retry.EXPIRED:
            self.log("the service says the credentials expired; fetching them again")
            self.credentials.get(deadline, refresh=True)
            return True
        offset = self.clock.learn(retry.parse_http_date(error.fields.get("server_date") or ""))
        if offset is not None:
            self.log("the local clock is {:+.0f} s off the service's Date; re-signing with "
                     "the service's time".format(-offset))
        return offset is not None

    # -- the instance ------------------------------------------------------------------

    def identity(self, deadline):
        """Which instance reports: --instance-id / BOSKY_INSTANCE_ID, else IMDS."""
        with self._lock:
            if self._identity is None:
                self._identity = self._find_identity(deadline)
            return self._identity

    def _find_identity(self, deadline):
        given, origin = self.settings.instance_id, self.settings.origin["instance_id"]
        if given:
            found = identity.from_given_id(given, origin)
            self.log("instance {} from {}".format(found.instance_id, origin))
            return found
        document = self.imds.get(imds.IDENTITY_DOCUMENT, deadline)
        partition = self.imds.get(imds.PARTITION, deadline, optional=True)
        found = identity.from_identity_document(
            document, partition.decode("ascii", "replace").strip() if partition else None)
        self.log("instance {} ({}) from the IMDS identity document".format(
            found.instance_id, found.resource))
        return found

    def region(self, deadline):
        """(region, origin): the configured one, else the instance's own."""
        if self._region is None:
            self._region = self._find_region(deadline)
            self.log("region {} from {}".format(*self._region))
        return self._region

    def _find_region(self, deadline):
        if self.settings.region:
            return self.settings.region, self.settings.origin["region"]
        found = self.identity(deadline)
        if found.region:
            return found.region, "the instance identity"
        _, region, _ = identity.parse_identity_document(
            self.imds.get(imds.IDENTITY_DOCUMENT, deadline))
        return region, "the IMDS identity document"

    def known_region(self):
        """The region if it is configured or already found, else None (asks nobody)."""
        return self._region[0] if self._region else self.settings.region

    def context(self, deadline):
        """The instance context for events ({} with --no-context or --instance-id)."""
        with self._lock:
            if self._context is None:
                if self.settings.no_context or self.settings.instance_id:
                    self._context = {}
                else:
                    from bosky import context
                    self._context = context.fetch_context(self.imds, deadline,
                                                          self.world.read_text, self.log)
            return self._context

    # -- where requests go -------------------------------------------------------------

    def endpoint(self, service, region):
        """(URL, origin) for `service` in `region`: a configured override, else its host."""
        settings = self.settings
        return endpoints.resolve_url(service, region, settings.endpoints[service],
                                     settings.use_fips, settings.use_dualstack)

    def spool_path(self):
        return self.settings.spool_dir or default_spool_dir(self.world.env, self.world.euid,
                                                            is_usable_dir)

    def spool(self):
        from bosky import spool
        return spool.Spool(self.spool_path(), self.world.euid)

    def spool_waits(self):
        """Whether the spool holds any record (a directory listing, no spool code)."""
        try:
            return any(name.endswith(".json") and not name.startswith(".")
                       for name in os.listdir(self.spool_path()))
        except OSError:
            return False


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
