"""`bosky trap`: print the Bash that reports a user-data script's failures.

    eval "$(bosky trap [--on-exit] [BOSKY OPTIONS...])"

The ERR trap sends a fail event naming the failing command, its line and exit
status; with --on-exit the EXIT trap adds a pass event when the script ends
with 0 (or a fail event when it ends otherwise, unreported).  Traps compose:
an ERR or EXIT trap the script set before the eval still runs, after bosky's
report, with the same exit status in `$?`.  A trap the script sets after the
eval replaces bosky's (Bash keeps one per signal): to keep both, set yours
first, or call `__bosky_on_err` / `__bosky_on_exit` from it.  With `set -E`
the ERR trap also fires inside `$(...)` and subshells; only the outermost
shell reports, so one failure is one event.  Reporting never changes how the
script runs: every call has --no-fail and `|| true`.
"""

import os
import shlex
import sys

from bosky import errors

NAME = "trap"
HINT = 'eval "$(bosky trap)"'
SUMMARY = "report a Bash script's failing commands"
ENDPOINT_SERVICE = "events"
USAGE = "bosky trap [--on-exit] [--command CMD] [BOSKY OPTIONS...]"
DESCRIPTION = """\
Print Bash that reports the script's failing commands:  eval "$(bosky trap)"
Each failure sends a fail event with the command, its line and exit status.
Options not listed here (--project web, ...) are passed to every bosky call.
Traps the script set before the eval keep running (after bosky's report); a
trap set after it replaces bosky's -- call __bosky_on_err / __bosky_on_exit
from it to keep both.  With set -E, a failure inside $(...) is reported once.
"""

TRAP_SCRIPT = """\
# bosky trap: report this script's failures to EventBridge (eval "$(bosky trap)").
# Each failing command sends a fail event naming it, its line and exit status;
# reporting never changes how the script runs (--no-fail, || true).  A trap set
# before this keeps running after bosky's report; one set after it replaces
# bosky's (call __bosky_on_err / __bosky_on_exit from yours to keep both).
__bosky_reported=0
__bosky_level=$BASH_SUBSHELL
__bosky_trap_of() {{ eval "set -- $(trap -p "$1")"; printf '%s' "${{3-}}"; }}
__bosky_then() {{  # run trap text $2 with $? = $1 (an if keeps set -e out of it)
  if [ -z "$2" ]; then return 0; fi
  if __bosky_status "$1"; then eval "$2"; else eval "$2"; fi
}}
__bosky_status() {{ return "$1"; }}
__bosky_now=$(__bosky_trap_of ERR)
[ "$__bosky_now" = __bosky_on_err ] || __bosky_prev_err=$__bosky_now  # not twice
__bosky_on_err() {{
  local rc=$? line=${{BASH_LINENO[0]:-$LINENO}} cmd=$BASH_COMMAND
  if [ "$BASH_SUBSHELL" -eq "$__bosky_level" ]; then  # set -E: report once, outermost
    __bosky_reported=1
    {bosky} --no-fail --exit-code "$rc" --detail Line="$line" --detail FailedCommand="$cmd" \\
      --detail Script="$0"{extra} "${{0##*/}}: '$cmd' failed with exit status $rc at line $line" \\
      || true
  fi
  __bosky_then "$rc" "${{__bosky_prev_err-}}" || true
  return "$rc"
}}
trap '__bosky_on_err' ERR
"""

TRAP_ON_EXIT = """\
# On exit: pass when the script ended with 0; fail if it ended otherwise unreported.
__bosky_now=$(__bosky_trap_of EXIT)
[ "$__bosky_now" = __bosky_on_exit ] || __bosky_prev_exit=$__bosky_now
__bosky_on_exit() {{
  local rc=$?
  if [ "$BASH_SUBSHELL" -eq "$__bosky_level" ]; then
    if [ "$rc" -eq 0 ]; then
      {bosky} --no-fail --pass --detail Script="$0"{extra} "${{0##*/}} finished" || true
    elif [ "$__bosky_reported" -eq 0 ]; then
      {bosky} --no-fail --exit-code "$rc" --detail Script="$0"{extra} \\
        "${{0##*/}} exited with status $rc" || true
    fi
  fi
  __bosky_then "$rc" "${{__bosky_prev_exit-}}"
}}
trap '__bosky_on_exit' EXIT
"""


def add_arguments(parser):
    parser.add_argument("--on-exit", action="store_true",
                        help="also report pass when the script exits 0 (and fail when it "
                             "exits otherwise unreported)")
    parser.add_argument("--command", metavar="CMD",
                        help="how the traps call bosky (default: this interpreter and file)")
    parser.add_argument("-h", "--help", action="store_true", help="show this help")
    parser.set_defaults(forward=[])


def trap_script(bosky_command, extra_args, on_exit):
    """Bash that installs the traps; `bosky_command` and `extra_args` are shell-quoted."""
    extra = "".join(" " + shlex.quote(arg) for arg in extra_args)
    values = {"bosky": bosky_command, "extra": extra}
    return TRAP_SCRIPT.format(**values) + (TRAP_ON_EXIT.format(**values) if on_exit else "")


def early(args, world):
    """The script needs no settings: it only names how to call bosky."""
    # By the interpreter and file that printed it: no PATH needed, and RHEL 8's
    # platform-python keeps working.
    command = args.command or "{} {}".format(shlex.quote(sys.executable),
                                             shlex.quote(os.path.abspath(sys.argv[0])))
    world.stdout.write(trap_script(command, args.forward, args.on_exit))
    return errors.EXIT_OK
