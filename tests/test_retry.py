"""The retry rules as pure functions: classification, backoff schedule, clock offset."""

import calendar

import pytest

from bosky import errors, retry


def service_error(code, status=400, detail="x", date=""):
    return errors.ServiceError("EventBridge", code, detail, status=status, server_date=date)


@pytest.mark.parametrize("attempt,kind,expected", [
    (1, retry.THROTTLE, 1.0), (2, retry.THROTTLE, 2.0), (5, retry.THROTTLE, 16.0),
    (6, retry.THROTTLE, 20.0), (30, retry.THROTTLE, 20.0),
    (1, retry.TRANSIENT, 0.05), (4, retry.TRANSIENT, 0.4), (12, retry.TRANSIENT, 20.0),
])
def test_backoff_ceiling_doubles_and_caps_at_20_seconds(attempt, kind, expected):
    assert retry.backoff_delay(attempt, kind, lambda: 1.0) == pytest.approx(expected)


def test_backoff_is_full_jitter_below_the_ceiling():
    assert retry.backoff_delay(3, retry.THROTTLE, lambda: 0.25) == pytest.approx(1.0)
    assert retry.backoff_delay(3, retry.THROTTLE, lambda: 0.0) == 0.0


SKEW_TEXT = "Signature expired: 20261121T100000Z is now earlier than 20261121T100500Z"
A_DATE = "Sat, 21 Nov 2026 10:10:00 GMT"


@pytest.mark.parametrize("error,kind", [
    (service_error("ThrottlingException"), retry.THROTTLE),
    (service_error("Throttling"), retry.THROTTLE),
    (service_error("InternalFailure", 500), retry.TRANSIENT),
    (service_error("503", 503), retry.TRANSIENT),
    (service_error("ServiceUnavailable", 503), retry.TRANSIENT),
    (service_error("AccessDeniedException"), retry.FATAL),
    (service_error("ValidationException"), retry.FATAL),
    (service_error("429", 429), retry.FATAL),  # as in the SDKs' standard mode
    (service_error("InvalidSignatureException", detail=SKEW_TEXT, date=A_DATE), retry.SKEW),
    (service_error("InvalidSignatureException", detail=SKEW_TEXT), retry.FATAL),
    (service_error("InvalidSignatureException", detail="does not match", date=A_DATE),
     retry.FATAL),
    (errors.TransportError("PutEvents", "read", "no reply", "http://x"), retry.TRANSIENT),
    (errors.UnexpectedReplyError("EventBridge", "not JSON"), retry.TRANSIENT),
    (errors.NoCredentialsError(reason="none"), retry.FATAL),
])
def test_classification(error, kind):
    assert retry.classify(error) == kind


def test_clock_offset_from_the_date_header():
    local = calendar.timegm((2026, 11, 21, 10, 0, 0)) - 600.0  # ten minutes behind
    assert retry.clock_offset("Sat, 21 Nov 2026 10:00:00 GMT", local) == 600.0
    assert retry.clock_offset("garbage", local) is None
    assert retry.clock_offset("", local) is None


# -- the deadline counts from process start ----------------------------------------

STAT = "4242 (python3 (x) y) S 1 4242 4242 0 -1 4194304 1 0 0 0 0 0 0 0 20 0 1 0 {start} 1 1"


def test_process_age_counts_from_the_process_start_time():
    from bosky import deadline
    # started at tick 10000 (100 s after boot at 100 ticks/s); uptime now 101.5 s
    assert deadline.process_age(STAT.format(start=10000), "101.50 99.0", 100) == \
        pytest.approx(1.5)


def test_an_exec_from_an_old_shell_is_not_charged_to_the_deadline():
    from bosky import deadline
    assert deadline.process_age(STAT.format(start=10000), "700.00 1.0", 100) is None


def test_unreadable_proc_text_gives_no_age():
    from bosky import deadline
    assert deadline.process_age("garbage", "1.0", 100) is None
    assert deadline.process_age(STAT.format(start=1), "", 100) is None


def test_deadline_starts_with_the_time_already_used():
    from bosky.deadline import Deadline
    now = [100.0]
    limit = Deadline(4.0, lambda: now[0], already_used=1.5)
    assert limit.remaining() == pytest.approx(2.5)
    now[0] += 2.5
    with pytest.raises(errors.DeadlineExceeded):
        limit.timeout_for(10.0, "sending")


def test_the_wait_before_a_retry_is_cut_to_the_deadline():
    from bosky.deadline import Deadline
    now, slept = [0.0], []
    limit = Deadline(1.0, lambda: now[0])
    assert retry.wait_before_retry(5.0, limit, slept.append, lambda text: None, 1)
    assert slept == [pytest.approx(1.0 - retry.MIN_ATTEMPT_SECONDS)]
    now[0] = 0.95  # less than one attempt's worth left: no sleep, no retry
    assert not retry.wait_before_retry(0.01, limit, slept.append, lambda text: None, 2)
    assert len(slept) == 1
