"""`bosky doctor`: what bosky would use, and whether an event could be sent.

One line per check: version, profile, IMDS, instance, region, endpoint,
proxy, CA bundle, credentials (their source, never a secret), the clock
against the endpoint's Date header, and a PutEvents signed but not sent.
Unlike every other command, doctor turns each check's error into a report
line instead of stopping at the first: showing them all is its job.  The
first failure's message, with its fix, is the closing line (exit 1).
"""

import sys

from bosky import __version__, chain, credentials, emit, errors, events
from bosky.aws import eventbridge, imds
from bosky import loaded_from, retry, transport, urls
from bosky.aws import sigv4
from bosky.identity import Identity
from bosky.wiring import Run

CLOCK_TOLERANCE_SECONDS = 60.0


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


def check_imds(run):
    client = run.imds
    if client.disabled:
        return "disabled by AWS_EC2_METADATA_DISABLED"
    partition = client.get(imds.PARTITION, optional=True)
    return "{} at {} (partition {})".format(
        "IMDSv2" if client.token_version == 2 else "IMDSv1 (no token service)",
        imds.endpoint_from_env(run.deps.env),
        partition.decode("ascii", "replace") if partition else "not reported")


def check_credentials(run, state):
    found = credentials.resolve_credentials(chain.providers(run.sources))
    state["credentials"] = found
    expiry = " expiring {:%Y-%m-%d %H:%M:%S} UTC".format(found.expiration) \
        if found.expiration else ""
    return "{} (key id ****{}{})".format(found.source, found.access_key_id[-4:], expiry)


def probe_endpoint(run, target, state):
    """One unsigned request to the endpoint: any HTTP reply proves it can be reached."""
    if "probe" not in state:
        try:
            state["probe"] = run.send(
                "POST", target.url, {"Content-Type": eventbridge.CONTENT_TYPE,
                                     "X-Amz-Target": eventbridge.TARGET}, b"{}",
                run.deadline.timeout_for(5.0, "reaching the endpoint"),
                "EventBridge", hint=eventbridge.UNREACHABLE_HINT)
        except errors.BoskyError as exc:
            state["probe"] = exc
    if isinstance(state["probe"], errors.BoskyError):
        raise state["probe"]
    return state["probe"]


def check_reach(run, target, state):
    reply = probe_endpoint(run, target, state)
    return "{} answers (HTTP {} to an unsigned request)".format(target.url, reply.status)


def check_clock(run, target, state):
    """The local clock against the endpoint's Date header."""
    reply = probe_endpoint(run, target, state)
    offset = retry.clock_offset(reply.headers.get("date"), run.deps.wall_clock())
    if offset is None:
        return "{} answered without a Date header; clock not checked".format(target.url)
    if abs(offset) > CLOCK_TOLERANCE_SECONDS:
        raise errors.ValidationError(reason="the local clock is {:+.0f} s off {}'s; bosky "
                                            "corrects for it, but sync the clock (chrony, "
                                            "systemd-timesyncd)".format(-offset, target.url))
    return "{:+.1f} s against {}".format(-offset, target.url)


def check_signing(run, target, state):
    creds = state.get("credentials")
    if creds is None:
        raise errors.NoCredentialsError(reason="see the credentials line above")
    body = events.request_body([{"Source": "bosky.doctor", "DetailType": "check",
                                 "Detail": "{}", "Time": int(run.deps.wall_clock())}])
    headers = sigv4.sign_request("POST", target.url, {"Content-Type": eventbridge.CONTENT_TYPE,
                                                      "X-Amz-Target": eventbridge.TARGET},
                                 body, creds, target.region, eventbridge.SIGNING_NAME, run.now())
    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    return "a PutEvents request would be signed for {}/events ({}); not sent".format(
        target.region, signed)


def system_trust(env):
    directory = transport.trust_for(None, env).get("capath")
    return "the system's trusted CAs" + (", looked up in {} first".format(directory)
                                         if directory else "")


def doctor(settings, deps):
    """Print the checks; exit 0 when an event could be sent, else raise the first failure."""
    report, state = Report(deps.stdout), {}
    report.line("ok", "bosky", "{} on Python {} ({}), {}".format(
        __version__, sys.version.split()[0], sys.executable, loaded_from()))
    run = Run(settings, deps)
    origin = "none chosen" if run.aws.profile_origin == "default" else \
        "from " + run.aws.profile_origin
    report.line("ok", "profile", "{} ({}; {})".format(
        run.aws.profile_name, origin,
        ", ".join(run.aws.profiles.sources) or "no AWS config files found"))
    report.check("imds", lambda: check_imds(run), required=False)
    log = deps.log
    found = [None]
    report.check("instance", lambda: _identity(run, found, log))
    ok = report.check("region", lambda: _region(run, found, state))
    if ok and report.check("endpoint", lambda: _endpoint(run, state)):
        target = state["target"]
        proxy = transport.proxy_for(target.url, deps.env)
        report.line("ok", "proxy", urls.shown(proxy) if proxy else "none")
        report.line("ok", "CA bundle", run.ca_bundle or system_trust(deps.env))
        report.check("credentials", lambda: check_credentials(run, state))
        # A skewed clock is corrected when sending, so it warns rather than fails;
        # an endpoint that cannot be reached fails.
        report.check("reach", lambda: check_reach(run, target, state))
        report.check("clock", lambda: check_clock(run, target, state), required=False)
        report.check("signing", lambda: check_signing(run, target, state))
    if report.first_failure is not None:
        raise report.first_failure
    deps.stdout.write("bosky doctor: an event could be sent\n")
    return errors.EXIT_OK


def _identity(run, found, log):
    found[0] = emit.resolve_identity(run.settings, run.imds, log)
    return "{} ({})".format(found[0].instance_id, found[0].resource)


def _region(run, found, state):
    identity = found[0] or Identity(None, None)
    state["region"], origin = emit.resolve_region(run, identity)
    run.region = state["region"]
    return "{} (from {})".format(state["region"], origin)


def _endpoint(run, state):
    state["target"], origin = emit.resolve_target(run, state["region"])
    return "{} (from {})".format(state["target"].url, origin)
