"""/trades, /positions and /pnl: the books' figures as Discord messages (and a chart).

Everything is read from the books' aggregates (`books.query`), never by scanning
trades, so these answer in a few Redis round trips.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

import redis

from books import chart
from books.periods import KINDS, Period, period_containing, period_for_date
from books.query import Figures, latest_pnl, positions, recent_trades
from books.query import figures as period_figures
from books.settings import load_report_settings
from bot.replies import BLUE, GREEN, RED, code, embed, message
from worker.formatting import money, number, signed

CHART_NAME: Final = "pnl.png"


def trades_message(
    client: redis.Redis, count: int, pair: str | None, ephemeral: bool
) -> dict[str, Any]:
    rows = [
        f"`{t.at:%m-%d %H:%M}` {t.side.upper()} {number(t.amount, 4)} {code(t.pair)} @ "
        f"{number(t.price, 6)}, P&L {signed(t.pnl, 2)} ({code(t.strategy)})"
        for t in recent_trades(client, count=count, pair=pair)
    ]
    title = f"Last {len(rows)} trade(s)" + (f" of {code(pair)}" if pair else "")
    body = "\n".join(rows) or "No trades yet."
    return message(embeds=[embed(title, body)], ephemeral=ephemeral)


def positions_message(client: redis.Redis, ephemeral: bool) -> dict[str, Any]:
    rows = [
        f"{code(p.pair)}: {signed(p.net_amount, 4)}"
        + (f" @ {number(p.avg_entry, 6)}" if p.avg_entry is not None else " (flat)")
        + f", last {number(p.last_price, 6)}"
        for p in positions(client, open_only=True)
    ]
    fields = []
    snapshot = latest_pnl(client)
    if snapshot is not None:
        fields.append(
            (
                "Trading system (last pnl_update)",
                f"{snapshot.open_positions} open, exposure {money(snapshot.exposure)}, "
                f"daily {money(snapshot.daily_pnl)}, total {money(snapshot.total_pnl)}",
            )
        )
    body = "\n".join(rows) or "No open positions."
    return message(embeds=[embed("Positions", body, fields=fields)], ephemeral=ephemeral)


def pnl_period(kind: str, day: date | None, config_file: str | None) -> Period:
    """The period holding `day` (None: the one running now, in the reporting timezone)."""
    settings = load_report_settings(config_file)
    if kind not in KINDS:
        raise ValueError(f"not a period: {kind!r}")
    if day is None:
        return period_containing(kind, datetime.now(UTC), settings)
    return period_for_date(kind, day, settings)


def pnl_figures(client: redis.Redis, period: Period) -> Figures:
    return period_figures(client, period)


def pnl_message(period: Period, figures: Figures, with_chart: bool) -> dict[str, Any]:
    fields = [
        ("P&L", money(figures.pnl)),
        ("Trades", number(figures.trades, 0)),
        ("Wins / losses", f"{figures.wins} / {figures.losses}"),
        ("Win rate", f"{figures.win_rate:.1f}%"),
        ("Volume", number(figures.volume, 2)),
        ("Notional", money(figures.notional)),
        ("Avg latency", f"{figures.avg_latency_ms:.1f} ms"),
        ("Max drawdown", money(figures.max_drawdown)),
    ]
    colour = BLUE if not figures.trades else GREEN if figures.pnl >= 0 else RED
    image = f"attachment://{CHART_NAME}" if with_chart else None
    title = f"P&L {period.kind}: {_label(period)}"
    return message(embeds=[embed(title, colour=colour, fields=fields, image=image, inline=True)])


def _label(period: Period) -> str:
    last = period.end_label()
    if last == period.label:
        return period.label.isoformat()
    return f"{period.label.isoformat()} → {last.isoformat()}"


def pnl_chart(period: Period, figures: Figures) -> bytes:
    """The daily cumulative curve, or P&L per day for a week or month."""
    title = f"P&L {_label(period)}"
    if period.kind == "daily":
        points = [(datetime.fromisoformat(at), float(v)) for at, v in figures.series]
        upto = min(datetime.now(UTC), period.end)
        return chart.daily_chart(points, start=period.start, end=period.end, title=title, upto=upto)
    days = [(date.fromisoformat(d), float(Decimal(v))) for d, v in figures.series]
    return chart.bars_chart(days, title=title)
