"""The card of Herald's own P&L reports: the design's `dailySummary`, per period.

A report is the template's six fields (uptime only when the monitor knows it) plus the
figures a trader asks next (wins and losses, notional, drawdown, best and worst trade).
A late one says so first; a correction is short: what changed, and the new totals.
"""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schemas import PnlReport
from worker.cards_trading import gain_colour
from worker.embeds import Card, Colour, field, title
from worker.formatting import amount, millis, money, number, percent
from worker.markdown import escape

_NAMES = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}


def pnl_report(ev: PnlReport) -> Card:
    name = _NAMES[ev.period]
    if ev.correction:
        return _correction(ev, name)
    fields = [
        field(f"💰 {name} P&L", money(ev.pnl)),
        field("📊 Trades", number(ev.trades, 0)),
        field("🎯 Win Rate", percent(ev.win_rate_pct, 1)),
        field("📈 Volume", amount(ev.volume, escape(ev.volume_unit), 2)),
        field("⚡ Avg Latency", _latency(ev)),
    ]
    if ev.uptime_pct is not None:
        fields.append(field("🔄 Uptime", percent(ev.uptime_pct)))
    fields += [
        field("✅ Wins / ❌ Losses", f"{number(ev.wins, 0)} / {number(ev.losses, 0)}"),
        field("💵 Notional", money(ev.notional)),
        field("📉 Max Drawdown", money(ev.max_drawdown)),
    ]
    if ev.best_pnl is not None and ev.worst_pnl is not None:
        fields.append(field("🏆 Best / Worst", f"{money(ev.best_pnl)} / {money(ev.worst_pnl)}"))
    lines = [span(ev)]
    if ev.late:
        lines.insert(0, "⏰ **Late**: Herald was not running when this period closed.")
    heading = title("📈", f"{name} Trading Summary", subject(ev), trusted=True)
    return Card(heading, gain_colour(ev.pnl), fields, "\n".join(lines), timestamp=ev.end)


def _correction(ev: PnlReport, name: str) -> Card:
    """Trades that arrived after the report: old → new, in one sentence and three fields."""
    changes = [f"trades {number(ev.previous_trades or 0, 0)} → {number(ev.trades, 0)}"]
    if ev.previous_pnl is not None and ev.previous_pnl != ev.pnl:
        changes.append(f"P&L {money(ev.previous_pnl)} → {money(ev.pnl)}")
    description = "Trades for this period arrived after its report: " + ", ".join(changes) + "."
    fields = [
        field(f"💰 {name} P&L", money(ev.pnl)),
        field("📊 Trades", number(ev.trades, 0)),
        field("🎯 Win Rate", percent(ev.win_rate_pct, 1)),
    ]
    heading = title("✏️", f"{name} Trading Summary Corrected", subject(ev), trusted=True)
    return Card(heading, Colour.BLUE, fields, description, timestamp=ev.end)


def subject(ev: PnlReport) -> str:
    """`2026-12-01`, `week of 2026-11-30`, `December 2026`."""
    if ev.period == "daily":
        return ev.label.isoformat()
    if ev.period == "weekly":
        return f"week of {ev.label.isoformat()}"
    return f"{ev.label:%B %Y}"


def span(ev: PnlReport) -> str:
    """`2026-11-30 17:00 → 2026-12-01 17:00 America/New_York`: the period in its zone."""
    try:
        zone = ZoneInfo(ev.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # event text: any string at all
        zone = ZoneInfo("UTC")
    return f"{_local(ev.start, zone)} → {_local(ev.end, zone)} {escape(zone.key)}"


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"


def _latency(ev: PnlReport) -> str:
    if ev.max_latency_ms > ev.avg_latency_ms:
        return f"{millis(ev.avg_latency_ms)} (max {millis(ev.max_latency_ms)})"
    return millis(ev.avg_latency_ms)
