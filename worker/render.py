"""Envelope -> Discord embed: the renderer's front door (pure functions, no I/O).

Per-kind modules decide what an event looks like (a `Card`); this module adds what
every embed carries — an ISO-8601 timestamp, a footer naming the event id so any
message traces back to its event, repeat info from dedupe — and fits the result to
Discord's limits. Also re-exports the rest of the renderer's public API.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from schemas import (
    BuildFailure,
    BuildStarted,
    BuildSuccess,
    ConnectionLost,
    DailySummary,
    DeploymentFailed,
    DeploymentStarted,
    DeploymentSuccess,
    Envelope,
    Event,
    HealthSummary,
    HighLatency,
    MaintenanceScheduled,
    ManualOperation,
    PnlReport,
    PnlUpdate,
    PriceAlert,
    RiskAlert,
    ServiceDown,
    ServiceRecovered,
    ServiceRestart,
    SignalGenerated,
    SystemHealthy,
    TradeExecuted,
    VolumeAlert,
)
from worker import cards_cicd, cards_health, cards_ops, cards_reports, cards_trading
from worker.batch import pack
from worker.digest import digest_embeds
from worker.embeds import Card, field
from worker.files import image_url
from worker.formatting import number, utc
from worker.limits import Embed, embed_size, fit_embed
from worker.markdown import neutralise, one_line
from worker.payload import build_payload

__all__ = [
    "CARDS",
    "Folded",
    "build_payload",
    "digest_embeds",
    "embed_size",
    "pack",
    "render_embed",
]

CARDS: Final[dict[type[Event], Callable[[Any], Card]]] = {
    BuildStarted: cards_cicd.build_started,
    BuildSuccess: cards_cicd.build_success,
    BuildFailure: cards_cicd.build_failure,
    DeploymentStarted: cards_cicd.deployment_started,
    DeploymentSuccess: cards_cicd.deployment_success,
    DeploymentFailed: cards_cicd.deployment_failed,
    ServiceRestart: cards_cicd.service_restart,
    TradeExecuted: cards_trading.trade_executed,
    SignalGenerated: cards_trading.signal_generated,
    RiskAlert: cards_trading.risk_alert,
    PnlUpdate: cards_trading.pnl_update,
    ServiceDown: cards_health.service_down,
    ServiceRecovered: cards_health.service_recovered,
    HighLatency: cards_health.high_latency,
    ConnectionLost: cards_health.connection_lost,
    SystemHealthy: cards_health.system_healthy,
    PriceAlert: cards_ops.price_alert,
    VolumeAlert: cards_ops.volume_alert,
    MaintenanceScheduled: cards_ops.maintenance_scheduled,
    ManualOperation: cards_ops.manual_operation,
    DailySummary: cards_ops.daily_summary,
    HealthSummary: cards_ops.health_summary,
    PnlReport: cards_reports.pnl_report,
}
"""Event class -> card builder; a test keeps it equal to `schemas.EVENT_TYPES`."""


@dataclass(frozen=True)
class Folded:
    """Dedupe suppressed `count` identical alerts since `since` (Alertmanager's repeat info)."""

    count: int
    since: datetime

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"Folded.count must be >= 1, got {self.count}")


def render_embed(envelope: Envelope, *, folded: Folded | None = None) -> Embed:
    """One Discord embed for one event, within every Discord limit; its first image
    attachment is the embed's image (`attachment://<filename>`)."""
    card = CARDS[type(envelope.event)](envelope.event)
    moment = utc(card.timestamp or envelope.created_at)
    fields = list(card.fields)
    if folded is not None:
        fields.append(field("Repeated", repeated(folded, moment)))
    embed: Embed = {
        "title": card.title,
        "color": int(card.colour),
        "timestamp": moment.isoformat(),
        "footer": {"text": footer(envelope)},
    }
    if card.description:
        embed["description"] = card.description
    if fields:
        embed["fields"] = fields
    if envelope.attachments and "image" not in embed:  # the event's chart, in its card
        url = image_url(envelope.attachments)
        if url is not None:
            embed["image"] = {"url": url}
    return fit_embed(embed)


def footer(envelope: Envelope) -> str:
    """`herald · trade-server · <event id>`: enough to find the event in logs and the DLQ."""
    return f"herald · {neutralise(one_line(envelope.source))} · {envelope.id}"


def repeated(folded: Folded, moment: datetime) -> str:
    """`×99 since 04:10:45 UTC`, with the date when the run started on another day."""
    since = utc(folded.since)
    shape = "%H:%M:%S" if since.date() == moment.date() else "%Y-%m-%d %H:%M:%S"
    return f"×{number(folded.count, 0)} since {since.strftime(shape)} UTC"
