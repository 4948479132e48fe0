"""The check state machine, sample by sample, with a clock the test owns."""

from monitor.sample import Sample
from monitor.settings import monitor_settings
from monitor.state import CheckState, State, trend_of
from schemas.types import Trend


def check(**extra):
    spec = {"name": "api", "kind": "tcp", "host": "127.0.0.1", "port": 1, **extra}
    return monitor_settings({"interval": "10s", "checks": [spec]}).checks[0]


def feed(state: CheckState, results, start=1000.0, *, window=False, latency=5.0):
    changes = []
    for i, ok in enumerate(results):
        sample = Sample(ok, latency if ok else None, "ok" if ok else "refused", start + 10 * i)
        changes += state.observe(sample, in_maintenance=window)
    return changes


def test_a_first_success_is_up_without_a_page():
    state = CheckState(check())
    assert feed(state, [True]) == []
    assert state.memory.state is State.UP


def test_failures_below_the_threshold_are_pending_then_one_page_at_the_threshold():
    state = CheckState(check())
    assert feed(state, [True, False, False]) == []
    assert state.memory.state is State.PENDING
    changes = feed(state, [False, False, False], start=1030.0)
    assert [c.kind for c in changes] == ["down"]
    assert changes[0].down_since == 1010.0  # when the failures began, not the page
    assert state.memory.state is State.DOWN


def test_recovery_needs_the_success_threshold_and_says_how_long_it_was_down():
    state = CheckState(check())
    feed(state, [True, False, False, False])  # down since 1010
    assert feed(state, [True], start=1100.0) == []  # one success: still DOWN
    assert state.memory.state is State.DOWN
    assert feed(state, [False, True], start=1110.0) == []  # the run of successes restarts
    changes = feed(state, [True], start=1130.0)
    assert [c.kind for c in changes] == ["up"]
    assert changes[0].at - changes[0].down_since == 120.0
    assert state.memory.state is State.UP


def test_one_failure_then_success_is_not_an_outage():
    state = CheckState(check())
    assert feed(state, [True, False, True, True]) == []
    assert state.memory.state is State.UP


def test_down_inside_a_window_is_maintenance_and_pages_when_the_window_closes():
    state = CheckState(check())
    feed(state, [True])
    assert feed(state, [False] * 5, start=1010.0, window=True) == []
    assert state.memory.state is State.MAINTENANCE
    changes = feed(state, [False], start=1100.0, window=False)
    assert [c.kind for c in changes] == ["down"]
    assert changes[0].down_since == 1010.0


def test_recovering_inside_a_window_is_quiet():
    state = CheckState(check())
    feed(state, [True])
    feed(state, [False] * 3, start=1010.0, window=True)
    assert feed(state, [True, True], start=1050.0, window=True) == []
    assert state.memory.state is State.UP


def test_latency_over_the_warning_alerts_once_with_a_trend_and_again_after_it_settled():
    state = CheckState(check(latency_warn="300ms"))
    changes = []
    for i, ms in enumerate([100, 350, 400, 500, 600, 700]):
        changes += state.observe(Sample(True, ms, "ok", 1000.0 + i), in_maintenance=False)
    assert [c.kind for c in changes] == ["slow"]
    assert changes[0].latency_ms == 500
    assert changes[0].trend is Trend.RISING
    for i in range(2):  # back under for success_threshold samples
        state.observe(Sample(True, 50, "ok", 2000.0 + i), in_maintenance=False)
    again = []
    for i in range(3):
        again += state.observe(Sample(True, 900, "ok", 3000.0 + i), in_maintenance=False)
    assert [c.kind for c in again] == ["slow"]


def test_trend_compares_the_newer_half_with_the_older():
    assert trend_of([100, 100, 200, 200]) is Trend.RISING
    assert trend_of([200, 200, 100, 100]) is Trend.FALLING
    assert trend_of([100, 105, 98, 102]) is Trend.STABLE
    assert trend_of([100]) is Trend.STABLE
