"""Everything a sandbox can be started with, in one frozen-ish dataclass.

The CLI, the test helper and the admin endpoint all build or update a `SandboxConfig`,
so there is one place that says what the defaults are (Discord's observed limits).
"""

import re
from dataclasses import dataclass, field

from sandbox.webhooks import Webhook, default_webhooks

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True)
class Rate:
    """`limit` requests per `period` seconds, e.g. Discord's 5 per 2 s per webhook."""

    limit: int
    period: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            raise ValueError(f"rate must allow at least 1 request per positive period: {self}")

    def __str__(self) -> str:
        return f"{self.limit}/{self.period:g}s"


def parse_rate(text: str) -> Rate:
    """Parse `5/2s`, `30/60s`, `30/1m`, `50/s` or `100/500ms`; ValueError says the form."""
    match = _RATE.match(text)
    if match is None:
        raise ValueError(f"invalid rate {text!r}: use COUNT/PERIOD such as 5/2s, 30/1m or 50/1s")
    count, amount, unit = match.groups()
    period = float(amount or 1) * _UNIT_SECONDS[unit]
    if int(count) < 1 or period <= 0:
        raise ValueError(f"invalid rate {text!r}: count and period must both be positive")
    return Rate(int(count), period)


WEBHOOK_RATE = Rate(5, 2.0)
CHANNEL_RATE = Rate(30, 60.0)
GLOBAL_RATE = Rate(50, 1.0)


@dataclass
class Faults:
    """Injected failures; rates are probabilities per request, drawn from a seeded RNG."""

    fail_rate: float = 0.0
    fail_statuses: tuple[int, ...] = (500, 502, 503)
    slow_rate: float = 0.0
    slow_seconds: float = 1.0
    drop_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in ("fail_rate", "slow_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.slow_seconds < 0:
            raise ValueError(f"slow_seconds must be >= 0, got {self.slow_seconds}")
        if not self.fail_statuses or any(not 500 <= s <= 599 for s in self.fail_statuses):
            raise ValueError(f"fail_statuses must be 5xx codes, got {self.fail_statuses}")


@dataclass
class SandboxConfig:
    """How a sandbox behaves; `None` for a rate disables that limit."""

    host: str = "127.0.0.1"
    port: int = 8765
    webhook_rate: Rate | None = WEBHOOK_RATE
    channel_rate: Rate | None = CHANNEL_RATE
    global_rate: Rate | None = GLOBAL_RATE
    faults: Faults = field(default_factory=Faults)
    seed: int | None = None
    strict_tokens: bool = False
    webhooks: list[Webhook] = field(default_factory=default_webhooks)
    max_messages_per_channel: int = 10_000
