"""What a worker process builds once and every flush job shares, and the page it sends
when a channel's webhook is gone."""

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from redis import Redis

from ground import keyspace
from ground.channels import CRITICAL_ALERTS
from schemas.codec import encode
from schemas.envelope import wrap
from schemas.health import ServiceDown
from worker.config import Settings
from worker.discord import DiscordClient
from worker.outbox import OutboxItem
from worker.ratelimit import RateBudget, budget_windows
from worker.scripts import SETTLE


@dataclass
class Engine:
    """What a worker process builds once and every flush job shares."""

    redis: Redis
    settings: Settings
    client: DiscordClient
    budget: RateBudget
    settle: Any = field(init=False)

    def __post_init__(self) -> None:
        self.settle = self.redis.register_script(SETTLE)

    @classmethod
    def create(
        cls, client: Redis, settings: Settings, discord: DiscordClient | None = None
    ) -> "Engine":
        return cls(
            redis=client,
            settings=settings,
            client=discord or DiscordClient(read_timeout=settings.request_timeout_s),
            budget=RateBudget(client, windows=budget_windows(settings.rate_windows)),
        )


def raise_alert(client: Redis, channel: str, reason: str) -> None:
    """Tell #critical-alerts that a channel's webhook is gone (it is the operator's job now)."""
    event = ServiceDown(
        service=f"discord webhook #{channel}",
        server="herald",
        duration=timedelta(0),
        impact=f"{reason}. Its events are in the dead-letter queue: fix the webhook, then "
        f"`herald dlq replay --channel {channel}`.",
    )
    envelope = wrap(event, source="herald", now_ns=time.time_ns())
    item = OutboxItem(raw=encode(envelope), queued_ms=int(time.time() * 1000))
    client.rpush(keyspace.outbox(CRITICAL_ALERTS), item.pack())
