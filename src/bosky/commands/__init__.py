"""The commands, one module each.  This list is the registry: adding a command is one
module here and one name below (its order is the order of `bosky --help`).

Each module has NAME, HINT and SUMMARY (its line in the main --help), USAGE,
DESCRIPTION (and EPILOG), ENDPOINT_SERVICE (the service --endpoint-url points
at), optionally SETTINGS (its own precedence for a setting), SENDS_EVENTS (False:
event settings are not checked) and INTERRUPTED (what Ctrl-C or SIGTERM left
undone), `add_arguments(parser)`, an optional `early(args, world)` for what needs
no settings (an exit status, or None to go on), and `run(args, session)`,
which returns the exit status.
"""

import importlib

NAMES = ("run", "run-parts", "trap", "lifecycle", "watch", "boot-report", "s3", "bootstrap",
         "flush", "doctor")
DEFAULT = "emit"  # `bosky [STATUS] MESSAGE`


def load(name):
    """The module of command `name` (imported only when that command runs)."""
    return importlib.import_module("bosky.commands." + name.replace("-", "_"))


def summaries():
    """[(usage hint, summary)] of every command, for the main --help."""
    return [(load(name).HINT, load(name).SUMMARY) for name in NAMES]
