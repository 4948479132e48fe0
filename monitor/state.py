"""One check's state machine: UP / PENDING / DOWN / MAINTENANCE, and what changed.

Uptime Kuma's states with Gatus's thresholds: a check is PENDING while it fails fewer
than `failure_threshold` times in a row, DOWN from then on (the page), and UP again only
after `success_threshold` successes in a row (the recovery, with how long it was down).
Failing inside a maintenance window it is MAINTENANCE: no page; still failing when the
window closes, it goes DOWN and pages then. Latency over `latency_warn` for
`failure_threshold` samples in a row raises one latency alert, with a trend, until it
has been back under for `success_threshold` samples. Pure logic: the caller supplies
the samples and the clock, so tests can drive it sample by sample.
"""

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from monitor.sample import Sample
from monitor.settings import CheckSpec
from schemas.types import Trend


class State(enum.StrEnum):
    PENDING = "pending"
    UP = "up"
    DOWN = "down"
    MAINTENANCE = "maintenance"


ChangeKind = Literal["down", "up", "slow"]


@dataclass(frozen=True)
class Change:
    """Something to tell people about."""

    kind: ChangeKind
    check: CheckSpec
    at: float
    down_since: float | None = None
    """`down`: when the failures began; `up`: when it went down."""
    latency_ms: float | None = None
    trend: Trend | None = None
    detail: str = ""
    failures: int = 0


class Memory(msgspec.Struct, kw_only=True):
    """What a check remembers across samples (and, stored in Redis, across restarts)."""

    state: State = State.PENDING
    since: float = 0.0
    """When the current state began."""
    failing_since: float | None = None
    """When the current run of failures began (None while passing)."""
    down_since: float | None = None
    """When the outage began, for the recovery's 'down for'."""
    fails: int = 0
    passes: int = 0
    slow: bool = False
    slow_run: int = 0
    fast_run: int = 0
    latencies: list[float] = msgspec.field(default_factory=list)
    last_ok: bool | None = None
    last_latency_ms: float | None = None
    last_detail: str = ""
    last_at: float = 0.0


@dataclass
class CheckState:
    check: CheckSpec
    memory: Memory = field(default_factory=Memory)
    samples: int = 5
    """Recent latencies kept for the trend."""

    def observe(self, sample: Sample, *, in_maintenance: bool) -> list[Change]:
        """Take one sample; return what changed (usually nothing)."""
        m = self.memory
        self._count(sample)
        changes = self._latency(sample)
        state = self._next_state(sample, in_maintenance)
        if state is not m.state:
            changes += self._enter(state, sample)
        return changes

    def _count(self, sample: Sample) -> None:
        m = self.memory
        m.since = m.since or sample.at  # the first sample starts the first state
        if sample.ok:
            m.passes, m.fails, m.failing_since = m.passes + 1, 0, None
        else:
            m.fails, m.passes = m.fails + 1, 0
            m.failing_since = m.failing_since or sample.at
        m.last_ok, m.last_latency_ms = sample.ok, sample.latency_ms
        m.last_detail, m.last_at = sample.detail, sample.at

    def _next_state(self, sample: Sample, in_maintenance: bool) -> State:
        m, check = self.memory, self.check
        if sample.ok:
            if m.state is State.PENDING:
                return State.UP  # a first success, or one failure that was not an outage
            if m.state in (State.DOWN, State.MAINTENANCE):
                return State.UP if m.passes >= check.success_threshold else m.state
            return State.UP
        if m.fails < check.failure_threshold:
            return m.state if m.state in (State.DOWN, State.MAINTENANCE) else State.PENDING
        if m.state is State.DOWN:
            return State.DOWN  # already paged; a window opening now changes nothing
        return State.MAINTENANCE if in_maintenance else State.DOWN

    def _enter(self, state: State, sample: Sample) -> list[Change]:
        m, was = self.memory, self.memory.state
        m.state, m.since = state, sample.at
        if state is State.DOWN:
            m.down_since = m.failing_since or sample.at
            change = Change(
                "down", self.check, sample.at, m.down_since, detail=sample.detail, failures=m.fails
            )
            return [change]
        if state is State.UP and was is State.DOWN:
            since, m.down_since = m.down_since, None
            return [Change("up", self.check, sample.at, since, detail=sample.detail)]
        if state is State.UP:
            m.down_since = None  # a quiet recovery (from PENDING or MAINTENANCE): no page sent
        return []

    def _latency(self, sample: Sample) -> list[Change]:
        m, warn = self.memory, self.check.latency_warn_ms
        if sample.latency_ms is None or not sample.ok:
            return []
        m.latencies = [*m.latencies, sample.latency_ms][-self.samples :]
        if warn is None:
            return []
        if sample.latency_ms > warn:
            m.slow_run, m.fast_run = m.slow_run + 1, 0
        else:
            m.fast_run, m.slow_run = m.fast_run + 1, 0
        if not m.slow and m.slow_run >= self.check.failure_threshold:
            m.slow = True
            trend = trend_of(m.latencies)
            return [
                Change("slow", self.check, sample.at, latency_ms=sample.latency_ms, trend=trend)
            ]
        if m.slow and m.fast_run >= self.check.success_threshold:
            m.slow = False  # back to normal: the next slow spell alerts again
        return []


def trend_of(latencies: list[float] | deque[float], *, margin: float = 0.1) -> Trend:
    """Rising or falling when the newer half's mean is more than `margin` away from the
    older half's; stable otherwise (and with fewer than two samples)."""
    values = list(latencies)
    if len(values) < 2:
        return Trend.STABLE
    half = len(values) // 2
    older, newer = values[:half], values[len(values) - half :]
    before, after = sum(older) / len(older), sum(newer) / len(newer)
    if after > before * (1 + margin):
        return Trend.RISING
    if after < before * (1 - margin):
        return Trend.FALLING
    return Trend.STABLE
