"""A bootstrap, as steps: variables, the bundle fetched, checked and unpacked, the modules
found, the init file chosen; then the start event, the steps and the summary.

The order is what makes it safe: every usage error is found before anything is
fetched (a URL bundle without a SHA-256 included); the SHA-256 is checked
before anything is unpacked; the bundle is unpacked in full (unpack.py)
before anything runs; a refused bundle runs nothing and is one fail event.
"""

import os

from bosky import bundle, errors, uservars


class Plan(object):
    """What this bootstrap will do, filled in as it is prepared."""

    def __init__(self, args):
        self.args = args
        self.source = bundle.parse(args.source)
        self.pointer = self.source if args.pointer else None
        from bosky import transfer
        self.expected = transfer.check_sha256_option(args.sha256)
        if self.pointer is None and self.source.kind in bundle.URL_KINDS and not self.expected:
            raise errors.UsageError(reason="a bundle from {} needs --sha256 HEX (nothing else "
                                           "vouches for its bytes); S3 bundles and pointers "
                                           "naming a SHA-256 do not".format(args.source))
        if "/" in args.entry or args.entry in ("", ".", ".."):
            raise errors.UsageError(reason="--entry {!r}: a file name, such as start.sh".format(
                args.entry))
        self.overrides = uservars.parse_var_options(args.vars)
        self.patterns = list(args.inits or uservars.DEFAULT_INIT)
        self.variables, self.variables_note = {}, None
        self.sha256 = self.root = None
        self.modules, self.init, self.tried = [], None, []

    def fields(self):
        """What every event of this bootstrap carries."""
        fields = {"Vars": dict(self.variables), "Bundle": self.source.text}
        if self.sha256:
            fields["BundleSha256"] = self.sha256
        return fields

    def document(self):
        """The plan, for --dry-run."""
        return {"bundle": self.source.text, "pointer": self.pointer.text if self.pointer
                else None, "sha256": self.sha256, "directory": self.root,
                "vars": self.variables, "modules": [name for name, _ in self.modules],
                "init": self.init, "init_tried": self.tried}


def read_variables(session, plan, deadline):
    """key=value user data (--user-data, else IMDS), then --var; machine_id by default."""
    from bosky import userdata
    data, origin = userdata.read(session, plan.args, deadline)
    found, why = uservars.parse_user_data(data, origin)
    if why:
        session.log("no variables from {}: {}".format(origin, why))
        plan.variables_note = why
        if why.startswith(uservars.MALFORMED):  # meant as variables, not usable as them
            session.world.warn("no variables from {}: {}".format(origin, why))
    found.update(plan.overrides)
    if "machine_id" not in found:
        found["machine_id"] = session.identity(deadline).instance_id
    plan.variables = found


def prepare(session, plan, deadline):
    """Variables, the bundle (pointer, fetch, SHA-256, unpack), the modules, the init file."""
    read_variables(session, plan, deadline)
    if plan.pointer is not None:
        text = bundle.read_pointer(session, plan.pointer, deadline)
        plan.source, named = bundle.parse_pointer(text, plan.pointer)
        plan.expected = plan.expected or named
        session.log("the pointer {} names {}{}".format(plan.pointer.text, plan.source.text,
                                                       " ({})".format(named) if named else ""))
        if plan.source.kind in bundle.URL_KINDS and not plan.expected:
            raise errors.UsageError(reason="the pointer names {}, a URL, without a SHA-256: "
                                           "add it to the pointer's line, or pass --sha256"
                                           .format(plan.source.text))
    if plan.source.kind == "dir":  # run in place; a --dir bosky made, as it was unpacked
        from bosky.bundledir import MARKER
        plan.root = os.path.abspath(plan.source.text)
        if os.path.exists(os.path.join(plan.root, MARKER)):
            plan.root = enter_single_top(plan.root)
        look_inside(plan)
    else:
        fetch_and_unpack(session, plan, deadline)


def look_inside(plan):
    """The modules and the init file; BundleError if there is nothing to run."""
    find_modules(plan)
    choose_init(plan)
    if not plan.modules and plan.init is None:  # an instance left as it was is no success
        raise errors.BundleError(reason="it holds nothing to run: no top-level directory "
                                        "of the bundle has {} (--entry), and no init file "
                                        "was found (tried {})".format(plan.args.entry,
                                                                      "; ".join(plan.tried)))


