#!/usr/bin/env python3
"""`make demo`: the whole flow on this machine, no AWS account needed.

Starts loopback stand-ins for IMDS (IMDSv2 required, an instance profile
role) and EventBridge (checks the SigV4 signature and session token), runs
the built dist/bosky.pyz the way user data would, and prints what the
stand-in received.  Then shows a failure EventBridge reports inside a 200
reply for good, which bosky refuses to call delivered, and an outage that
outlasts the deadline: the event is spooled and `bosky flush` delivers it.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import standins  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYZ = os.path.join(ROOT, "dist", "bosky.pyz")
ROLE_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE"


SPOOL = tempfile.mkdtemp(prefix="bosky-demo-")


def run_bosky(args, imds, eventbridge):
    # A boot-time environment: no HOME, no AWS variables, only the stand-ins' addresses.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "127.0.0.1",
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
           "AWS_ENDPOINT_URL_EVENTBRIDGE": eventbridge.url,
           "BOSKY_SPOOL_DIR": os.path.join(SPOOL, "spool")}
    command = [sys.executable, PYZ] + args
    print("$ bosky " + " ".join(_quote(a) for a in args))
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for stream in (result.stdout, result.stderr):
        if stream:
            print("  " + stream.decode("utf-8").rstrip().replace("\n", "\n  "))
    print("  (exit status {})\n".format(result.returncode))
    return result.returncode


def _quote(arg):
    return arg if arg and all(c.isalnum() or c in "-_./" for c in arg) else json.dumps(arg)


def show_received(imds, eventbridge):
    print("IMDS stand-in saw: " + ", ".join(
        "{} {}".format(r.method, r.path) for r in imds.requests))
    request = eventbridge.requests[-1]
    print("EventBridge stand-in received POST / with:")
    for name in ("host", "x-amz-target", "content-type", "x-amz-date"):
        print("  {}: {}".format(name, request.header(name)))
    print("  authorization: " + request.header("authorization")[:110] + "...")
    print("  x-amz-security-token: (the role's session token, signed)")
    print("signature verified by the stand-in: {}".format(
        "yes" if eventbridge.check(request) is None else "NO"))
    entry = dict(eventbridge.accepted[-1]["entry"])
    entry["Detail"] = json.loads(entry["Detail"])
    print("the event, as EventBridge would route it:")
    print("  " + json.dumps(entry, indent=2, ensure_ascii=False).replace("\n", "\n  ") + "\n")


def main():
    if not os.path.exists(PYZ):
        sys.exit("dist/bosky.pyz is missing: run `make` first")
    imds = standins.ImdsStandIn(token=ROLE_TOKEN).start()
    eventbridge = standins.EventBridgeStandIn(token=ROLE_TOKEN).start()
    try:
        print("== 1. user data reports a failure (instance profile only, IMDSv2 required)\n")
        first = run_bosky(["--fail", "artifact download returned 404", "--project", "demo",
                           "--verbose"], imds, eventbridge)
        show_received(imds, eventbridge)
        print("== 2. EventBridge answers 200 but refused the entry for good: not delivered\n")
        eventbridge.mode = "partial"
        eventbridge.entry_error = ("NotAuthorizedForSourceException",
                                   "Not authorized for the source demo")
        second = run_bosky(["--pass", "user data finished", "--project", "demo"],
                           imds, eventbridge)
        print("== 3. EventBridge unreachable for longer than --timeout: spooled, then flushed\n")
        eventbridge.mode = "reset"
        third = run_bosky(["--pass", "user data finished", "--project", "demo", "--timeout",
                           "2"], imds, eventbridge)
        eventbridge.mode = "accept"
        flushed = run_bosky(["flush", "--verbose"], imds, eventbridge)
        print("the stand-in now holds: " + ", ".join(
            "{} ({})".format(item["detail"]["Message"], item["detail"]["Status"])
            for item in eventbridge.accepted) + "\n")
    finally:
        imds.stop()
        eventbridge.stop()
    ok = (first, second, third, flushed) == (0, 1, 75, 0)
    print("demo {}".format("finished: delivered, refused, spooled and flushed" if ok
                           else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
