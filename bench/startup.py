#!/usr/bin/env python3
"""Start-up cost: bosky emitting one event vs the AWS CLI vs `python3 -c pass`.

For each interpreter, one run alternating these commands (so machine noise
hits all alike), against local EventBridge stand-ins:
  emit        bosky sends one signed event over plain HTTP
  emit-tls    the same over HTTPS (a throwaway CA from `openssl`), as on EC2
  awscli      `aws events put-events`, same event, HTTP  (if the CLI is installed)
  awscli-tls  the same over HTTPS
  version     bosky --version
  floor       an empty zipapp: what running any .pyz costs this interpreter
  floor-emit  a zipapp that only imports what any signed JSON request needs
              (socket, hashlib, hmac, json): the least a Python emit can cost
  floor-urllib  the same plus urllib.request: what sending through the standard
              library's HTTP costs before bosky does anything
  pass        python -c pass
  pass-S      python -S -c pass: without site-packages' .pth files, whose own
              cost every row above includes (their peak RSS is printed)
The rows of 10-25 ms run four times a round.  Prints medians, the project's
target ratios, and peak RSS, measured by /usr/bin/time -f %M (a child forked
from this benchmark would report this process's own size as its peak, so the
measured command is forked from a small process).  Pythons are real interpreters, never pyenv shims; the AWS
CLI runs through its own entry script, also without a shim.

  python3 bench/startup.py [--rounds 15] [--python PATH ...] [--all-pythons]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests"), ROOT]
import standins  # noqa: E402
from build_pyz import find_interpreters  # noqa: E402

PYZ = os.path.join(ROOT, "dist", "bosky.pyz")
INSTANCE = "i-0123456789abcdef0"
ORDER = ("emit", "emit-tls", "awscli", "awscli-tls", "version", "floor", "floor-emit",
         "floor-urllib", "pass", "pass-S")
# (faster, slower, text, met?): ratios are slower / faster.
TARGETS = (("emit", "awscli", "emit at least 5x faster than the AWS CLI", lambda r: r >= 5.0),
           ("emit-tls", "awscli-tls", "  ... over HTTPS", lambda r: r >= 5.0),
           ("floor", "version", "--version within 1.3x of an empty .pyz", lambda r: r <= 1.3),
           ("pass", "emit", "(scale: emit / python -c pass)", None),
           ("pass", "floor", "(scale: an empty .pyz / python -c pass)", None),
           ("pass", "floor-emit", "(scale: a .pyz of the imports any emit needs)", None),
           ("pass", "floor-urllib", "(scale: those and urllib.request)", None))
MAX_RSS_MIB = 22.0
# Rows of 10-25 ms, where one scheduling hiccup moves a median of 15 by a tenth: each
# round runs them this many times (their ratio, --version / floor, is a target).
QUICK = ("version", "floor", "floor-emit", "floor-urllib", "pass", "pass-S")
QUICK_REPEAT = 4


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


def zipapp(directory, name, main_text):
    path = os.path.join(directory, name)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__main__.py", main_text)
    return path


def commands(python, setup):
    """{name: argv}; the -tls ones only when there is a TLS stand-in."""
    bridges, floors, cli = setup["bridges"], setup["floors"], setup["cli"]
    emit = [python, PYZ, "--pass", "bench", "--instance-id", INSTANCE, "--no-spool"]
    found = {"emit": emit + ["--endpoint-url", bridges["http"].url],
             "version": [python, PYZ, "--version"],
             "floor": [python, floors["floor"]], "floor-emit": [python, floors["floor-emit"]],
             "floor-urllib": [python, floors["floor-urllib"]],
             "pass": [python, "-c", "pass"], "pass-S": [python, "-S", "-c", "pass"]}
    if "https" in bridges:
        found["emit-tls"] = emit + ["--endpoint-url", bridges["https"].url]
    if cli:
        detail = json.dumps({"Status": "pass", "Message": "bench", "InstanceId": INSTANCE})
        entry = json.dumps([{"Source": "bench", "DetailType": "User Data", "Detail": detail,
                             "Resources": [INSTANCE]}])
        for name, bridge in (("awscli", "http"), ("awscli-tls", "https")):
            if bridge in bridges:
                found[name] = [cli, "events", "put-events", "--entries", entry, "--endpoint-url",
                               bridges[bridge].url, "--region", "us-east-1", "--output", "json"]
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


def start_bridges(workdir):
    """{"http": stand-in, "https": stand-in (only where openssl can make a CA)}, CA path."""
    bridges, ca = {"http": standins.EventBridgeStandIn().start()}, None
    if shutil.which("openssl"):
        tls = standins.make_certificates(workdir)
        bridges["https"] = standins.EventBridgeStandIn(
            tls=(tls["server.pem"], tls["server.key"])).start()
        ca = tls["ca.pem"]
    return bridges, ca


def bench_env(ca):
    env = {"PATH": os.environ.get("PATH", ""), "NO_PROXY": "127.0.0.1",
           "AWS_ACCESS_KEY_ID": standins.TEST_KEY_ID, "AWS_REGION": "us-east-1",
           "AWS_SECRET_ACCESS_KEY": standins.TEST_SECRET, "AWS_EC2_METADATA_DISABLED": "true"}
    if ca:
        env["AWS_CA_BUNDLE"] = ca  # bosky and the AWS CLI both read it
    return env


def run_one(python, rounds, setup, env):
    """{name: (median seconds, peak RSS MiB or None)} for one interpreter."""
    runs = commands(python, setup)
    rss = {name: peak_rss_mib(argv, env) for name, argv in runs.items()}  # also warms up
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, argv in runs.items():
            for _ in range(QUICK_REPEAT if name in QUICK else 1):
                times[name].append(measure(argv, env))
    return {name: (statistics.median(times[name]), rss[name]) for name in runs}


def version_of(python):
    return subprocess.check_output([python, "-c", "import sys; print(sys.version.split()[0])"]
                                   ).decode().strip()


def report(python, results):
    print("\nPython {} ({})".format(version_of(python), python))
    for name in ORDER:
        if name in results:
            median, rss = results[name]
            print("  {:<11} median {:7.1f} ms   peak RSS {}".format(
                name, median * 1000, "{:5.1f} MiB".format(rss) if rss is not None
                else "(no /usr/bin/time)"))
    for fast, slow, text, ok in TARGETS:
        if fast in results and slow in results:
            ratio = results[slow][0] / results[fast][0]
            verdict = "" if ok is None else ("met" if ok(ratio) else "NOT met")
            print("  {:<45} ratio {:5.2f}  {}".format(text, ratio, verdict))
    for name in ("emit", "emit-tls"):
        rss = results.get(name, (None, None))[1]
        if rss is not None:
            print("  {:<45} {:5.1f} MiB  {}".format("{} peak RSS at most 22 MiB".format(name),
                                                   rss, "met" if rss <= MAX_RSS_MIB
                                                   else "NOT met"))
    site, bare = (results.get(name, (None, None))[1] for name in ("pass", "pass-S"))
    if site is not None and bare is not None:
        print("  {:<45} {:5.1f} MiB".format("(of which site's .pth files, every row)", site - bare))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--python", action="append", metavar="PATH",
                        help="interpreter to run bosky with (repeatable; default: this one)")
    parser.add_argument("--all-pythons", action="store_true",
                        help="every CPython 3.6-3.13 found (pyenv's, then PATH's)")
    options = parser.parse_args()
    if not os.path.exists(PYZ):
        sys.exit("dist/bosky.pyz is missing: run `make` first")
    pythons = find_interpreters() if options.all_pythons else \
        options.python or [os.path.realpath(sys.executable)]
    print("bosky start-up benchmark: {} alternating rounds per Python".format(options.rounds))
    workdir = tempfile.mkdtemp(prefix="bosky-bench-")
    bridges, ca = start_bridges(workdir)
    setup = {"bridges": bridges, "cli": aws_cli(),  # the same for every interpreter
             "floors": {"floor": zipapp(workdir, "empty.pyz", ""),
                        "floor-emit": zipapp(workdir, "imports.pyz",
                                             "import socket, hashlib, hmac, json\n"),
                        "floor-urllib": zipapp(workdir, "urllib.pyz",
                                               "import socket, hashlib, hmac, json, "
                                               "urllib.request\n")}}
    try:
        for python in pythons:
            report(python, run_one(python, options.rounds, setup, bench_env(ca)))
    finally:
        for bridge in bridges.values():
            bridge.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
