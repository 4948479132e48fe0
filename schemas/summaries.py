"""Periodic summaries: the design's dailySummary and systemHealth embed templates."""

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar

from msgspec import Meta

from schemas.base import Event
from schemas.types import Count, Millis, Name, Percent


class DailySummary(Event, frozen=True):
    unsigned: ClassVar[tuple[str, ...]] = ("volume",)

    day: date
    pnl: Decimal
    trades: Count
    win_rate_pct: Percent
    volume: Decimal
    avg_latency_ms: Millis
    uptime_pct: Percent
    volume_unit: Name = "XRP"


class HealthSummary(Event, frozen=True):
    services_up: Count
    services_total: Count
    avg_latency_ms: Millis
    uptime_pct: Percent
    memory_pct: Percent
    cpu_pct: Percent
    network_status: Name
    down: Annotated[tuple[Name, ...], Meta(max_length=1000)] = ()
    """The services down right now (the card lists as many as fit, then `+N more`)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.services_up > self.services_total:
            raise ValueError(
                f"`services_up` ({self.services_up}) cannot exceed "
                f"`services_total` ({self.services_total})"
            )
