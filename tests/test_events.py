"""Entry building, EventBridge's size rule, and reading the PutEvents reply."""

import json

import pytest

from bosky import errors, events


def entry_with(message="m", source="p", resources=("arn:aws:ec2:us-east-1:1:instance/i-1",)):
    detail = events.build_detail("fail", message, "i-1", "u-1")
    return events.build_entry(source, "User Data", detail, resources, None, 1700000000.9)


def test_detail_cannot_be_forged_by_the_message():
    message = '", "Status": "pass", "x": "'
    assert json.loads(events.build_detail("fail", message, "i-1", "u-1")) == {
        "Status": "fail", "Message": message, "InstanceId": "i-1", "EventUuid": "u-1"}


def test_time_is_whole_epoch_seconds():
    assert entry_with()["Time"] == 1700000000


def test_size_counts_utf8_bytes_the_way_eventbridge_does():
    entry = entry_with(message="\u00e9\u1234")
    expected = (14 + len("p") + len("User Data") + len(entry["Detail"].encode("utf-8"))
                + len("arn:aws:ec2:us-east-1:1:instance/i-1"))
    assert events.entry_size(entry) == expected
    assert "\u00e9" in entry["Detail"]  # not \u-escaped, so 2 bytes, not 6


def test_event_bus_name_is_not_counted():
    plain = entry_with()
    on_bus = dict(plain, EventBusName="x" * 100)
    assert events.entry_size(on_bus) == events.entry_size(plain)


def test_entry_at_the_limit_passes_and_one_byte_more_fails():
    base = events.entry_size(entry_with(message=""))
    fits = entry_with(message="x" * (events.MAX_ENTRY_BYTES - base))
    assert events.entry_size(fits) == events.MAX_ENTRY_BYTES
    events.validate_entry(fits)
    with pytest.raises(errors.ValidationError) as caught:
        events.validate_entry(entry_with(message="x" * (events.MAX_ENTRY_BYTES - base + 1)))
    assert "262145 bytes" in str(caught.value) and "262144" in str(caught.value)


@pytest.mark.parametrize("source", ["aws.ec2", "AWS.custom", "", "s" * 257])
def test_bad_sources_are_refused(source):
    with pytest.raises(errors.ValidationError):
        events.check_names(source, "User Data")


def test_lone_surrogates_from_argv_become_replacement_characters():
    assert events.sanitize_text("ok \udcff") == "ok \ufffd"


@pytest.mark.parametrize("bus,ok", [
    ("default", True), ("boot.events_1-x", True), ("a/b", False), ("", False),
    ("arn:aws:events:us-east-1:123456789012:event-bus/boot", True),
    ("arn:aws:events:us-east-1:1234:event-bus/boot", False),
])
def test_event_bus_names_and_arns(bus, ok):
    if ok:
        assert events.check_event_bus(bus) == bus
    else:
        with pytest.raises(errors.ValidationError):
            events.check_event_bus(bus)


def reply(document):
    return json.dumps(document).encode("utf-8")


def test_accepted_reply_gives_event_ids():
    body = reply({"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]})
    [result] = events.read_put_events_reply(body, 1)
    assert result.event_id == "e-1" and result.error_code is None


def test_failed_entry_in_a_200_reply_is_not_accepted():
    body = reply({"FailedEntryCount": 1, "Entries": [
        {"EventId": "e-1"},
        {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "nope"}]})
    accepted, failed = events.read_put_events_reply(body, 2, "req-9")
    assert accepted.event_id == "e-1"
    assert failed.event_id is None and failed.error_code == "NotAuthorizedForSourceException"
    text = str(events.entry_error(failed, "req-9"))
    assert "NotAuthorizedForSourceException: nope" in text and "req-9" in text
    assert "--project" in text


@pytest.mark.parametrize("body", [b"", b"<html>", reply({"Entries": []}), reply([1]),
                                  reply({"FailedEntryCount": 1,
                                         "Entries": [{"EventId": "e-1"}]})])
def test_unreadable_or_inconsistent_replies_are_not_success(body):
    with pytest.raises(errors.UnexpectedReplyError):
        events.read_put_events_reply(body, 1)


def sized(n):
    return {"Source": "s", "DetailType": "d", "Detail": "x" * (n - 16), "Time": 1}


def test_batches_hold_at_most_ten_entries_in_order():
    entries = [sized(100) for _ in range(23)]
    batches = events.batch_entries(entries)
    assert [len(b) for b in batches] == [10, 10, 3]
    assert [e for b in batches for e in b] == entries


def test_batches_stay_within_the_size_limit():
    big = events.MAX_ENTRY_BYTES // 2
    entries = [sized(big), sized(big), sized(10)]
    assert [events.entry_size(e) for e in entries[:2]] == [big, big]
    assert [len(b) for b in events.batch_entries(entries)] == [2, 1]
    assert [len(b) for b in events.batch_entries([sized(big + 1), sized(big)])] == [1, 1]


def test_a_number_json_cannot_hold_becomes_null_not_nan():
    detail = json.loads(events.build_detail("pass", "m", "i-1", "u", {
        "BootSeconds": float("inf"), "Stages": [{"Seconds": float("nan")}]}),
        parse_constant=lambda name: pytest.fail("{} in the Detail".format(name)))
    assert detail["BootSeconds"] is None and detail["Stages"] == [{"Seconds": None}]


def test_bosky_s_own_fields_are_cut_to_fit_and_the_tail_keeps_its_end():
    from bosky import fit
    fields = {"Command": ["x" * 200000, "y" * 100000], "Steps": [{"Step": str(n)}
                                                              for n in range(5000)]}

    def make_entry(tail):
        if tail is not None:
            fields["OutputTail"] = tail
        return events.build_entry("web", "User Data", events.build_detail(
            "fail", "kept whole", "i-1", "u", fields), [], None, 0)
    entry = fit.fit_entry(make_entry, fields, "t" * 50000 + "the end\n")
    detail = json.loads(entry["Detail"])
    assert events.entry_size(entry) <= events.MAX_ENTRY_BYTES
    assert detail["Message"] == "kept whole" and detail["OutputTail"].endswith("the end\n")
    assert len(detail["OutputTail"]) >= fit.TAIL_ROOM
    assert detail["Command"][0].endswith("characters cut]")
    assert detail["Steps"][-1].endswith("items cut]")
