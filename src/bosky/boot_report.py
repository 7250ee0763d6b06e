"""`bosky boot-report`: cloud-init's own verdict on this boot, as one event.

cloud-init writes /run/cloud-init/status.json (cloudinit/cmd/main.py,
status_wrapper): `v1` holds each stage (init-local, init, modules-config,
modules-final) with `start`/`finished` (seconds since boot), `errors` and, in
newer versions, `recoverable_errors` ({"WARNING": [...], "DEPRECATED": [...]}),
plus `datasource` and `stage` (null once done).  At the end of modules-final
it writes result.json: `v1.errors`.  A failing module's error reads
"('scripts_user', RuntimeError('...'))", which is how bosky names the module.

Pure functions summarise those documents; `wait_for_cloud_init` polls with a
clock and sleep passed in, retrying files that are missing or half-written.
"""

import json
import re

STAGES = ("init-local", "init", "modules-config", "modules-final")
MODULE_ERROR = re.compile(r"^\('([A-Za-z0-9_]+)',\s*(.*)\)$", re.S)
POLL_SECONDS = 0.5


class Summary(object):
    """What one boot came to: verdict, stages, failing modules, times."""

    __slots__ = ("status", "stages", "errors", "modules", "boot_seconds", "datasource",
                 "warnings", "done")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))


def failing_module(error):
    """(module name or None, the error text) from a cloud-init error string."""
    match = MODULE_ERROR.match(error.strip())
    return (match.group(1), match.group(2)) if match else (None, error.strip())


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def stage_summary(name, stage):
    start, finished = _number(stage.get("start")), _number(stage.get("finished"))
    recoverable = stage.get("recoverable_errors") or {}
    return {"Name": name,
            "Seconds": round(finished - start, 3) if start is not None and finished is not None
            else None,
            "Errors": [str(e) for e in stage.get("errors") or []],
            "RecoverableErrors": {str(k): [str(m) for m in v] for k, v in recoverable.items()
                                  if isinstance(v, list)} if isinstance(recoverable, dict)
            else {}}


def summarize(status_doc, result_doc):
    """A Summary from the parsed status.json and result.json (the latter may be None)."""
    v1 = status_doc.get("v1") if isinstance(status_doc, dict) else None
    if not isinstance(v1, dict):
        raise ValueError("status.json has no v1 object")
    stages = [stage_summary(name, v1.get(name) or {}) for name in STAGES]
    result_v1 = (result_doc or {}).get("v1") if isinstance(result_doc, dict) else None
    errors = [e for s in stages for e in s["Errors"]]
    for extra in (result_v1 or {}).get("errors") or []:
        if str(extra) not in errors:
            errors.append(str(extra))
    modules = []
    for error in errors:
        module = failing_module(error)[0] or "cloud-init"
        if module not in modules:
            modules.append(module)
    warnings = sum(len(msgs) for s in stages for msgs in s["RecoverableErrors"].values())
    starts = [_number((v1.get(n) or {}).get("start")) for n in STAGES]
    ends = [_number((v1.get(n) or {}).get("finished")) for n in STAGES]
    starts, ends = [t for t in starts if t is not None], [t for t in ends if t is not None]
    final = v1.get("modules-final") or {}
    done = v1.get("stage") is None and _number(final.get("finished")) is not None
    return Summary(status="fail" if errors else ("degraded" if warnings else "pass"),
                   stages=stages, errors=errors, modules=modules, warnings=warnings,
                   boot_seconds=round(max(ends) - min(starts), 3) if starts and ends else None,
                   datasource=v1.get("datasource"), done=done)


def stuck_stage(status_doc):
    """The stage cloud-init is in (or was last heading to), for a boot that never finished."""
    v1 = (status_doc or {}).get("v1") or {}
    if v1.get("stage"):
        return v1["stage"]
    for name in STAGES:
        if _number((v1.get(name) or {}).get("finished")) is None:
            return name
    return "modules-final"


def read_json(read_text, path):
    """(document, problem): the parsed file, or None and why it could not be read."""
    text = read_text(path)
    if text is None:
        return None, "{} does not exist (yet)".format(path)
    try:
        return json.loads(text), None
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
        first = summary.errors[0]
        module, text = failing_module(first)
        return "cloud-init failed in {}: {}".format(module or "a stage", text)[:1000]
    if summary.status == "degraded":
        return "cloud-init finished with {} warning(s) in {} s".format(summary.warnings,
                                                                     summary.boot_seconds)
    return "cloud-init finished in {} s".format(summary.boot_seconds)


def detail_fields(summary, status_text):
    return {"Stages": summary.stages, "Errors": summary.modules,
            "BootSeconds": summary.boot_seconds, "Datasource": summary.datasource,
            "CloudInitStatus": status_text}
