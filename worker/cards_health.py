"""System health cards: raised by a health monitor."""

from schemas import (
    ConnectionLost,
    ConnectionStatus,
    HighLatency,
    ServiceDown,
    ServiceRecovered,
    SystemHealthy,
    Trend,
)
from worker.embeds import Card, Colour, field, text, title
from worker.formatting import duration, millis, number, percent

_TREND = {Trend.RISING: "↗ rising", Trend.STABLE: "→ stable", Trend.FALLING: "↘ falling"}


def service_down(ev: ServiceDown) -> Card:
    fields = [
        field("Service", text(ev.service)),
        field("Server", text(ev.server)),
        field("Duration", duration(ev.duration)),
        field("Impact", text(ev.impact), inline=False),
    ]
    return Card(title("🚨", "Service Down", ev.service), Colour.RED, fields)


def service_recovered(ev: ServiceRecovered) -> Card:
    """The answer to a `service_down` page, in the same shape so the two read as a pair."""
    fields = [
        field("Service", text(ev.service)),
        field("Server", text(ev.server)),
        field("Down For", duration(ev.down_for)),
    ]
    if ev.detail:
        fields.append(field("Detail", text(ev.detail), inline=False))
    return Card(title("✅", "Service Recovered", ev.service), Colour.GREEN, fields)


def high_latency(ev: HighLatency) -> Card:
    fields = [
        field("Service", text(ev.service)),
        field("Latency", millis(ev.latency_ms)),
        field("Threshold", millis(ev.threshold_ms)),
        field("Trend", _TREND[ev.trend]),
    ]
    return Card(title("🐌", "High Latency Alert", ev.service), Colour.ORANGE, fields)


def connection_lost(ev: ConnectionLost) -> Card:
    """A `reconnected` status is the recovery, so it reads as one (green), not as a loss."""
    recovered = ev.status is ConnectionStatus.RECONNECTED
    fields = [
        field("Exchange", text(ev.exchange)),
        field("Duration", duration(ev.duration)),
        field("Reconnect Attempts", number(ev.reconnect_attempts, 0)),
        field("Status", ev.status.value),
    ]
    if recovered:
        return Card(title("🔌", "Exchange Reconnected", ev.exchange), Colour.GREEN, fields)
    return Card(title("🔌", "Exchange Connection Lost", ev.exchange), Colour.RED, fields)


def system_healthy(ev: SystemHealthy) -> Card:
    fields = [
        field("Services", number(ev.services, 0)),
        field("Latency", millis(ev.latency_ms)),
        field("Uptime", percent(ev.uptime_pct)),
        field("Performance", text(ev.performance)),
    ]
    return Card(title("💚", "All Systems Healthy"), Colour.GREEN, fields)
