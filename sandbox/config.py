"""Everything a sandbox can be started with, in one frozen-ish dataclass.

The CLI, the test helper and the admin endpoint all build or update a `SandboxConfig`,
so there is one place that says what the defaults are (Discord's observed limits).
"""

from dataclasses import dataclass, field

from ground.rates import CHANNEL_RATE, GLOBAL_RATE, WEBHOOK_RATE, Rate
from sandbox.webhooks import Webhook, default_webhooks


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
