"""`bosky run-parts DIR`: run a directory of scripts, each a reported step, then a summary."""

from bosky.commands import options

NAME = "run-parts"
HINT = "bosky run-parts DIR"
SUMMARY = "run a directory of numbered scripts, each a reported step"
ENDPOINT_SERVICE = "events"
USAGE = "bosky run-parts [--keep-going] [OPTIONS] DIR"
DESCRIPTION = """\
Run the executable files in DIR in C-locale order, each reported like `bosky
run`, then one event that sums up the bundle (Steps: each part's exit status
and time).  Stops at the first failure unless --keep-going.  Names follow
run-parts(8): ASCII letters, digits, _, - and . (so 10-setup.sh runs, as on
Red Hat); dotfiles, backups and package-manager leftovers (*~, *.rpmsave,
*.rpmnew, *.dpkg-old, *.dpkg-dist, *.swp, ...), broken symlinks, directories
and files that are not executable are skipped (--verbose names each on stderr).
Exit status: the first failing part's, else 0.
"""


def add_arguments(parser):
    parser.add_argument("--keep-going", action="store_true",
                        help="run every part even after one fails")
    parser.add_argument("directory", metavar="DIR", help="the directory of parts to run")
    options.add_event(parser)


def run(args, session):
    from bosky import hooks, steps
    from bosky.report import Reporter
    status = steps.run_parts(Reporter(session), args.directory, args.keep_going, args.verbose)
    hooks.complete_quietly(session, status, lambda exc: steps.report_error(session.world, exc))
    return status
