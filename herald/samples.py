"""Herald's real messages, one per event family, written for the sandbox to replay.

The sandbox plays Discord, so it must not import the engine that it checks; yet its
contract tests, viewer screenshot and benchmark should post exactly what Herald sends.
This module renders one realistic event per family with the engine's own renderer
(`worker.render.render_embed`, then `worker.payload.build_payload`) and writes the
Execute Webhook bodies to `sandbox/samples/messages.json`, which `sandbox.demo` loads.

Every input is fixed (event times, envelope times and event ids), so the file changes
only when rendering does; `tests/unit/test_samples.py` fails until it is regenerated:

    python -m herald.samples
"""

import json
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import sandbox
from schemas import (
    Action,
    AnyEvent,
    BuildSuccess,
    HealthSummary,
    MaintenanceScheduled,
    PnlReport,
    PriceAlert,
    RiskAlert,
    ServiceDown,
    Side,
    SignalGenerated,
    TradeExecuted,
    wrap,
)
from worker.channels import CRITICAL_ALERTS, DEFAULT_ROUTES
from worker.payload import build_payload
from worker.render import render_embed

OUTPUT: Final = Path(sandbox.__file__).with_name("samples") / "messages.json"
"""Package data of the sandbox (`sandbox.demo.MESSAGES_FILE` reads it)."""

SAMPLE_ROLE_ID: Final = "111111111111111111"
"""The role #critical-alerts pages in the samples (Herald's `ping_role` for a channel)."""

T0: Final = datetime(2026, 11, 28, 4, 20, tzinfo=UTC)
"""When the sample events happen: fixed, so the rendering is the same on every run."""

SAMPLES: Final[tuple[tuple[str, str, AnyEvent], ...]] = (
    # (family, source that publishes it, event)
    (
        "trade",
        "trade-server",
        TradeExecuted(
            pair="XRP/USDT",
            side=Side.BUY,
            amount=Decimal("12500"),
            price=Decimal("0.612340"),
            pnl=Decimal("184.20"),
            latency_ms=3.42,
            strategy="mean-reversion-v2",
            executed_at=T0,
        ),
    ),
    (
        "signal",
        "trade-server",
        SignalGenerated(
            pair="XRP/USDT",
            signal="breakout",
            confidence=0.86,
            action=Action.BUY,
            target_price=Decimal("0.640000"),
            stop_loss=Decimal("0.598000"),
            risk_reward=2.1,
            strategy="momentum-v3",
        ),
    ),
    (
        "risk_alert",
        "risk-engine",
        RiskAlert(
            type="max_drawdown",
            threshold=Decimal("5.0"),
            current=Decimal("5.6"),
            action="reduce position size by 50%; set risk.pause_entries=true",
            unit="%",
        ),
    ),
    (
        "build_success",
        "ci",
        BuildSuccess(
            repository="xrp-trading/TradeServer",
            commit="9f2c4e1b7a3d",
            duration=timedelta(minutes=4, seconds=12),
            artifacts=("https://ci.example.com/artifacts/trade-server-1.4.2.tar.gz",),
            branch="main",
        ),
    ),
    (
        "service_down",
        "health-monitor",
        ServiceDown(
            service="market-feed",
            server="prod-02",
            duration=timedelta(seconds=90),
            impact="no price updates for XRP/USD; trading halted by the stale-price guard",
        ),
    ),
    (
        "health_summary",
        "health-monitor",
        HealthSummary(
            services_up=12,
            services_total=12,
            avg_latency_ms=21.3,
            uptime_pct=99.95,
            memory_pct=61.0,
            cpu_pct=37.5,
            network_status="stable",
        ),
    ),
    (
        "daily_report",
        "herald-books",
        PnlReport(
            period="daily",
            label=date(2026, 11, 27),
            start=datetime(2026, 11, 27, tzinfo=UTC),
            end=datetime(2026, 11, 28, tzinfo=UTC),
            timezone="UTC",
            trades=2024,
            wins=1180,
            losses=838,
            win_rate_pct=58.3,
            volume=Decimal("3912500"),
            notional=Decimal("2046213.75"),
            pnl=Decimal("1842.17"),
            avg_latency_ms=2.4,
            max_latency_ms=11.8,
            max_drawdown=Decimal("412.5"),
            best_pnl=Decimal("398.2"),
            worst_pnl=Decimal("-241.75"),
            uptime_pct=99.95,
        ),
    ),
    (
        "price_alert",
        "market-feed",
        PriceAlert(
            pair="XRP/USD",
            price=Decimal("0.644012"),
            previous_price=Decimal("0.612200"),
            change_pct=Decimal("5.20"),
            window=timedelta(minutes=15),
            exchange="bitstamp",
        ),
    ),
    (
        "maintenance",
        "ops",
        MaintenanceScheduled(
            service="exchange-gateway",
            starts_at=datetime(2026, 11, 29, 2, 0, tzinfo=UTC),
            duration=timedelta(minutes=15),
            description="TLS certificate rotation for *.gateway.example.com",
            impact="quotes paused",
        ),
    ),
)


def sample_event_id(moment: datetime, serial: int) -> str:
    """A valid UUIDv7 for `moment` with no random bits, so the footers never change."""
    millis = int(moment.timestamp() * 1000)
    digits = f"{millis:012x}7{serial:03x}8{serial:015x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def render_sample(serial: int, source: str, event: AnyEvent) -> dict[str, Any]:
    """One event as Herald delivers it alone: envelope, embed, then the request body."""
    moment = T0 + timedelta(seconds=serial)
    envelope = wrap(
        event,
        source=source,
        now_ns=int(moment.timestamp()) * 1_000_000_000,
        event_id=sample_event_id(moment, serial),
    )
    channel = DEFAULT_ROUTES[envelope.kind][0]
    ping = SAMPLE_ROLE_ID if channel == CRITICAL_ALERTS else None
    payload = build_payload([render_embed(envelope)], username="Herald", ping_role_id=ping)
    return {"kind": envelope.kind, "channel": channel, "payload": payload}


def render_samples() -> dict[str, Any]:
    """The whole file's content: family -> kind, channel and Execute Webhook body."""
    messages = {
        family: render_sample(serial, source, event)
        for serial, (family, source, event) in enumerate(SAMPLES, start=1)
    }
    return {
        "about": "Rendered by Herald's own renderer; regenerate with `python -m herald.samples`.",
        "messages": messages,
    }


def dumps(samples: dict[str, Any]) -> str:
    return json.dumps(samples, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(dumps(render_samples()), encoding="utf-8")
    print(f"wrote {len(SAMPLES)} messages to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
