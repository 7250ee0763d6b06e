"""The `bosky boot-report` command: wait for cloud-init, then report its verdict once.

Reads cloud-init's files (through deps), builds the event from
`boot_report`'s summary, adds the output log's tail on failure, and sends it
with the usual delivery guarantees (spooled if the network is not there).
With --complete-lifecycle it gates the launch hook on the verdict: CONTINUE
for pass and degraded, ABANDON for fail.  A marker under the state directory
makes it report once per instance unless --every-boot.
"""

import os

from bosky import boot_report, errors
from bosky.emit import EventSpec, send_then_complete

TAIL_BYTES = 4096
CLOUD_INIT_STATUS = {"pass": "done", "fail": "error", "degraded": "degraded"}


def spec_for(summary, problem, status_doc, wait, log_tail):
    """The EventSpec for what was found: a summary, a boot still running, or nothing readable."""
    if summary is None:
        fields = {"CloudInitStatus": "unreadable"}
        message = "cloud-init's status could not be read within {:g} s: {}".format(wait, problem)
        return EventSpec("fail", message, fields, tail=log_tail)
    if not summary.done:
        fields = boot_report.detail_fields(summary, "running")
        message = "cloud-init did not finish within {:g} s: still in stage {}".format(
            wait, boot_report.stuck_stage(status_doc))
        return EventSpec("fail", message, fields, tail=log_tail)
    fields = boot_report.detail_fields(summary, CLOUD_INIT_STATUS[summary.status])
    return EventSpec(summary.status, boot_report.message_for(summary), fields,
                     tail=log_tail if summary.status == "fail" else None)


def boot_report_command(reporter, run_dir, log_path, wait, every_boot, state_dir):
    deps, settings = reporter.deps, reporter.settings
    if not deps.files.is_dir(run_dir):
        raise errors.UsageError(reason="not a cloud-init machine: {} does not exist (pass "
                                       "--run-dir if cloud-init keeps its state elsewhere)"
                                       .format(run_dir))
    marker = None
    if not every_boot:
        instance = reporter.instance(reporter.new_run()).identity.instance_id
        marker = os.path.join(state_dir, "boot-reported.{}".format(instance))
        if deps.read_text(marker) is not None:
            deps.log("boot already reported for {} ({}); --every-boot reports again"
                     .format(instance, marker))
            return errors.EXIT_OK
    summary, status_doc, problem = boot_report.wait_for_cloud_init(
        deps.read_text, os.path.join(run_dir, "status.json"),
        os.path.join(run_dir, "result.json"), wait, deps.monotonic, deps.sleep)
    tail_bytes = deps.files.read_tail(log_path, TAIL_BYTES)
    tail = tail_bytes.decode("utf-8", "replace") if tail_bytes is not None else None
    spec = spec_for(summary, problem, status_doc, wait, tail)
    try:
        if settings.complete_lifecycle:
            send_then_complete(reporter, spec, False,
                               "ABANDON" if spec.status == "fail" else "CONTINUE")
        else:
            reporter.send(spec)
    except errors.SpooledError:
        _mark(deps, marker)  # the event is safe in the spool: this boot is reported
        raise
    _mark(deps, marker)
    return errors.EXIT_OK


def _mark(deps, marker):
    if marker is not None:
        try:
            deps.files.touch(marker)
        except OSError as exc:  # the report went out; only "once per instance" is at stake
            deps.warn("cannot write {}: {}; the next boot may report again".format(
                marker, exc.strerror))