def fetch_and_unpack(session, plan, deadline):
    """Fetch and check the archive beside --dir, unpack it there, look inside, and only
    then (and not for --dry-run) put it in place: a refused bundle, one with nothing to
    run included, leaves the last good one as it was."""
    import shutil
    from bosky import bundledir, unpack
    from bosky.progress import Progress
    target = os.path.abspath(plan.args.dir)
    bundledir.check_target(target)  # before a byte is fetched
    incoming = bundledir.fresh_beside(target, ".fetching-")
    try:
        archive = plan.source.text if plan.source.kind == "file" else os.path.join(
            incoming, "bundle.archive")  # its kind is read from its first bytes
        plan.sha256 = bundle.fetch(session, plan.source, plan.expected, archive, deadline,
                                   Progress(session.world.stderr, session.clock.monotonic,
                                            False, plan.source.name()))
        session.log("bundle {} has SHA-256 {}".format(plan.source.text, plan.sha256))
        fresh = os.path.join(incoming, "unpacked")
        os.mkdir(fresh, 0o700)
        unpack.unpack_into(archive, fresh)
        plan.root = enter_single_top(fresh)
        look_inside(plan)
        inside = os.path.relpath(plan.root, fresh)
        if not plan.args.dry_run:
            bundledir.replace(fresh, target, "{} {}\n".format(plan.source.text, plan.sha256))
        plan.root = os.path.normpath(os.path.join(target, inside))
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def enter_single_top(root):
    """The bundle's root: the archive's single top directory, if that is all it holds
    (beside the marker, in a --dir bosky made)."""
    from bosky.bundledir import MARKER
    names = [name for name in os.listdir(root) if name != MARKER]
    if len(names) == 1 and os.path.isdir(os.path.join(root, names[0])) and not \
            os.path.islink(os.path.join(root, names[0])):
        return os.path.join(root, names[0])
    return root


def find_modules(plan):
    """Top-level directories holding the entry script, in C-locale (code point) order."""
    entry = plan.args.entry
    for name in sorted(os.listdir(plan.root)):
        path = os.path.join(plan.root, name)
        script = os.path.join(path, entry)
        if os.path.isdir(path) and not os.path.islink(path) and os.path.isfile(script) and \
                not os.path.islink(script):
            plan.modules.append((name, os.path.join(name, entry)))  # within the root


def choose_init(plan):
    """The first --init pattern that names an existing file; what was tried, and why not."""
    real_root = os.path.realpath(plan.root)
    for pattern in plan.patterns:
        path, why = uservars.expand(pattern, plan.variables)
        if path is None:
            plan.tried.append("{} ({})".format(pattern, why))
            continue
        full = os.path.join(plan.root, path)
        inside = os.path.realpath(full).startswith(real_root + os.sep)
        if inside and os.path.isfile(full) and not os.path.islink(full):
            plan.init = path
            return
        plan.tried.append("{} ({})".format(path, "no such file" if inside else
                                           "outside the bundle"))


def report_refused(reporter, source, plan, exc):
    """The one fail event of a bootstrap that did not get to run anything (`plan` is None
    when the options themselves were wrong).  If it cannot be sent either, the error line
    that follows says why (--debug says more)."""
    from bosky.report import EventSpec
    fields = plan.fields() if plan is not None else {}
    fields["Step"] = "bootstrap"
    try:
        reporter.send(EventSpec("fail", "bootstrap of {}: {}; nothing ran".format(
            plan.source.text if plan is not None else source, exc.message), fields))
    except errors.BoskyError as problem:
        reporter.session.log("the fail event was not delivered: {}".format(problem))


def run_plan(reporter, plan):
    """The start event, each module, the init file, the summary; the first failure's status."""
    from bosky import steps
    from bosky.report import EventSpec
    reporter.step_fields = plan.fields()
    start = dict(reporter.step_fields, Step="bootstrap")
    steps.send_quietly(reporter, EventSpec("start", "bootstrap of {}{} started: {} "
                                                    "module(s), init file {}".format(
                                                        plan.source.text, " (" + plan.sha256 +
                                                        ")" if plan.sha256 else "",
                                                        len(plan.modules), plan.init or
                                                        "none"), start))
    env = dict(reporter.world.env, BOSKY_BOOTSTRAP_DIR=plan.root, **plan.variables)
    scripts = [(name, os.path.join(plan.root, inside)) for name, inside in plan.modules]
    work = [(name, module_argv(script), os.path.dirname(script)) for name, script in scripts]
    if plan.init:
        full = os.path.join(plan.root, plan.init)
        work.append((plan.init, module_argv(full), os.path.dirname(full)))

    def no_init(results, failure):
        if plan.init is None and failure is None:
            steps.send_quietly(reporter, EventSpec("info", "no init file found; tried: " +
                                                   "; ".join(plan.tried), dict(
                                                       reporter.step_fields, Step="init",
                                                       InitTried=plan.tried)))
    return steps.run_steps(reporter, "bootstrap", work, plan.args.keep_going, env=env,
                           before_summary=no_init)


def module_argv(path):
    """How a module's entry (or the init file) runs: as itself when it is executable with
    a #! line, else with bash (as the seed's loop did; sh where there is no bash)."""
    with open(path, "rb") as handle:
        shebang = handle.read(2) == b"#!"
    if shebang and os.access(path, os.X_OK):
        return [path]
    return ["/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh", path]
