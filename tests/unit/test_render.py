"""Every kind renders as the user's catalogue and C# notifier say, and Discord accepts it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import msgspec
import pytest

import schemas
from schemas import (
    ConnectionStatus,
    HealthSummary,
    OperationResult,
    PnlUpdate,
    RiskAlert,
    TradeExecuted,
)
from tests.discord_schema import assert_valid_payload
from tests.factories import CREATED_AT, EVENT_ID, sample, sample_envelope, sample_events
from worker.cards_ops import names_list
from worker.render import CARDS, Folded, build_payload, render_embed

GREEN, RED, BLUE, ORANGE, YELLOW = 3066993, 15158332, 3447003, 15105570, 16776960


def render(event: Any, **kwargs: Any) -> dict[str, Any]:
    return render_embed(sample_envelope(event), **kwargs)


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed.get("fields", [])}


def test_factories_cover_every_kind() -> None:
    kinds = [event.kind() for event in sample_events()]
    assert sorted(kinds) == sorted(cls.kind() for cls in schemas.EVENT_TYPES)
    assert len(kinds) == len(set(kinds)) == 23


def test_every_kind_has_a_card() -> None:
    assert set(CARDS) == set(schemas.EVENT_TYPES)


@pytest.mark.parametrize("event", sample_events(), ids=lambda event: event.kind())
def test_every_sample_renders_a_valid_payload(event: Any) -> None:
    embed = render(event)
    assert_valid_payload(build_payload([embed]))
    assert_valid_payload(build_payload([embed], ping_role_id="123456789012345678"))
    assert EVENT_ID in embed["footer"]["text"]
    assert all(field["inline"] in (True, False) for field in embed.get("fields", []))
    assert len(embed.get("fields", [])) <= 24, "room for the Repeated field"


# (kind, title, colour, expected fields) — the catalogue's emoji/colour/title and the
# C# notifier's number formats.
EXPECTED: list[tuple[str, str, int, dict[str, str]]] = [
    (
        "build_started",
        "🔨 Build Started - xrp-trading/TradeServer",
        BLUE,
        {
            "Commit": "`3f9c2b7e1d4a5c6b8e9f0a1b2c3d4e5f6a7b8c9d`",
            "Branch": "main",
            "Triggered By": "octocat",
            "Workflow": "Complete CI/CD",
            "Run": "[View run](https://github.com/xrp-trading/TradeServer/actions/runs/42)",
        },
    ),
    (
        "build_success",
        "✅ Build Successful - xrp-trading/TradeServer",
        GREEN,
        {
            "Repository": "xrp-trading/TradeServer",
            "Commit": "`3f9c2b7e1d4a5c6b8e9f0a1b2c3d4e5f6a7b8c9d`",
            "Duration": "1m 33s",
            "Branch": "main",
            "Artifacts": "[trade-server-1.4.2.tar.gz]"
            "(https://ci.example.com/artifacts/trade-server-1.4.2.tar.gz)",
        },
    ),
    (
        "build_failure",
        "❌ Build Failed - xrp-trading/TradeServer",
        RED,
        {
            "Repository": "xrp-trading/TradeServer",
            "Commit": "`3f9c2b7e1d4a5c6b8e9f0a1b2c3d4e5f6a7b8c9d`",
            "Branch": "main",
            "Logs": "[View logs](https://github.com/xrp-trading/TradeServer/actions/runs/43)",
            "Error": "error CS0103: The name 'spread' does not exist in the current context",
        },
    ),
    (
        "deployment_started",
        "🚀 Deployment Started - trade-server",
        BLUE,
        {"Target Server": "prod-01", "Service": "trade-server", "Version": "v1.4.2", "ETA": "3m"},
    ),
    (
        "deployment_success",
        "🎉 Deployment Complete - trade-server",
        GREEN,
        {
            "Service": "trade-server",
            "Server": "prod-01",
            "Health Status": "healthy",
            "Version": "v1.4.2",
            "Logs": "[View logs](https://ci.example.com/deploy/42)",
        },
    ),
    (
        "deployment_failed",
        "❌ Deployment Failed - trade-server",
        RED,
        {
            "Server": "prod-01",
            "Service Status": "failed",
            "Version": "v1.4.2",
            "Logs": "—",
            "Error": "systemctl: unit trade-server.service entered failed state",
        },
    ),
    (
        "service_restart",
        "🔄 Service Restarted - market-feed",
        YELLOW,
        {
            "Service": "market-feed",
            "Server": "prod-02",
            "Status": "active",
            "Reason": "memory above 90% for 5 minutes",
        },
    ),
    (
        "trade_executed",
        "💰 Trade Executed - XRP/USD",
        GREEN,
        {
            "Side": "BUY",
            "Amount": "1,500.0000 XRP",
            "Price": "$0.523456",
            "P&L": "📈 $12.50",
            "Execution Time": "1.20ms",
            "Strategy": "momentum",
        },
    ),
    (
        "signal_generated",
        "🔥 Trading Signal - XRP/USD",
        BLUE,
        {
            "Signal": "breakout",
            "Action": "BUY",
            "Confidence": "85.0%",
            "Target Price": "$0.550000",
            "Stop Loss": "$0.510000",
            "Risk/Reward": "2.50",
            "Strategy": "momentum",
        },
    ),
    (
        "risk_alert",
        "⚠️ Risk Alert - max\\_drawdown",
        ORANGE,
        {
            "Type": "max\\_drawdown",
            "Threshold": "5%",
            "Current": "6.2%",
            "Action": "new positions paused",
        },
    ),
    (
        "pnl_update",
        "📈 P&L Update",
        GREEN,
        {
            "Daily P&L": "📈 $245.50",
            "Total P&L": "📈 $10,234.75",
            "Open Positions": "3",
            "Exposure": "$15,000.00",
        },
    ),
    (
        "service_down",
        "🚨 Service Down - market-feed",
        RED,
        {
            "Service": "market-feed",
            "Server": "prod-02",
            "Duration": "2h 5m",
            "Impact": "no price updates for XRP/USD",
        },
    ),
    (
        "service_recovered",
        "✅ Service Recovered - market-feed",
        GREEN,
        {
            "Service": "market-feed",
            "Server": "prod-02",
            "Down For": "2h 5m",
            "Detail": "HTTP 200 in 41 ms",
        },
    ),
    (
        "high_latency",
        "🐌 High Latency Alert - order-router",
        ORANGE,
        {
            "Service": "order-router",
            "Latency": "250.00ms",
            "Threshold": "100.00ms",
            "Trend": "↗ rising",
        },
    ),
    (
        "connection_lost",
        "🔌 Exchange Connection Lost - Bitstamp",
        RED,
        {
            "Exchange": "Bitstamp",
            "Duration": "45s",
            "Reconnect Attempts": "3",
            "Status": "reconnecting",
        },
    ),
    (
        "system_healthy",
        "💚 All Systems Healthy",
        GREEN,
        {"Services": "12", "Latency": "1.20ms", "Uptime": "99.95%", "Performance": "nominal"},
    ),
    (
        "price_alert",
        "📈 Price Alert - XRP/USD",
        GREEN,
        {
            "Price": "$0.551234",
            "Previous": "$0.523456",
            "Change": "+5.31%",
            "Window": "5m",
            "Exchange": "Bitstamp",
            "Reason": "breakout above resistance",
        },
    ),
    (
        "volume_alert",
        "📊 Volume Alert - XRP/USD",
        ORANGE,
        {
            "Volume": "2,500,000.00 XRP",
            "Average": "700,000.00 XRP",
            "Ratio": "3.57×",
            "Window": "15m",
            "Exchange": "Bitstamp",
        },
    ),
    (
        "maintenance_scheduled",
        "🔧 Maintenance Scheduled - trade-server",
        BLUE,
        {
            "Service": "trade-server",
            "Starts": "2026-11-29 06:00 UTC (<t:1795932000:R>)",
            "Duration": "30m",
            "Impact": "trading paused",
            "Ticket": "[Open ticket](https://tickets.example.com/OPS-123)",
        },
    ),
    (
        "manual_operation",
        "🛠️ Manual Operation - market-feed",
        GREEN,
        {
            "Operator": "alice",
            "Service": "market-feed",
            "Server": "prod-02",
            "Result": "success",
            "Operation": "restart market-feed",
            "Details": "restarted after config change",
        },
    ),
    (
        "daily_summary",
        "📈 Daily Trading Summary - 2026-11-27",
        GREEN,
        {
            "💰 Daily P&L": "$245.50",
            "📊 Trades": "42",
            "🎯 Win Rate": "61.9%",
            "📈 Volume": "1,234,567.00 XRP",
            "⚡ Avg Latency": "1.20ms",
            "🔄 Uptime": "99.95%",
        },
    ),
    (
        "pnl_report",
        "📈 Daily Trading Summary - 2026-11-27",
        GREEN,
        {
            "💰 Daily P&L": "$245.50",
            "📊 Trades": "42",
            "🎯 Win Rate": "61.9%",
            "📈 Volume": "1,234,567.00 XRP",
            "⚡ Avg Latency": "1.20ms (max 4.80ms)",
            "🔄 Uptime": "99.95%",
            "✅ Wins / ❌ Losses": "26 / 15",
            "💵 Notional": "$646,234.50",
            "📉 Max Drawdown": "$80.25",
            "🏆 Best / Worst": "$52.00 / $-31.50",
        },
    ),
    (
        "health_summary",
        "💚 System Health Summary",
        ORANGE,
        {
            "🖥️ Services": "11/12 Online",
            "⚡ Avg Latency": "1.20ms",
            "📊 Uptime": "99.95%",
            "💾 Memory Usage": "63.4%",
            "💽 CPU Usage": "21.7%",
            "🌐 Network": "stable",
        },
    ),
]


def test_expected_table_covers_every_kind() -> None:
    assert sorted(kind for kind, *_ in EXPECTED) == sorted(schemas.KINDS)


@pytest.mark.parametrize(
    ("kind", "title", "colour", "expected"), EXPECTED, ids=[row[0] for row in EXPECTED]
)
def test_card_matches_catalogue(
    kind: str, title: str, colour: int, expected: dict[str, str]
) -> None:
    embed = render(sample(kind))
    assert embed["title"] == title
    assert embed["color"] == colour
    assert fields(embed) == expected
    assert list(fields(embed)) == list(expected), "field order"


def test_trade_fields_are_inline_and_stamped_with_execution_time() -> None:
    embed = render(sample("trade_executed"))
    assert all(field["inline"] for field in embed["fields"])
    assert embed["timestamp"] == "2026-11-28T04:10:44.987000+00:00"
    assert embed["footer"]["text"] == f"herald · trade-server · {EVENT_ID}"


def test_trade_without_execution_time_uses_created_at() -> None:
    trade = msgspec.structs.replace(sample("trade_executed"), executed_at=None)
    assert render(trade)["timestamp"] == CREATED_AT.isoformat()
    assert render(trade)["timestamp"] == "2026-11-28T04:10:45.123000+00:00"


def test_losing_trade_is_red_with_falling_emoji() -> None:
    trade = msgspec.structs.replace(sample("trade_executed"), pnl=Decimal("-3.2"))
    embed = render(trade)
    assert embed["color"] == RED
    assert fields(embed)["P&L"] == "📉 $-3.20"


def test_break_even_trade_counts_as_a_gain() -> None:
    trade = msgspec.structs.replace(sample("trade_executed"), pnl=Decimal("0"))
    assert fields(render(trade))["P&L"] == "📈 $0.00"
    assert render(trade)["color"] == GREEN


def test_trade_amount_unit_is_the_base_asset_and_decimals_are_exact() -> None:
    trade = TradeExecuted(
        pair="BTC-EUR",
        side=schemas.Side.SELL,
        amount=Decimal("12345678.123456789"),
        price=Decimal("0.1") + Decimal("0.2"),
        pnl=Decimal("-0.005"),
        latency_ms=0.125,
        strategy="mean_reversion",
    )
    values = fields(render(trade))
    assert values["Amount"] == "12,345,678.1235 BTC"
    assert values["Price"] == "$0.300000"
    assert values["P&L"] == "📉 $-0.01"  # midpoint away from zero, as .NET
    assert values["Execution Time"] == "0.13ms"


@pytest.mark.parametrize(
    ("confidence", "emoji", "shown"),
    [
        (0.95, "🔥", "95.0%"),
        (0.8, "📊", "80.0%"),
        (0.61, "📊", "61.0%"),
        (0.6, "⚡", "60.0%"),
        (0.0, "⚡", "0.0%"),
        (0.8555, "🔥", "85.6%"),
        (1.0, "🔥", "100.0%"),
    ],
)
def test_signal_emoji_follows_confidence(confidence: float, emoji: str, shown: str) -> None:
    signal = msgspec.structs.replace(sample("signal_generated"), confidence=confidence)
    embed = render(signal)
    assert embed["title"] == f"{emoji} Trading Signal - XRP/USD"
    assert fields(embed)["Confidence"] == shown


@pytest.mark.parametrize(
    ("unit", "threshold"), [(None, "5"), ("%", "5%"), ("USD", "$5"), ("XRP", "5 XRP")]
)
def test_risk_alert_states_limits_in_their_unit(unit: str | None, threshold: str) -> None:
    alert = RiskAlert(
        type="exposure", threshold=Decimal("5"), current=Decimal("7"), action="x", unit=unit
    )
    assert fields(render(alert))["Threshold"] == threshold


def test_losing_day_turns_pnl_update_red() -> None:
    update = PnlUpdate(
        daily_pnl=Decimal("-10"), total_pnl=Decimal("5"), open_positions=0, exposure=Decimal(0)
    )
    embed = render(update)
    assert (embed["title"], embed["color"]) == ("📉 P&L Update", RED)
    assert fields(embed)["Daily P&L"] == "📉 $-10.00"


def test_reconnected_exchange_reads_as_recovery() -> None:
    event = msgspec.structs.replace(sample("connection_lost"), status=ConnectionStatus.RECONNECTED)
    embed = render(event)
    assert (embed["title"], embed["color"]) == ("🔌 Exchange Reconnected - Bitstamp", GREEN)


def test_falling_price_alert_is_red() -> None:
    event = msgspec.structs.replace(sample("price_alert"), change_pct=Decimal("-2.5"))
    embed = render(event)
    assert (embed["title"], embed["color"]) == ("📉 Price Alert - XRP/USD", RED)
    assert fields(embed)["Change"] == "-2.50%"


@pytest.mark.parametrize(
    ("result", "colour"),
    [
        (OperationResult.FAILED, RED),
        (OperationResult.PARTIAL, ORANGE),
        (OperationResult.IN_PROGRESS, BLUE),
    ],
)
def test_manual_operation_colour_follows_result(result: OperationResult, colour: int) -> None:
    embed = render(msgspec.structs.replace(sample("manual_operation"), result=result))
    assert embed["color"] == colour


def test_losing_daily_summary_is_red() -> None:
    event = msgspec.structs.replace(sample("daily_summary"), pnl=Decimal("-1"))
    embed = render(event)
    assert embed["color"] == RED
    assert fields(embed)["💰 Daily P&L"] == "$-1.00"


def test_all_services_up_is_green() -> None:
    event = HealthSummary(
        services_up=12,
        services_total=12,
        avg_latency_ms=1,
        uptime_pct=100,
        memory_pct=1,
        cpu_pct=1,
        network_status="ok",
    )
    assert render(event)["color"] == GREEN


def test_recovery_without_detail_has_no_detail_field() -> None:
    event = msgspec.structs.replace(sample("service_recovered"), detail=None)
    assert list(fields(render(event))) == ["Service", "Server", "Down For"]


def test_health_summary_lists_the_services_down_escaped() -> None:
    event = msgspec.structs.replace(
        sample("health_summary"), down=("market-feed", "order_router*", "@everyone")
    )
    embed = render(event)
    assert fields(embed)["Down"] == "market-feed, order\\_router\\*, @\u200beveryone"
    assert list(fields(embed))[-1] == "Down"
    assert "Down" not in fields(render(sample("health_summary")))  # none down: no field
    all_up = msgspec.structs.replace(event, services_up=12, services_total=12)
    assert render(all_up)["color"] == ORANGE  # a service named down is not all green


def test_health_summary_with_many_long_names_down_counts_the_rest() -> None:
    names = tuple(f"svc-{i:02d}-" + "x" * 93 for i in range(40))  # 100 characters each
    event = msgspec.structs.replace(sample("health_summary"), down=names)
    embed = render(event)
    value = fields(embed)["Down"]
    *shown, rest = value.split(", ")
    assert shown == list(names[: len(shown)])
    assert rest == f"+{40 - len(shown)} more"
    assert 900 < len(value) <= 1024  # as many as fit, no ellipsis
    assert_valid_payload(build_payload([embed], ping_role_id="123456789012345678"))


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (16, "aaaa, bbbb, cccc"),  # exactly fits: no room kept for a count it does not need
        (15, "aaaa, +2 more"),
        (13, "aaaa, +2 more"),
        (12, "+3 more"),
    ],
)
def test_names_list_keeps_room_for_the_count(limit: int, expected: str) -> None:
    assert names_list(["aaaa", "bbbb", "cccc"], limit) == expected


def test_names_list_never_exceeds_its_limit_and_counts_exactly() -> None:
    names = [f"{'n' * (i % 17 + 1)}{i}" for i in range(60)]
    for limit in range(20, 700, 7):
        value = names_list(names, limit)
        assert len(value) <= limit
        parts = value.split(", ")
        if parts[-1].startswith("+"):
            assert parts[:-1] == names[: len(parts) - 1]
            assert parts[-1] == f"+{len(names) - len(parts) + 1} more"
        else:
            assert parts == names


def test_maintenance_description_is_the_embed_description() -> None:
    embed = render(sample("maintenance_scheduled"))
    assert embed["description"] == "OS security updates and reboot"


def test_folded_alert_says_how_often_it_repeated() -> None:
    since = datetime(2026, 11, 28, 3, 2, 1, tzinfo=UTC)
    embed = render(sample("service_down"), folded=Folded(count=99, since=since))
    assert embed["fields"][-1] == {
        "name": "Repeated",
        "value": "×99 since 03:02:01 UTC",
        "inline": True,
    }
    assert_valid_payload(build_payload([embed]))


def test_folded_across_midnight_names_the_day() -> None:
    since = CREATED_AT - timedelta(days=1)
    embed = render(sample("service_down"), folded=Folded(count=1234, since=since))
    assert fields(embed)["Repeated"] == "×1,234 since 2026-11-27 04:10:45 UTC"


def test_folded_rejects_a_count_below_one() -> None:
    with pytest.raises(ValueError, match="count"):
        Folded(count=0, since=CREATED_AT)
    assert replace(Folded(1, CREATED_AT), count=2).count == 2


def test_timestamp_is_converted_to_utc() -> None:
    local = datetime(2026, 11, 28, 6, 10, 45, tzinfo=timezone(timedelta(hours=2)))
    embed = render_embed(sample_envelope(sample("service_down"), created_at=local))
    assert embed["timestamp"] == "2026-11-28T04:10:45+00:00"


def test_naive_execution_time_is_taken_as_utc() -> None:
    trade = msgspec.structs.replace(
        sample("trade_executed"), executed_at=datetime(2026, 1, 2, 3, 4, 5)
    )
    assert render(trade)["timestamp"] == "2026-01-02T03:04:05+00:00"


def test_footer_neutralises_a_hostile_source() -> None:
    envelope = sample_envelope(sample("service_down"), source="@everyone <@&1>\nx")
    footer = render_embed(envelope)["footer"]["text"]
    assert "@everyone" not in footer
    assert "<@&1>" not in footer
    assert "\n" not in footer
    assert footer.endswith(EVENT_ID)
