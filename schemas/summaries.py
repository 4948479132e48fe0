"""Periodic summaries: the design's dailySummary and systemHealth embed templates."""

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from msgspec import Meta

from schemas.base import Event
from schemas.types import Count, Millis, Name, Percent, UtcDatetime

ReportPeriod = Literal["daily", "weekly", "monthly"]


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


class PnlReport(Event, frozen=True):
    """Herald's own P&L report for a period, computed by the books (`herald books`).

    `late`: posted after Herald came back from being down over the period's close.
    `correction`: trades for the period arrived after its report; `previous_*` are the
    figures that report showed, so the card can say what changed (when given)."""

    unsigned: ClassVar[tuple[str, ...]] = ("volume", "notional", "max_drawdown")

    period: ReportPeriod
    label: date
    """The day, the week's Monday or the month's 1st (in the reporting time zone)."""
    start: UtcDatetime
    end: UtcDatetime
    timezone: Name
    trades: Count
    wins: Count
    losses: Count
    win_rate_pct: Percent
    volume: Decimal
    notional: Decimal
    pnl: Decimal
    avg_latency_ms: Millis
    max_latency_ms: Millis = 0.0
    max_drawdown: Decimal = Decimal(0)
    """How far the cumulative P&L fell from its peak within the period (>= 0)."""
    best_pnl: Decimal | None = None
    worst_pnl: Decimal | None = None
    uptime_pct: Percent | None = None
    volume_unit: Name = "XRP"
    late: bool = False
    correction: bool = False
    previous_trades: Count | None = None
    previous_pnl: Decimal | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.wins + self.losses > self.trades:
            raise ValueError(
                f"`wins` ({self.wins}) + `losses` ({self.losses}) cannot exceed "
                f"`trades` ({self.trades})"
            )
