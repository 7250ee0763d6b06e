"""What a run is built from: the outside world (`Deps`) and the parts made from it.

`cli.make_deps` fills `Deps` with the real clock, randomness, HTTP sender and
streams; tests can fill it otherwise.  `Run` makes, from settings and deps,
the deadline, the IMDS client, the sender and the spool that `emit` and
`flush` share, so both build them the same way.
"""

from bosky import credentials, imds, spool
from bosky.deadline import Deadline
from bosky.delivery import Sender


class Deps(object):
    """The outside world, passed in: nothing below cli reads it directly."""

    def __init__(self, env, send, wall_clock, monotonic, sleep, random, token, euid,
                 stdout, log, warn, age=lambda: 0.0):
        self.env = env
        self.send = send              # transport.send with the env bound
        self.wall_clock = wall_clock  # time.time
        self.monotonic = monotonic    # time.monotonic
        self.sleep = sleep            # time.sleep
        self.random = random          # random.random
        self.token = token            # () -> a fresh random hex string
        self.euid = euid
        self.stdout = stdout
        self.log = log                # --debug trace; a no-op otherwise
        self.warn = warn              # a line on stderr, always shown
        self.age = age                # seconds this process has already run


def credential_providers(env, imds_client):
    """The chain, in the SDKs' order; later issues insert more providers here."""
    return [
        ("environment variables", lambda: credentials.from_environment(env)),
        ("instance profile (IMDS)", lambda: credentials.from_instance_profile(imds_client)),
    ]


class Run(object):
    """One run's deadline and the clients that share it."""

    def __init__(self, settings, deps):
        self.settings = settings
        self.deps = deps
        used = deps.age()
        self.deadline = Deadline(settings.timeout, deps.monotonic, already_used=used)
        deps.log("deadline {:g} s, of which start-up used {:.3f} s".format(settings.timeout,
                                                                          used))
        self.imds = imds.ImdsClient(deps.send, deps.env, self.deadline, deps.log)
        self.sender = Sender(deps, self._resolve_credentials, self.deadline,
                             settings.max_attempts)

    def _resolve_credentials(self):
        return credentials.resolve_credentials(credential_providers(self.deps.env, self.imds))

    def spool(self):
        path = self.settings.spool_dir or spool.default_spool_dir(
            self.deps.env, self.deps.euid, spool.is_usable_dir)
        return spool.Spool(path, self.deps.euid)

    def wait_a_little(self):
        """Sleep briefly while the deadline allows; False once it does not."""
        if self.deadline.remaining() < 0.5:
            return False
        self.deps.sleep(0.1)
        return True
