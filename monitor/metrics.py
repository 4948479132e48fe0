"""Prometheus metrics per check: its state and its probe latency, and the schedule's drift."""

from typing import Final

from prometheus_client import Gauge, Histogram

from monitor.state import State

CHECK_STATE = Gauge(
    "herald_check_state", "1 for the state a check is in, 0 for the others", ["check", "state"]
)
CHECK_LATENCY = Histogram(
    "herald_check_latency_seconds",
    "Probe latency per check",
    ["check"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DRIFT = Histogram(
    "herald_monitor_drift_seconds",
    "How late a check started against its schedule",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
)
STATES: Final = tuple(State)


def observed(check: str, state: State, latency_ms: float | None) -> None:
    for candidate in STATES:
        CHECK_STATE.labels(check, candidate.value).set(1 if candidate is state else 0)
    if latency_ms is not None:
        CHECK_LATENCY.labels(check).observe(latency_ms / 1000)


def drift(seconds: float) -> None:
    DRIFT.observe(max(0.0, seconds))
