"""One probe's result: what every check kind returns and the state machine reads."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sample:
    ok: bool
    latency_ms: float | None
    """How long the probe took (None when it timed out or never connected)."""
    detail: str
    """Why it failed (`HTTP 503`, `connection refused`, `timed out after 5s`), or a short
    note of success (`HTTP 200`). Redacted before it is shown anywhere."""
    at: float
    """Wall-clock time the probe started (epoch seconds)."""
