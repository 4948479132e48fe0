"""One realistic, valid event of every kind, and envelopes around them, for any test.

Values follow the seed's examples (XRP/USD at $0.523456, 1,500 XRP, ...), so a
renderer test can compare against the catalogue's exact strings.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import schemas
from schemas import (
    Action,
    AnyEvent,
    BuildFailure,
    BuildStarted,
    BuildSuccess,
    ConnectionLost,
    ConnectionStatus,
    DailySummary,
    DeploymentFailed,
    DeploymentStarted,
    DeploymentSuccess,
    Envelope,
    HealthSummary,
    HighLatency,
    MaintenanceScheduled,
    ManualOperation,
    OperationResult,
    PnlReport,
    PnlUpdate,
    PriceAlert,
    RiskAlert,
    ServiceDown,
    ServiceRecovered,
    ServiceRestart,
    Severity,
    Side,
    SignalGenerated,
    SystemHealthy,
    TradeExecuted,
    Trend,
    VolumeAlert,
)

CREATED_AT = datetime(2026, 11, 28, 4, 10, 45, 123000, tzinfo=UTC)
EVENT_ID = "019ac8f0-1a2b-7c3d-8e4f-0123456789ab"
SHA = "3f9c2b7e1d4a5c6b8e9f0a1b2c3d4e5f6a7b8c9d"

SOURCES: dict[str, str] = {
    "build_started": "ci",
    "build_success": "ci",
    "build_failure": "ci",
    "deployment_started": "ci",
    "deployment_success": "ci",
    "deployment_failed": "ci",
    "service_restart": "health-monitor",
    "service_down": "health-monitor",
    "service_recovered": "health-monitor",
    "high_latency": "health-monitor",
    "connection_lost": "trade-server",
    "system_healthy": "health-monitor",
    "health_summary": "health-monitor",
    "maintenance_scheduled": "ops",
    "manual_operation": "ops",
}


def sample_events() -> list[AnyEvent]:
    """One valid instance of every kind in `schemas.EVENT_TYPES`, in catalogue order."""
    events: list[AnyEvent] = [
        BuildStarted(
            repository="xrp-trading/TradeServer",
            commit=SHA,
            branch="main",
            triggered_by="octocat",
            workflow="Complete CI/CD",
            run_url="https://github.com/xrp-trading/TradeServer/actions/runs/42",
        ),
        BuildSuccess(
            repository="xrp-trading/TradeServer",
            commit=SHA,
            duration=timedelta(minutes=1, seconds=33),
            artifacts=("https://ci.example.com/artifacts/trade-server-1.4.2.tar.gz",),
            branch="main",
        ),
        BuildFailure(
            repository="xrp-trading/TradeServer",
            commit=SHA,
            error="error CS0103: The name 'spread' does not exist in the current context",
            logs="https://github.com/xrp-trading/TradeServer/actions/runs/43",
            branch="main",
        ),
        DeploymentStarted(
            service="trade-server",
            server="prod-01",
            version="v1.4.2",
            eta=timedelta(minutes=3),
        ),
        DeploymentSuccess(
            service="trade-server",
            server="prod-01",
            health_status="healthy",
            version="v1.4.2",
            logs="https://ci.example.com/deploy/42",
        ),
        DeploymentFailed(
            service="trade-server",
            server="prod-01",
            service_status="failed",
            version="v1.4.2",
            error="systemctl: unit trade-server.service entered failed state",
        ),
        ServiceRestart(
            service="market-feed",
            server="prod-02",
            reason="memory above 90% for 5 minutes",
            status="active",
        ),
        TradeExecuted(
            pair="XRP/USD",
            side=Side.BUY,
            amount=Decimal("1500"),
            price=Decimal("0.523456"),
            pnl=Decimal("12.50"),
            latency_ms=1.2,
            strategy="momentum",
            executed_at=datetime(2026, 11, 28, 4, 10, 44, 987000, tzinfo=UTC),
        ),
        SignalGenerated(
            pair="XRP/USD",
            signal="breakout",
            confidence=0.85,
            action=Action.BUY,
            target_price=Decimal("0.55"),
            stop_loss=Decimal("0.51"),
            risk_reward=2.5,
            strategy="momentum",
        ),
        RiskAlert(
            type="max_drawdown",
            threshold=Decimal("5"),
            current=Decimal("6.2"),
            action="new positions paused",
            unit="%",
        ),
        PnlUpdate(
            daily_pnl=Decimal("245.5"),
            total_pnl=Decimal("10234.75"),
            open_positions=3,
            exposure=Decimal("15000"),
        ),
        ServiceDown(
            service="market-feed",
            server="prod-02",
            duration=timedelta(hours=2, minutes=5),
            impact="no price updates for XRP/USD",
        ),
        ServiceRecovered(
            service="market-feed",
            server="prod-02",
            down_for=timedelta(hours=2, minutes=5),
            detail="HTTP 200 in 41 ms",
        ),
        HighLatency(
            service="order-router", latency_ms=250.0, threshold_ms=100.0, trend=Trend.RISING
        ),
        ConnectionLost(
            exchange="Bitstamp",
            duration=timedelta(seconds=45),
            reconnect_attempts=3,
            status=ConnectionStatus.RECONNECTING,
        ),
        SystemHealthy(services=12, latency_ms=1.2, uptime_pct=99.95, performance="nominal"),
        PriceAlert(
            pair="XRP/USD",
            price=Decimal("0.551234"),
            previous_price=Decimal("0.523456"),
            change_pct=Decimal("5.31"),
            window=timedelta(minutes=5),
            reason="breakout above resistance",
            exchange="Bitstamp",
        ),
        VolumeAlert(
            pair="XRP/USD",
            volume=Decimal("2500000"),
            average_volume=Decimal("700000"),
            ratio=3.57,
            window=timedelta(minutes=15),
            exchange="Bitstamp",
        ),
        MaintenanceScheduled(
            service="trade-server",
            starts_at=datetime(2026, 11, 29, 6, 0, tzinfo=UTC),
            duration=timedelta(minutes=30),
            description="OS security updates and reboot",
            impact="trading paused",
            ticket="https://tickets.example.com/OPS-123",
        ),
        ManualOperation(
            operator="alice",
            operation="restart market-feed",
            service="market-feed",
            result=OperationResult.SUCCESS,
            server="prod-02",
            details="restarted after config change",
        ),
        DailySummary(
            day=date(2026, 11, 27),
            pnl=Decimal("245.5"),
            trades=42,
            win_rate_pct=61.9,
            volume=Decimal("1234567"),
            avg_latency_ms=1.2,
            uptime_pct=99.95,
        ),
        PnlReport(
            period="daily",
            label=date(2026, 11, 27),
            start=datetime(2026, 11, 27, tzinfo=UTC),
            end=datetime(2026, 11, 28, tzinfo=UTC),
            timezone="UTC",
            trades=42,
            wins=26,
            losses=15,
            win_rate_pct=61.9,
            volume=Decimal("1234567"),
            notional=Decimal("646234.5"),
            pnl=Decimal("245.5"),
            avg_latency_ms=1.2,
            max_latency_ms=4.8,
            max_drawdown=Decimal("80.25"),
            best_pnl=Decimal("52"),
            worst_pnl=Decimal("-31.5"),
            uptime_pct=99.95,
        ),
        HealthSummary(
            services_up=11,
            services_total=12,
            avg_latency_ms=1.2,
            uptime_pct=99.95,
            memory_pct=63.4,
            cpu_pct=21.7,
            network_status="stable",
        ),
    ]
    missing = set(schemas.EVENT_TYPES) - {type(event) for event in events}
    assert not missing, f"add a sample for {sorted(cls.kind() for cls in missing)}"
    return [schemas.validate(event) for event in events]


def sample_envelope(
    event: AnyEvent,
    *,
    source: str | None = None,
    severity: Severity | None = None,
    created_at: datetime = CREATED_AT,
    event_id: str = EVENT_ID,
) -> Envelope:
    """`event` with fixed metadata: id `EVENT_ID`, time `CREATED_AT`, a plausible source."""
    return Envelope(
        id=event_id,
        created_at=created_at,
        source=source or SOURCES.get(event.kind(), "trade-server"),
        severity=severity or event.default_severity,
        event=event,
    )


def sample(kind: str) -> AnyEvent:
    """The sample event of one kind, e.g. `sample("trade_executed")`."""
    return next(event for event in sample_events() if event.kind() == kind)
