"""`bosky bootstrap SOURCE`: the start-up bundle and the custom bootstrapper, in one line.

Fetch the bundle (S3 with the instance's role, a URL, a local archive or
directory; --pointer for a "latest build" file), check its SHA-256, unpack it
safely into --dir, read the variables (key=value user data, --var), run each
module directory holding the entry script as a reported step, then the most
specific init file that exists, and send a summary event.  Every event
carries Vars and BundleSha256.
"""

import json

from bosky import errors
from bosky.commands import options

NAME = "bootstrap"
HINT = "bosky bootstrap SOURCE"
SUMMARY = "fetch, verify, unpack and run a bundle of modules, each a reported step"
ENDPOINT_SERVICE = "s3"
USAGE = "bosky bootstrap SOURCE [--pointer] [--sha256 HEX] [OPTIONS]"
DEFAULT_DIR = "/var/lib/bosky/bootstrap/current"
FETCH_TIMEOUT = 900.0
DESCRIPTION = """\
Be the whole bootstrapper: fetch SOURCE (s3://BUCKET/KEY signed with the
instance's role, an https:// URL, a local archive, or a local directory),
check its SHA-256 before anything is unpacked (--sha256, or the pointer's;
required for a URL), unpack it safely (tar, tar.gz, tar.bz2, tar.xz, zip:
plain files and directories only) into a fresh directory renamed to --dir.
If the archive holds a single top directory, that is the bundle.  Each
top-level directory holding --entry (start.sh) is a module; modules run in
C-locale order in their own directory, each reported like `bosky run`,
stopping at the first failure unless --keep-going.  Then the first existing
--init file runs as one more step (default, in this order:
$context/$environment/$machine_id.sh, $context/$environment/bootstrapper.sh,
$context/bootstrapper.sh).  Variables come from key=value user data (IMDS, or
--user-data FILE|-) and --var KEY=VALUE; machine_id defaults to the instance
ID; each is exported to the modules and the init file, and sent as Vars.
--pointer: SOURCE is a small file whose first line names the bundle (a key in
the pointer's bucket, or a full URL) and, after a space, its SHA-256.
--dry-run fetches, checks and unpacks the bundle (not into --dir) and prints
the plan; nothing runs, no event is sent.  --dir is replaced whole, so it must
be missing, empty, or made by bosky bootstrap (it holds .bosky-bundle).
"""
EPILOG = """\
exit status:
  0  every module and the init file passed
  N  the first failing step's exit status (128+N if signal N killed it)
  1  the bundle could not be fetched or was refused (a fail event says why;
     nothing ran)
  2  usage error (a URL without --sha256, a bad --var or user data variable,
     a --dir bosky did not make, ...)
"""


def add_arguments(parser):
    parser.add_argument("source", metavar="SOURCE",
                        help="s3://BUCKET/KEY, https://URL, an archive, or a directory")
    bundle = parser.add_argument_group("bundle")
    bundle.add_argument("--pointer", action="store_true",
                        help="SOURCE is a pointer file naming the bundle (and its SHA-256)")
    bundle.add_argument("--sha256", metavar="HEX", help="the bundle's SHA-256 (required "
                        "for a URL); checked before anything is unpacked")
    bundle.add_argument("--dir", metavar="DIR", default=DEFAULT_DIR,
                        help="where the bundle is unpacked (default {})".format(DEFAULT_DIR))
    bundle.add_argument("--fetch-timeout", metavar="SECONDS", default=str(FETCH_TIMEOUT),
                        help="deadline for fetching the bundle (default 900)")
    run = parser.add_argument_group("modules and init file")
    run.add_argument("--entry", metavar="NAME", default="start.sh",
                     help="the script that makes a directory a module (default start.sh)")
    run.add_argument("--init", dest="inits", action="append", metavar="PATTERN",
                     help="an init file to look for, $name from the variables (repeatable; "
                          "the first that exists runs)")
    run.add_argument("--var", dest="vars", action="append", metavar="KEY=VALUE",
                     help="a variable for the modules (repeatable; wins over user data)")
    run.add_argument("--user-data", metavar="FILE|-",
                     help="read key=value variables here, not from IMDS")
    run.add_argument("--keep-going", action="store_true",
                     help="run every module even after one fails")
    parser.add_argument("--dry-run", action="store_true",
                        help="fetch and check the bundle, print what would run, run nothing")
    options.add_event(parser)


def run(args, session):
    from bosky import bootstrapping
    from bosky.report import Reporter
    reporter, plan, held = Reporter(session), None, None
    try:
        plan = bootstrapping.Plan(args)  # the options: before anything is fetched or sent
        deadline = session.deadline(options.parse_seconds(
            args.fetch_timeout, "--fetch-timeout", 1, 86400), "--fetch-timeout")
        if not args.dry_run and plan.source.kind != "dir":
            from bosky import bundledir
            held = bundledir.lock(args.dir)  # for the whole run: one bundle in --dir at a time
        bootstrapping.prepare(session, plan, deadline)
        if args.dry_run:
            session.world.stdout.write(json.dumps(plan.document(), indent=2,
                                                  ensure_ascii=False) + "\n")
            return errors.EXIT_OK
        status = bootstrapping.run_plan(reporter, plan)
    except errors.BoskyError as exc:
        if not args.dry_run:  # a bad option, user data or pointer: a boot that did not happen
            # Nothing ran and nothing will: the launch hook need not wait for its timeout.
            bootstrapping.report_refused(reporter, args.source, plan, exc)
            complete_hook(session, exc.exit_status)
        raise
    finally:
        if held is not None:
            held.close()
    complete_hook(session, status)
    return status


def complete_hook(session, status):
    from bosky import hooks, steps
    hooks.complete_quietly(session, status, lambda exc: steps.report_error(session.world, exc))
