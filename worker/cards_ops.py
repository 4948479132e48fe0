"""Cards for #market-data, #maintenance and the periodic summaries (the JS templates)."""

from collections.abc import Sequence
from datetime import datetime

from schemas import (
    DailySummary,
    HealthSummary,
    MaintenanceScheduled,
    ManualOperation,
    OperationResult,
    PriceAlert,
    VolumeAlert,
)
from worker.cards_trading import base_asset, gain_colour
from worker.embeds import Card, Colour, field, link, text, title
from worker.formatting import amount, duration, millis, money, number, percent, signed, utc
from worker.limits import FIELD_VALUE
from worker.markdown import escape, one_line


def when(moment: datetime) -> str:
    """`2026-11-28 06:00 UTC (<t:…:R>)`: fixed UTC text plus Discord's local, relative time."""
    at = utc(moment)
    return f"{at:%Y-%m-%d %H:%M} UTC (<t:{int(at.timestamp())}:R>)"


def price_alert(ev: PriceAlert) -> Card:
    rising = ev.change_pct >= 0
    fields = [
        field("Price", money(ev.price, 6)),
        field("Previous", money(ev.previous_price, 6)),
        field("Change", f"{signed(ev.change_pct, 2)}%"),
        field("Window", duration(ev.window)),
    ]
    if ev.exchange:
        fields.append(field("Exchange", text(ev.exchange)))
    if ev.reason:
        fields.append(field("Reason", text(ev.reason), inline=False))
    emoji = "📈" if rising else "📉"
    return Card(title(emoji, "Price Alert", ev.pair), gain_colour(ev.change_pct), fields)


def volume_alert(ev: VolumeAlert) -> Card:
    unit = escape(base_asset(ev.pair))
    fields = [
        field("Volume", amount(ev.volume, unit, 2)),
        field("Average", amount(ev.average_volume, unit, 2)),
        field("Ratio", f"{number(ev.ratio, 2)}×"),
        field("Window", duration(ev.window)),
    ]
    if ev.exchange:
        fields.append(field("Exchange", text(ev.exchange)))
    return Card(title("📊", "Volume Alert", ev.pair), Colour.ORANGE, fields)


def maintenance_scheduled(ev: MaintenanceScheduled) -> Card:
    fields = [
        field("Service", text(ev.service)),
        field("Starts", when(ev.starts_at)),
        field("Duration", duration(ev.duration)),
    ]
    if ev.impact:
        fields.append(field("Impact", text(ev.impact), inline=False))
    if ev.ticket:
        fields.append(field("Ticket", link("Open ticket", ev.ticket)))
    return Card(
        title("🔧", "Maintenance Scheduled", ev.service),
        Colour.BLUE,
        fields,
        description=escape(ev.description),
    )


_RESULT_COLOUR = {
    OperationResult.SUCCESS: Colour.GREEN,
    OperationResult.FAILED: Colour.RED,
    OperationResult.PARTIAL: Colour.ORANGE,
    OperationResult.IN_PROGRESS: Colour.BLUE,
}


def manual_operation(ev: ManualOperation) -> Card:
    fields = [
        field("Operator", text(ev.operator)),
        field("Service", text(ev.service)),
    ]
    if ev.server:
        fields.append(field("Server", text(ev.server)))
    fields += [
        field("Result", ev.result.value.replace("_", " ")),
        field("Operation", text(ev.operation), inline=False),
    ]
    if ev.details:
        fields.append(field("Details", text(ev.details), inline=False))
    colour = _RESULT_COLOUR[ev.result]
    return Card(title("🛠️", "Manual Operation", ev.service), colour, fields)


def daily_summary(ev: DailySummary) -> Card:
    """The JS `dailySummary` template, green or red by the day's sign."""
    fields = [
        field("💰 Daily P&L", money(ev.pnl)),
        field("📊 Trades", number(ev.trades, 0)),
        field("🎯 Win Rate", percent(ev.win_rate_pct, 1)),
        field("📈 Volume", amount(ev.volume, escape(ev.volume_unit), 2)),
        field("⚡ Avg Latency", millis(ev.avg_latency_ms)),
        field("🔄 Uptime", percent(ev.uptime_pct)),
    ]
    day = ev.day.isoformat()
    heading = title("📈", "Daily Trading Summary", day, trusted=True)
    return Card(heading, gain_colour(ev.pnl), fields)


def health_summary(ev: HealthSummary) -> Card:
    """The JS `systemHealth` template; orange rather than green while a service is down
    (by the counts or by name), the names in a `Down` field."""
    up, total = number(ev.services_up, 0), number(ev.services_total, 0)
    fields = [
        field("🖥️ Services", f"{up}/{total} Online"),
        field("⚡ Avg Latency", millis(ev.avg_latency_ms)),
        field("📊 Uptime", percent(ev.uptime_pct)),
        field("💾 Memory Usage", percent(ev.memory_pct, 1)),
        field("💽 CPU Usage", percent(ev.cpu_pct, 1)),
        field("🌐 Network", text(ev.network_status)),
    ]
    if ev.down:
        fields.append(field("Down", names_list(ev.down), inline=False))
    healthy = ev.services_up == ev.services_total and not ev.down
    colour = Colour.GREEN if healthy else Colour.ORANGE
    return Card(title("💚", "System Health Summary"), colour, fields)


def names_list(names: Sequence[str], limit: int = FIELD_VALUE) -> str:
    """`a, b, c`, escaped: as many as fit within `limit`, then `+N more` for the rest.

    Counting the rest beats the ellipsis `fit_embed` would cut a long list with: the
    reader learns how many are down, not merely that the list went on."""
    items = [escape(one_line(name)) for name in names]
    everything = ", ".join(items)
    if len(everything) <= limit:
        return everything
    shown: list[str] = []
    used = 0
    for index, item in enumerate(items):
        used += len(item) + (2 if shown else 0)
        after = len(names) - index - 1
        if used + (len(f", +{after} more") if after else 0) > limit:
            shown.append(f"+{len(names) - index} more")
            break
        shown.append(item)
    return ", ".join(shown)
