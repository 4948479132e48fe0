"""The verdict tells a backlog draining at Discord's limit (a note) from a stalled one (a
problem), gives every problem a stable key, and keeps monitor checks out of `healthy`."""

import pytest

from tests.unit.status_samples import NOW, channel, check, status
from worker import drain
from worker.status_model import DeadLetterSummary, LaneStatus, RateWindow
from worker.verdict import diagnose, notes, problems

DEFAULT = [(5, 2.0), (30, 60.0)]


def keys(s) -> list[str]:
    return [p.key for p in problems(s)]


def burst(**kw) -> object:
    """#trading-alerts during the demo's burst: 1,830 queued, the oldest 4 minutes old."""
    fields = dict(queued=1830, oldest_undelivered_age_s=240.0, last_delivered_at=NOW - 2)
    return channel(**{**fields, **kw})


def test_the_drain_rate_is_the_slowest_window_times_ten_events() -> None:
    assert drain.slowest(DEFAULT) == (30, 60.0)
    assert drain.events_per_second(DEFAULT) == pytest.approx(5.0)
    assert drain.digest_threshold(DEFAULT, 60.0) == 300
    assert drain.digest_threshold(DEFAULT, 1.0) == drain.DIGEST_FLOOR
    assert drain.drain_seconds(1830, DEFAULT, max_lag_s=60, digest=False) == pytest.approx(366)
    assert drain.drain_seconds(1830, DEFAULT, max_lag_s=60, digest=True) == 0.0
    assert drain.drain_seconds(200, DEFAULT, max_lag_s=60, digest=True) == pytest.approx(40)


def test_a_backlog_sending_at_the_limit_is_a_note_not_a_problem() -> None:
    s = status(channels=[burst()])
    assert problems(s) == []
    [note] = notes(s)
    assert note.startswith("#trading-alerts: 1,830 events queued, the oldest for 4m 00s")
    assert "sending at Discord's limit (30 messages/min, up to 10 events each)" in note
    assert note.endswith("drained in about 6 min.")


def test_a_backlog_waiting_only_for_its_rate_limit_slot_is_draining() -> None:
    # No delivery for 10 minutes, but a 429's penalty says when the next send is due.
    s = status(channels=[burst(last_delivered_at=NOW - 600, next_send_in_s=300.0)])
    assert problems(s) == []
    assert notes(s)[0].endswith("drained in about 11 min.")  # 300 s wait + 366 s


@pytest.mark.parametrize(("ago", "draining"), [(119.0, True), (121.0, False)])
def test_delivered_lately_means_within_twice_the_longest_window(ago, draining) -> None:
    s = status(channels=[burst(last_delivered_at=NOW - ago)])
    assert keys(s) == ([] if draining else ["stalled:trading-alerts"])


def test_with_short_windows_lately_is_at_least_a_minute() -> None:
    windows = [RateWindow(messages=5, seconds=2.0)]
    assert keys(status(rate_windows=windows, channels=[burst(last_delivered_at=NOW - 59)])) == []
    stalled = status(rate_windows=windows, channels=[burst(last_delivered_at=NOW - 61)])
    assert keys(stalled) == ["stalled:trading-alerts"]


def test_a_backlog_nothing_delivered_lately_is_stalled() -> None:
    s = status(channels=[burst(last_delivered_at=NOW - 600)])
    [p] = problems(s)
    assert (p.key, p.channel) == ("stalled:trading-alerts", "trading-alerts")
    assert p.text.startswith("#trading-alerts: backlog of 1,830 events, the oldest waiting 4m 00s")
    assert "last delivery 10m 00s ago" in p.text
    assert "Check that `herald worker` is running" in p.text
    assert notes(s) == []
    assert diagnose(s) == [p.text]


def test_a_backlog_whose_requests_keep_failing_is_stalled_even_after_a_delivery() -> None:
    s = status(channels=[burst(attempts=3, last_error="HTTP 503", next_send_in_s=8.0)])
    [p] = problems(s)
    assert p.key == "stalled:trading-alerts"
    assert "attempt 3 failed: HTTP 503" in p.text
    assert "next send in 8.0s" in p.text
    assert "delivery.max_attempts" in p.text


def test_a_backlog_without_a_worker_is_stalled_and_says_so() -> None:
    s = status(channels=[burst()], workers_alive=0, workers=[])
    assert keys(s) == ["stalled:trading-alerts", "no-worker"]
    assert "last delivery 2.0s ago" in diagnose(s)[0]
    assert "No delivery worker is running, with 1,830 events" in diagnose(s)[1]


def test_a_young_backlog_is_neither_a_problem_nor_a_note() -> None:
    s = status(channels=[burst(oldest_undelivered_age_s=30.0, last_delivered_at=None)])
    assert (problems(s), notes(s)) == ([], [])


def test_a_digest_channel_says_its_backlog_collapses() -> None:
    big = burst(name="market-data", digest=True, queued=5000, next_send_in_s=2.0)
    small = burst(name="market-data", digest=True, queued=120)
    [collapsing] = notes(status(channels=[big]))
    assert collapsing.startswith("#market-data: 5,000 events queued")
    assert "more than it can send within 1m 00s" in collapsing
    assert "collapse into one digest, sent in under a minute" in collapsing
    [draining] = notes(status(channels=[small]))
    assert "drained in under a minute" in draining
    assert "a backlog over 300 events collapses into a digest" in draining


def test_every_problem_has_a_stable_key() -> None:
    s = status(
        channels=[
            channel("trading-alerts", webhook="dead", dead_reason="webhook gone: HTTP 404"),
            channel("system-status", webhook="none", queued=2),
        ],
        lanes=[LaneStatus(name="normal", stream="s", length=9, lag=9, pending=0,
                          oldest_age_s=120.0)],
        dispatchers_alive=0, dispatchers=[], dlq_size=1,
        dlq_newest=[DeadLetterSummary(id="d", time=NOW, channel=None, kind=None, reason="x")],
    )  # fmt: skip
    assert keys(s) == [
        "webhook-dead:trading-alerts",
        "no-webhook:system-status",
        "lane-behind:normal",
        "dlq",
        "no-dispatcher",
    ]
    assert [p.channel for p in problems(s)] == ["trading-alerts", "system-status"] + [None] * 3
    assert diagnose(s) == [p.text for p in problems(s)]


def test_a_down_check_is_shown_not_judged() -> None:
    s = status(checks=[check("api", state="down", last_detail="HTTP 502")])
    assert (problems(s), notes(s)) == ([], [])


def test_stale_checks_are_a_note_and_a_silent_monitor_a_problem() -> None:
    fresh, stale = check("api"), check("db", last_at=NOW - 95)  # 3 × 30 s
    assert (fresh.stale, stale.stale) == (False, True)
    [note] = notes(status(checks=[fresh, stale]))
    assert "db (last 1m 35s ago)" in note
    assert "api" not in note
    assert problems(status(checks=[fresh, stale])) == []
    silent = status(checks=[stale, check("api", last_at=NOW - 600)])
    [p] = problems(silent)
    assert p.key == "monitor-stale"
    assert "none of its 2 checks" in p.text
    assert "the last ran 1m 35s ago" in p.text
    assert notes(silent) == []
