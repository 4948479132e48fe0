"""A period's report: the `PnlReport` event from the books' figures, its chart, and posting.

One path for every report: the scheduler's (books/schedule.py), `herald report --post`
and the demo's all go through `post`, so what a trader sees on schedule and on demand is
the same message.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Final, Protocol

from books import chart
from books.periods import Period
from books.query import Figures
from schemas import Attachment, PnlReport
from worker.cards_trading import base_asset

NAMES: Final = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}
SOURCE: Final = "herald-books"
"""The envelope source of every report (the footer says who computed it)."""


class Publishes(Protocol):
    """What posting needs of a `producer.Publisher` (a fake in unit tests)."""

    def publish(
        self,
        event: PnlReport,
        *,
        dedup_key: str | None = None,
        channels: Iterable[str] | None = None,
        attachments: Iterable[Attachment] = (),
    ) -> str: ...

    def flush(self, timeout: float = 5.0) -> bool: ...


def report_event(
    period: Period,
    fig: Figures,
    *,
    late: bool = False,
    previous: tuple[int, Decimal] | None = None,
    uptime_pct: float | None = None,
) -> PnlReport:
    """The report of `period`; `previous` (trades, P&L as last posted) makes it a correction."""
    return PnlReport(
        period=period.kind,
        label=period.label,
        start=period.start.astimezone(UTC),  # as it travels (msgpack carries UTC)
        end=period.end.astimezone(UTC),
        timezone=period.zone.key,
        trades=fig.trades,
        wins=fig.wins,
        losses=fig.losses,
        win_rate_pct=round(fig.win_rate, 4),
        volume=fig.volume,
        notional=fig.notional,
        pnl=fig.pnl,
        avg_latency_ms=round(fig.avg_latency_ms, 4),
        max_latency_ms=round(fig.max_latency_ms, 4),
        max_drawdown=fig.max_drawdown,
        best_pnl=fig.best_pnl,
        worst_pnl=fig.worst_pnl,
        uptime_pct=None if uptime_pct is None else round(uptime_pct, 3),
        volume_unit=volume_unit(fig),
        late=late,
        correction=previous is not None,
        previous_trades=None if previous is None else previous[0],
        previous_pnl=None if previous is None else previous[1],
    )


def volume_unit(fig: Figures) -> str:
    """The base asset when every pair traded shares one (`XRP`), else `units`."""
    assets = {base_asset(pair) for pair in fig.by_pair}
    return assets.pop() if len(assets) == 1 else "units"


def chart_png(period: Period, fig: Figures, *, now: datetime | None = None) -> bytes:
    """The period's chart: the cumulative curve of a day (held flat up to `now` while the
    day runs), the P&L per day of a week or month."""
    zone = "" if period.zone.key == "UTC" else f" ({period.zone.key})"
    title = f"{NAMES[period.kind]} P&L · {subject_of(period)}{zone}"
    if period.kind == "daily":
        points = [(datetime.fromisoformat(t), float(v)) for t, v in fig.series]
        return chart.daily_chart(points, start=period.start, end=period.end, title=title, upto=now)
    per_day = {date.fromisoformat(d[:10]): float(v) for d, v in fig.series}
    days = [(day, per_day.get(day, 0.0)) for day in period.days()]
    return chart.bars_chart(days, title=title)


def subject_of(period: Period) -> str:
    """`2026-12-01`, `week of 2026-11-30`, `December 2026`: as the card's title says."""
    if period.kind == "daily":
        return period.label.isoformat()
    if period.kind == "weekly":
        return f"week of {period.label.isoformat()}"
    return f"{period.label:%B %Y}"


def chart_file(period: Period, fig: Figures, *, now: datetime | None = None) -> Attachment:
    return Attachment(
        filename=f"pnl-{period.kind}-{period.label.isoformat()}.png",
        data=chart_png(period, fig, now=now),
        description=f"{NAMES[period.kind]} P&L chart, {subject_of(period)}",
    )


def dedup_key(period: Period, version: int) -> str:
    """The same for every send of one report (or of its n-th correction): a re-send after
    a crash folds into the first in the dispatcher instead of posting twice."""
    return f"report:{period.key}:v{version}"


def post(
    publisher: Publishes,
    period: Period,
    fig: Figures,
    channel: str,
    *,
    version: int | None = None,
    late: bool = False,
    previous: tuple[int, Decimal] | None = None,
    uptime_pct: float | None = None,
    now: datetime | None = None,
) -> str:
    """Publish the report with its chart (a correction goes without: it is one line);
    returns the event id. `version` gives the dedupe key of a scheduled send."""
    event = report_event(period, fig, late=late, previous=previous, uptime_pct=uptime_pct)
    files = () if previous is not None else (chart_file(period, fig, now=now),)
    return publisher.publish(
        event,
        dedup_key=None if version is None else dedup_key(period, version),
        channels=(channel,),
        attachments=files,
    )
