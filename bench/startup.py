#!/usr/bin/env python3
"""Start-up cost: bosky emitting one event vs the AWS CLI vs `python3 -c pass`.

One run, alternating the commands (so machine noise hits all alike):
  emit     bosky sends one signed event to a local EventBridge stand-in
  awscli   `aws events put-events` sends the same event there (if installed)
  version  bosky --version
  pass     python3 -c pass, on the same interpreter
Prints medians, the ratios the project targets, and peak RSS, measured by
/usr/bin/time -f %M (a child forked from this benchmark would report this
process's own size as its peak, so the measured command must be forked from
a small process).
Both Pythons are the real interpreter, never a pyenv shim; the AWS CLI is
run through its own entry script, also without a shim.

  python3 bench/startup.py [--rounds 15]
"""

import argparse
import json
import tempfile
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import standins  # noqa: E402

PYZ = os.path.join(ROOT, "dist", "bosky.pyz")
INSTANCE = "i-0123456789abcdef0"
TARGETS = (("emit", "awscli", "at least 6x faster than the AWS CLI", lambda r: r >= 6.0),
           ("emit", "pass", "within 1.6x of python3 -c pass", lambda r: r <= 1.6),
           ("version", "pass", "--version within 1.3x of python3 -c pass", lambda r: r <= 1.3))
MAX_RSS_MIB = 22.0


def aws_cli():
    """The AWS CLI's real entry script (a pyenv shim would add its own start-up)."""
    found = shutil.which("aws")
    if found is None:
        return None
    try:
        real = subprocess.check_output(["pyenv", "which", "aws"], stderr=subprocess.DEVNULL)
        return real.decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return found


def commands(url):
    detail = json.dumps({"Status": "pass", "Message": "bench", "InstanceId": INSTANCE})
    entry = [{"Source": "bench", "DetailType": "User Data", "Detail": detail,
              "Resources": [INSTANCE]}]
    found = {"emit": [sys.executable, PYZ, "--pass", "bench", "--instance-id", INSTANCE,
                      "--no-spool"],
             "version": [sys.executable, PYZ, "--version"],
             "pass": [sys.executable, "-c", "pass"]}
    cli = aws_cli()
    if cli:
        found["awscli"] = [cli, "events", "put-events", "--entries", json.dumps(entry),
                           "--endpoint-url", url, "--region", "us-east-1", "--output", "json"]
    return found


def measure(argv, env):
    """Seconds for one run; raises if it fails."""
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit("{} failed: {}".format(argv[:3], result.stderr.decode()[-300:]))
    return seconds


def peak_rss_mib(argv, env):
    """Peak RSS of one run in MiB via /usr/bin/time, or None where it is not installed."""
    if not os.path.exists("/usr/bin/time"):
        return None
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name] + argv, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return int(out.read().split()[-1]) / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()
    if not os.path.exists(PYZ):
        sys.exit("dist/bosky.pyz is missing: run `make` first")
    bridge = standins.EventBridgeStandIn().start()
    env = {"PATH": os.environ.get("PATH", ""), "NO_PROXY": "127.0.0.1",
           "AWS_ACCESS_KEY_ID": standins.TEST_KEY_ID, "AWS_REGION": "us-east-1",
           "AWS_SECRET_ACCESS_KEY": standins.TEST_SECRET,
           "AWS_ENDPOINT_URL_EVENTBRIDGE": bridge.url, "AWS_EC2_METADATA_DISABLED": "true"}
    runs = commands(bridge.url)
    times = {name: [] for name in runs}
    try:
        rss = {name: peak_rss_mib(argv, env) for name, argv in runs.items()}  # also warms up
        for _ in range(options.rounds):
            for name, argv in runs.items():
                times[name].append(measure(argv, env))
    finally:
        bridge.stop()
    report(options.rounds, times, rss)


def report(rounds, times, rss):
    medians = {name: statistics.median(values) for name, values in times.items()}
    print("bosky start-up benchmark: {} alternating rounds, Python {} ({})".format(
        rounds, sys.version.split()[0], sys.executable))
    for name in ("emit", "awscli", "version", "pass"):
        if name in medians:
            print("  {:<8} median {:7.1f} ms   peak RSS {}".format(
                name, medians[name] * 1000, "{:5.1f} MiB".format(rss[name])
                if rss[name] is not None else "(no /usr/bin/time)"))
    for slow, fast, text, ok in TARGETS:
        if slow in medians and fast in medians:
            ratio = medians[fast] / medians[slow] if slow == "emit" and fast == "awscli" \
                else medians[slow] / medians[fast]
            print("  {:<45} ratio {:5.2f}  {}".format(text, ratio, "met" if ok(ratio)
                                                      else "NOT met"))
        elif slow in medians:
            print("  {:<45} (the AWS CLI is not installed)".format(text))
    if rss["emit"] is not None:
        print("  {:<45} {:5.1f} MiB  {}".format("emit peak RSS at most 22 MiB", rss["emit"],
                                               "met" if rss["emit"] <= MAX_RSS_MIB
                                               else "NOT met"))


if __name__ == "__main__":
    main()
