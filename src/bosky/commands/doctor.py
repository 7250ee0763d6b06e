"""`bosky doctor`: what bosky would use, and whether an event could be sent.

One line per check: version, profile, IMDS, instance, region, endpoint,
proxy, CA bundle, credentials (their source, never a secret), the clock
against the endpoint's Date header, and a PutEvents signed but not sent.
Unlike every other command, doctor turns each check's error into a report
line instead of stopping at the first: showing them all is its job.  The
first failure's message, with its fix, is the closing line (exit 1).
"""

import sys

from bosky import __version__, errors, events, loaded_from, retry, urls
from bosky.aws import eventbridge, imds, sigv4
from bosky.commands import options

NAME = "doctor"
HINT = "bosky doctor"
SUMMARY = "check the setup, one line per check"
ENDPOINT_SERVICE = "events"
USAGE = "bosky doctor [OPTIONS]"
DESCRIPTION = """\
Check what bosky would use and whether an event could be sent: version,
AWS profile, instance metadata, instance, region, endpoint, proxy, CA bundle,
credentials (their source, never a secret), the clock against the endpoint's,
and a PutEvents request signed but not sent.
"""
EPILOG = """\
exit status:
  0  an event could be sent
  1  something stops it: the closing line names the first problem and its fix
  2  usage error
"""
CLOCK_TOLERANCE_SECONDS = 60.0


def add_arguments(parser):
    parser.add_argument("--bucket", metavar="NAME",
                        help="also say where bosky s3 cp would send this bucket's requests")
    options.add_aws(parser)
    options.add_common(parser)


class Report(object):
    def __init__(self, stdout):
        self._stdout = stdout
        self.first_failure = None

    def line(self, state, label, text):
        self._stdout.write("{:<5} {:<12} {}\n".format(state, label, text))

    def check(self, label, probe, required=True):
        """Run `probe` -> text; a BoskyError becomes a FAIL line (or WARN if not required)."""
        try:
            text = probe()
        except errors.BoskyError as exc:
            self.line("FAIL" if required else "warn", label, exc.message)
            if required and self.first_failure is None:
                self.first_failure = exc
            return False
        self.line("ok", label, text)
        return True


class Checks(object):
    """The checks, sharing one deadline and what each found."""

    def __init__(self, session):
        self.session, self.deadline = session, session.deadline()
        self.target = self.credentials = self.probe = None

    def imds(self):
        client = self.session.imds
        if client.disabled:
            return "disabled by AWS_EC2_METADATA_DISABLED"
        partition = client.get(imds.PARTITION, self.deadline, optional=True)
        return "{} at {} (partition {})".format(
            "IMDSv2" if client.token_version == 2 else "IMDSv1 (no token service)",
            client.base, partition.decode("ascii", "replace") if partition else "not reported")

    def instance(self):
        found = self.session.identity(self.deadline)
        return "{} ({})".format(found.instance_id, found.resource)

    def region(self):
        return "{} (from {})".format(*self.session.region(self.deadline))

    def endpoint(self):
        from bosky.report import Reporter
        self.target = Reporter(self.session).target(self.deadline)
        return "{} (from {})".format(self.target.url, self.session.endpoint(
            "events", self.target.region)[1])

    def found_credentials(self):
        found = self.credentials = self.session.credentials.get(self.deadline)
        expiry = " expiring {:%Y-%m-%d %H:%M:%S} UTC".format(found.expiration) \
            if found.expiration else ""
        return "{} (key id ****{}{})".format(found.source, found.access_key_id[-4:], expiry)

    def _probe(self):
        """One unsigned request to the endpoint: any HTTP reply proves it can be reached."""
        if self.probe is None:
            try:
                self.probe = self.session.http.request(
                    "POST", self.target.url, {"Content-Type": eventbridge.CONTENT_TYPE,
                                              "X-Amz-Target": eventbridge.TARGET}, b"{}",
                    self.deadline.timeout_for(5.0, "reaching the endpoint"), "EventBridge",
                    hint=eventbridge.UNREACHABLE_HINT)
            except errors.BoskyError as exc:
                self.probe = exc
        if isinstance(self.probe, errors.BoskyError):
            raise self.probe
        return self.probe

    def reach(self):
        return "{} answers (HTTP {} to an unsigned request)".format(self.target.url,
                                                                    self._probe().status)

    def clock(self):
        """The local clock against the endpoint's Date header."""
        reply = self._probe()
        offset = retry.clock_offset(reply.headers.get("date"), self.session.world.wall_clock())
        if offset is None:
            return "{} answered without a Date header; clock not checked".format(self.target.url)
        if abs(offset) > CLOCK_TOLERANCE_SECONDS:
            raise errors.ValidationError(reason="the local clock is {:+.0f} s off {}'s; bosky "
                                                "corrects for it, but sync the clock (chrony, "
                                                "systemd-timesyncd)".format(-offset,
                                                                            self.target.url))
        return "{:+.1f} s against {}".format(-offset, self.target.url)

    def bucket(self, name):
        from bosky.aws import s3
        from bosky.s3client import Bucket
        s3.check_bucket_name(name, "--bucket")
        return "s3://{} -> {}".format(name, Bucket(self.session, name, self.deadline)
                                      .describe())

    def signing(self):
        if self.credentials is None:
            raise errors.NoCredentialsError(reason="see the credentials line above")
        body = events.request_body([{"Source": "bosky.doctor", "DetailType": "check",
                                     "Detail": "{}", "Time": int(self.session.clock.now())}])
        headers = sigv4.sign_request(
            "POST", self.target.url, {"Content-Type": eventbridge.CONTENT_TYPE,
                                      "X-Amz-Target": eventbridge.TARGET},
            body, self.credentials, self.target.region, eventbridge.SIGNING_NAME,
            self.session.clock.utcnow())
        signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
        return "a PutEvents request would be signed for {}/events ({}); not sent".format(
            self.target.region, signed)


def system_trust(env):
    from bosky import trust
    directory = trust.trust_for(None, env).get("capath")
    return "the system's trusted CAs" + (", looked up in {} first".format(directory)
                                         if directory else "")


def run(args, session):
    """Print the checks; exit 0 when an event could be sent, else raise the first failure."""
    world, settings = session.world, session.settings
    report, checks = Report(world.stdout), Checks(session)
    report.line("ok", "bosky", "{} on Python {} ({}), {}".format(
        __version__, sys.version.split()[0], sys.executable, loaded_from()))
    origin = "none chosen" if settings.origin["profile"] == "default" else \
        "from " + settings.origin["profile"]
    report.line("ok", "profile", "{} ({}; {})".format(
        settings.profile, origin, ", ".join(settings.aws_files.sources) or
        "no AWS config files found"))
    report.check("imds", checks.imds, required=False)
    report.check("instance", checks.instance)
    if report.check("region", checks.region) and report.check("endpoint", checks.endpoint):
        from bosky import proxies
        proxy = proxies.proxy_for(checks.target.url, world.env)
        report.line("ok", "proxy", urls.shown(proxy) if proxy else "none")
        report.line("ok", "CA bundle", session.ca_bundle() or system_trust(world.env))
        report.check("credentials", checks.found_credentials)
        # A skewed clock is corrected when sending, so it warns rather than fails;
        # an endpoint that cannot be reached fails.
        report.check("reach", checks.reach)
        report.check("clock", checks.clock, required=False)
        report.check("signing", checks.signing)
    if args.bucket:
        report.check("s3", lambda: checks.bucket(args.bucket))
    if report.first_failure is not None:
        raise report.first_failure
    world.stdout.write("bosky doctor: an event could be sent\n")
    return errors.EXIT_OK
