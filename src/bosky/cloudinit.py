"""cloud-init's own verdict on this boot, read from the files it writes.

cloud-init writes /run/cloud-init/status.json (cloudinit/cmd/main.py,
status_wrapper): `v1` holds each stage (init-local, init, modules-config,
modules-final; 22.4 also an unused modules-init) with `start`/`finished`
(epoch seconds up to 24.1, seconds since boot from 24.2), `errors` and, from
23.4, `recoverable_errors` ({"WARNING": [...], "DEPRECATED": [...]}), plus
`datasource` and `stage` (the stage running, null between and after them).
At the end of modules-final it writes result.json: `v1.errors`.  A failing
module's error reads "('scripts-user', RuntimeError('...'))": the module as
the image's cloud.cfg spells it, with hyphens in Debian's 22.4 and
underscores from 23.4.  bosky reports it with underscores (scripts_user)
either way, so one rule matches every image.  tests/fixtures/cloud-init holds
files written by the real cloud-init 22.4 and 25.1.

Pure functions summarise those documents; `wait_for_cloud_init` polls with a
clock and sleep passed in, retrying files that are missing or half-written.
"""

import re

from bosky import jsonin

STAGES = ("init-local", "init", "modules-config", "modules-final")
MODULE_ERROR = re.compile(r"\('([A-Za-z0-9_-]+)',\s*(.*)\)", re.S)
POLL_SECONDS = 0.5


class Summary(object):
    """What one boot came to: verdict, stages, failing modules, times."""

    __slots__ = ("status", "stages", "errors", "modules", "boot_seconds", "datasource",
                 "warnings", "done")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))


def failing_module(error):
    """(module name with underscores, or None; the error text) from a cloud-init error."""
    match = MODULE_ERROR.fullmatch(error.strip())
    if not match:
        return None, error.strip()
    return match.group(1).replace("-", "_"), match.group(2)


def _number(value):
    """A time from status.json: a finite number (not a bool, not 1e400), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if -1e12 < value < 1e12 else None


def _stage(v1, name):
    stage = v1.get(name)
    return stage if isinstance(stage, dict) else {}


def stage_names(v1):
    """The four stages, then any other stage cloud-init used (22.4's modules-init is
    listed only if it started or failed)."""
    extra = sorted(name for name, stage in v1.items()
                   if name not in STAGES and isinstance(stage, dict) and
                   (_number(stage.get("start")) is not None or stage.get("errors")))
    return list(STAGES) + extra


def stage_summary(name, stage):
    start, finished = _number(stage.get("start")), _number(stage.get("finished"))
    recoverable = stage.get("recoverable_errors") or {}
    errors = stage.get("errors") if isinstance(stage.get("errors"), list) else []
    return {"Name": name,
            "Seconds": round(finished - start, 3) if start is not None and finished is not None
            else None,
            "Errors": [str(e) for e in errors],
            "RecoverableErrors": {str(k): [str(m) for m in v] for k, v in recoverable.items()
                                  if isinstance(v, list)} if isinstance(recoverable, dict)
            else {}}


def summarize(status_doc, result_doc):
    """A Summary from the parsed status.json and result.json (the latter may be None)."""
    v1 = status_doc.get("v1") if isinstance(status_doc, dict) else None
    if not isinstance(v1, dict):
        raise ValueError("status.json has no v1 object")
    names = stage_names(v1)
    stages = [stage_summary(name, _stage(v1, name)) for name in names]
    result_v1 = (result_doc or {}).get("v1") if isinstance(result_doc, dict) else None
    result_errors = (result_v1 or {}).get("errors") if isinstance(result_v1, dict) else None
    errors = [e for s in stages for e in s["Errors"]]
    for extra in result_errors if isinstance(result_errors, list) else []:
        if str(extra) not in errors:
            errors.append(str(extra))
    modules = []
    for error in errors:
        module = failing_module(error)[0] or "cloud-init"
        if module not in modules:
            modules.append(module)
    warnings = sum(len(msgs) for s in stages for msgs in s["RecoverableErrors"].values())
    starts = [_number(_stage(v1, n).get("start")) for n in names]
    ends = [_number(_stage(v1, n).get("finished")) for n in names]
    starts, ends = [t for t in starts if t is not None], [t for t in ends if t is not None]
    done = v1.get("stage") is None and _number(_stage(v1, "modules-final").get("finished")) \
        is not None
    return Summary(status="fail" if errors else ("degraded" if warnings else "pass"),
                   stages=stages, errors=errors, modules=modules, warnings=warnings,
                   boot_seconds=round(max(ends) - min(starts), 3) if starts and ends else None,
                   datasource=v1.get("datasource"), done=done)


def where_it_is(status_doc):
    """Where a boot that never finished got to: the stage running, else the next one."""
    v1 = (status_doc or {}).get("v1") if isinstance(status_doc, dict) else None
    v1 = v1 if isinstance(v1, dict) else {}
    if v1.get("stage"):
        return "still in stage {}".format(v1["stage"])
    for name in STAGES:
        stage = _stage(v1, name)
        if _number(stage.get("finished")) is None:
            if _number(stage.get("start")) is None:
                return "stage {} had not started".format(name)
            return "still in stage {}".format(name)
    return "stage modules-final had finished but result.json was not written"


def read_json(read_text, path):
    """(document, problem): the parsed file, or None and why it could not be read."""
    text = read_text(path)
    if text is None:
        return None, "{} does not exist (yet)".format(path)
    try:
        return jsonin.loads(text), None
    except ValueError:
        return None, "{} is not complete JSON (half-written?)".format(path)


def wait_for_cloud_init(read_text, status_path, result_path, wait, clock, sleep):
    """Poll until cloud-init is done or `wait` seconds pass.

    Returns (summary or None, status document or None, problem or None): a
    summary whose `done` is False means time ran out while cloud-init ran.
    """
    deadline = clock() + wait
    while True:
        status_doc, problem = read_json(read_text, status_path)
        summary = None
        if status_doc is not None:
            result_doc, _ = read_json(read_text, result_path)
            try:
                summary = summarize(status_doc, result_doc)
                problem = None
            except ValueError as exc:
                problem = "{}: {}".format(status_path, exc)
        if (summary is not None and summary.done) or clock() >= deadline:
            return summary, status_doc, problem
        sleep(min(POLL_SECONDS, max(0.0, deadline - clock())))


def message_for(summary):
    if summary.status == "fail":
        module, text = failing_module(summary.errors[0])
        more = " (and {} more)".format(len(summary.modules) - 1) if len(summary.modules) > 1 \
            else ""
        return "cloud-init failed in {}{}: {}".format(module or "a stage", more, text)[:1000]
    if summary.status == "degraded":
        return "cloud-init finished with {} warning(s) in {} s".format(summary.warnings,
                                                                     summary.boot_seconds)
    return "cloud-init finished in {} s".format(summary.boot_seconds)


def detail_fields(summary, status_text):
    return {"Stages": summary.stages, "Errors": summary.modules,
            "BootSeconds": summary.boot_seconds, "Datasource": summary.datasource,
            "CloudInitStatus": status_text}
