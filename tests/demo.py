#!/usr/bin/env python3
"""`make demo`: the whole flow on this machine, no AWS account needed.

Starts loopback stand-ins for IMDS (IMDSv2 required, an instance profile
role) and EventBridge (checks the SigV4 signature and session token), runs
the built dist/bosky.pyz the way user data would, and prints what the
stand-in received.  Then shows a failure EventBridge reports inside a 200
reply for good, which bosky refuses to call delivered, and an outage that
outlasts the deadline: the event is spooled and `bosky flush` delivers it.
Last, the whole bootstrap: a pointer to the latest build in a private bucket
(an S3 stand-in), key=value user data, each module a reported step; and a log
shipped to S3.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import standins  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYZ = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "dist", "bosky.pyz")
ROLE_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE"


SPOOL = tempfile.mkdtemp(prefix="bosky-demo-")


def run_bosky(args, imds, eventbridge, s3=None):
    # A boot-time environment: no HOME, no AWS variables, only the stand-ins' addresses.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "127.0.0.1",
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
           "AWS_ENDPOINT_URL_EVENTBRIDGE": eventbridge.url,
           "BOSKY_SPOOL_DIR": os.path.join(SPOOL, "spool")}
    if s3 is not None:
        env["AWS_ENDPOINT_URL_S3"] = s3.url
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
        eventbridge.accepted.clear()
        booted, shipped = bootstrap_demo(imds, eventbridge)
    finally:
        imds.stop()
        eventbridge.stop()
    ok = (first, second, third, flushed, booted, shipped) == (0, 1, 75, 0, 0, 0)
    print("demo {}".format("finished: delivered, refused, spooled and flushed; bootstrapped "
                           "and shipped" if ok else "FAILED"))
    return 0 if ok else 1


def bundle_bytes():
    """The start-up bundle a build would upload: two modules and an init tree."""
    import io
    import tarfile
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in (("10-java/start.sh", 'echo "  10-java: installing for $role"\n'),
                           ("20-app/start.sh", 'echo "  20-app: configuring $environment"\n'),
                           ("b/prod/bootstrapper.sh", 'echo "  init: b/prod/bootstrapper.sh"\n')):
            info = tarfile.TarInfo("web-42/" + name)
            info.size, info.mode = len(text), 0o755
            tar.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


def bootstrap_demo(imds, eventbridge):
    """The custom bootstrapper: key=value user data, a pointer to the latest build in a
    private bucket (read with the instance role), each module a reported step."""
    import hashlib
    s3 = standins.S3StandIn().start()
    try:
        data = bundle_bytes()
        s3.objects[("boot-bucket", "builds/web-42.tar.gz")] = data
        s3.objects[("boot-bucket", "web/latest")] = "builds/web-42.tar.gz {}\n".format(
            hashlib.sha256(data).hexdigest()).encode()
        imds.paths["/latest/user-data"] = "environment=prod\nrole=web\ncontext=b\n"
        print("== 4. the whole bootstrap: user data holds only environment=prod, role=web, "
              "context=b\n")
        booted = run_bosky(["bootstrap", "s3://boot-bucket/web/latest", "--pointer",
                            "--project", "demo", "--dir", os.path.join(SPOOL, "current")],
                           imds, eventbridge, s3)
        print("events: " + ", ".join("{} {}".format(item["detail"]["Status"],
                                                    item["detail"]["Step"])
                                     for item in eventbridge.accepted) + "\n")
        print("== 5. shipping a log to S3 with the same role\n")
        log = os.path.join(SPOOL, "messages")
        with open(log, "w") as handle:
            handle.write("boot log\n")
        shipped = run_bosky(["s3", "cp", log, "s3://instance-logs/i-0123456789abcdef0/"],
                            imds, eventbridge, s3)
        print("the bucket now holds: " + ", ".join(
            "s3://{}/{}".format(bucket, key) for bucket, key in sorted(s3.objects)) + "\n")
    finally:
        s3.stop()
    return booted, shipped


if __name__ == "__main__":
    sys.exit(main())
