#!/usr/bin/env python3
"""Delivery under throttling: latency percentiles and attempts per event.

Starts the loopback EventBridge stand-in with a rate limit (as a regional
PutEvents quota would in a scale-out), launches N concurrent `bosky` runs of
dist/bosky.pyz, and reports, per run: wall time to exit, attempts made
(counted from the requests the stand-in saw for that event's EventUuid), and
the outcome (delivered or spooled).  Then one `bosky flush` and its time.

A benchmark, not a test: it prints figures and asserts nothing.

  python3 bench/delivery.py [--runs 40] [--rate 10] [--timeout 10]
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import standins  # noqa: E402

PYZ = os.path.join(ROOT, "dist", "bosky.pyz")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def attempts_per_event(requests):
    counts = collections.Counter()
    for request in requests:
        for entry in json.loads(request.body.decode("utf-8")).get("Entries", []):
            counts[json.loads(entry["Detail"])["Message"]] += 1
    return counts


def launch(runs, env, timeout):
    started, procs = {}, {}
    for n in range(runs):
        message = "bench {}".format(n)
        started[message] = time.monotonic()
        procs[message] = subprocess.Popen(
            [sys.executable, PYZ, "--pass", message, "--instance-id", "i-0123456789abcdef0",
             "--timeout", str(timeout)], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
    results = {}
    while procs:  # poll all, so each run's time is its own exit, not the slowest one's
        for message, proc in list(procs.items()):
            code = proc.poll()
            if code is not None:
                results[message] = (code, time.monotonic() - started[message])
                del procs[message]
        time.sleep(0.005)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rate", type=float, default=10.0, help="requests/s accepted")
    parser.add_argument("--timeout", type=float, default=10.0)
    options = parser.parse_args()
    if not os.path.exists(PYZ):
        sys.exit("dist/bosky.pyz is missing: run `make` first")
    eventbridge = standins.EventBridgeStandIn().start()
    eventbridge.rate_limit = options.rate
    spool_dir = tempfile.mkdtemp(prefix="bosky-bench-")
    env = {"PATH": os.environ.get("PATH", ""), "NO_PROXY": "127.0.0.1",
           "AWS_ACCESS_KEY_ID": standins.TEST_KEY_ID,
           "AWS_SECRET_ACCESS_KEY": standins.TEST_SECRET, "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL_EVENTBRIDGE": eventbridge.url, "BOSKY_SPOOL_DIR": spool_dir}
    try:
        results = launch(options.runs, env, options.timeout)
        attempts = attempts_per_event(eventbridge.requests)
        eventbridge.rate_limit = None
        flush_started = time.monotonic()
        flush_code = subprocess.call([sys.executable, PYZ, "flush"], env=env)
        flush_seconds = time.monotonic() - flush_started
    finally:
        eventbridge.stop()
    report(options, results, attempts, flush_code, flush_seconds)


def report(options, results, attempts, flush_code, flush_seconds):
    delivered = [t for code, t in results.values() if code == 0]
    spooled = [t for code, t in results.values() if code == 75]
    print("bosky delivery benchmark: {} concurrent runs, stand-in accepts {:g} req/s, "
          "--timeout {:g}".format(options.runs, options.rate, options.timeout))
    print("python {}".format(sys.version.split()[0]))
    if delivered:
        print("delivered {:3d}: latency p50 {:.2f} s  p90 {:.2f} s  p99 {:.2f} s  max {:.2f} s"
              .format(len(delivered), percentile(delivered, 0.5), percentile(delivered, 0.9),
                      percentile(delivered, 0.99), max(delivered)))
    print("spooled   {:3d}{}".format(len(spooled), ": exit p50 {:.2f} s  p90 {:.2f} s  max "
                                      "{:.2f} s".format(percentile(spooled, 0.5),
                                                        percentile(spooled, 0.9), max(spooled))
                                      if spooled else ""))
    other = [code for code, _ in results.values() if code not in (0, 75)]
    if other:
        print("other exit statuses: {}".format(collections.Counter(other)))
    sent = [attempts.get("bench {}".format(n), 0) for n in range(options.runs)]
    print("attempts per event before flush: p50 {}  p90 {}  max {}  (all runs: {})".format(
        percentile(sent, 0.5), percentile(sent, 0.9), max(sent), sum(sent)))
    print("flush: exit {} in {:.2f} s".format(flush_code, flush_seconds))


if __name__ == "__main__":
    main()
