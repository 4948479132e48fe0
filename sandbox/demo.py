"""Realistic Herald messages, one per event family, as Discord Execute Webhook bodies.

Hand-written from the user's templates (seed/discord-integration.md: emoji, colour,
title, fields) so the sandbox's contract tests, the viewer screenshot and the
benchmark all exercise what Herald really sends. Each sets `allowed_mentions`
explicitly: event text is untrusted and must never ping.
"""

from typing import Any

GREEN, BLUE, ORANGE, RED, YELLOW = 3066993, 3447003, 15105570, 15158332, 16776960
NO_PINGS: dict[str, Any] = {"parse": []}
TS = "2026-11-28T04:20:00.000Z"


def _field(name: str, value: str, inline: bool = True) -> dict[str, Any]:
    return {"name": name, "value": value, "inline": inline}


def _message(embed: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"username": "Herald", "allowed_mentions": NO_PINGS, "embeds": [embed], **extra}


TRADE = _message({
    "title": "💰 Trade Executed - XRP/USDT",
    "color": GREEN,
    "author": {"name": "TradeServer · prod-1"},
    "fields": [
        _field("Side", "BUY"),
        _field("Amount", "12,500.0000 XRP"),
        _field("Price", "$0.612340"),
        _field("P&L", "📈 $184.20"),
        _field("Execution Time", "3.42ms"),
        _field("Strategy", "mean-reversion-v3"),
    ],
    "footer": {"text": "order 7f3c9a · herald"},
    "timestamp": TS,
})  # fmt: skip

SIGNAL = _message({
    "title": "🔥 Trading Signal - XRP/USDT",
    "color": BLUE,
    "fields": [
        _field("Signal", "LONG"),
        _field("Confidence", "86.0%"),
        _field("Target Price", "$0.640000"),
        _field("Stop Loss", "$0.598000"),
        _field("Risk/Reward", "2.10"),
        _field("Strategy", "momentum-breakout"),
    ],
    "timestamp": TS,
})  # fmt: skip

RISK_ALERT = _message({
    "title": "⚠️ Risk Alert - Exposure",
    "description": "Net exposure crossed the **soft limit**; new entries are paused.",
    "color": ORANGE,
    "fields": [
        _field("Type", "Net exposure"),
        _field("Threshold", "$250,000"),
        _field("Current", "$262,410"),
        _field("Action", "Pause new entries; `risk.pause_entries=true`", inline=False),
    ],
    "footer": {"text": "risk-engine"},
    "timestamp": TS,
})  # fmt: skip

BUILD_SUCCESS = _message({
    "title": "✅ Build Successful - xrp-trading/TradeServer",
    "url": "https://ci.example.com/builds/4812",
    "color": GREEN,
    "fields": [
        _field("Repository", "xrp-trading/TradeServer"),
        _field("Commit", "`a1b2c3d` Fix order book resync"),
        _field("Duration", "4m 12s"),
        _field("Artifacts", "tradeserver-1.42.0.tar.gz", inline=False),
    ],
    "footer": {"text": "GitHub Actions · main"},
    "timestamp": TS,
})  # fmt: skip

SERVICE_DOWN = _message(
    {
        "title": "🚨 Service Down - market-feed",
        "description": "No heartbeat for 90 s. Event text is untrusted: @everyone must not ping.",
        "color": RED,
        "fields": [
            _field("Service", "market-feed"),
            _field("Server", "prod-2"),
            _field("Duration", "1m 30s"),
            _field("Impact", "Prices stale; trading halted by guard", inline=False),
        ],
        "timestamp": TS,
    },
    content="<@&111111111111111111> critical: market-feed down",
    allowed_mentions={"parse": [], "roles": ["111111111111111111"]},
)

HEALTH_SUMMARY = _message({
    "title": "💚 System Health Summary",
    "color": GREEN,
    "fields": [
        _field("🖥️ Services", "7/7 Online"),
        _field("⚡ Avg Latency", "4.8ms"),
        _field("📊 Uptime", "99.98%"),
        _field("💾 Memory Usage", "61%"),
        _field("💽 CPU Usage", "23%"),
        _field("🌐 Network", "Healthy"),
    ],
    "footer": {"text": "health-monitor · every 5 min"},
    "timestamp": TS,
})  # fmt: skip

DAILY_SUMMARY = _message({
    "title": "📈 Daily Trading Summary",
    "color": GREEN,
    "fields": [
        _field("💰 Daily P&L", "$1,284.55"),
        _field("📊 Trades", "142"),
        _field("🎯 Win Rate", "58.4%"),
        _field("📈 Volume", "1,820,000 XRP"),
        _field("⚡ Avg Latency", "3.9ms"),
        _field("🔄 Uptime", "100%"),
    ],
    "footer": {"text": "2026-11-27 UTC"},
    "timestamp": TS,
})  # fmt: skip

PRICE_ALERT = _message({
    "title": "📈 Price Alert - XRP/USDT",
    "description": "XRP moved **+5.2%** in 15 minutes.",
    "color": BLUE,
    "fields": [
        _field("Price", "$0.6440"),
        _field("Change (15m)", "+5.2%"),
        _field("Volume (15m)", "4.1M XRP"),
    ],
    "timestamp": TS,
})  # fmt: skip

MAINTENANCE = _message({
    "title": "🔧 Scheduled Maintenance",
    "description": "Gateway restart for TLS certificate rotation. Literal \\*asterisks\\* stay.",
    "color": YELLOW,
    "fields": [
        _field("Window", "2026-11-29 02:00–02:15 UTC", inline=False),
        _field("Services", "exchange-gateway"),
        _field("Owner", "ops on-call"),
    ],
    "footer": {"text": "maintenance planner"},
    "timestamp": TS,
})  # fmt: skip

# Event family → (channel it belongs in, payload).
FAMILIES: dict[str, tuple[str, dict[str, Any]]] = {
    "trade": ("trading-alerts", TRADE),
    "signal": ("trading-alerts", SIGNAL),
    "risk_alert": ("critical-alerts", RISK_ALERT),
    "build_success": ("system-status", BUILD_SUCCESS),
    "service_down": ("critical-alerts", SERVICE_DOWN),
    "health_summary": ("system-status", HEALTH_SUMMARY),
    "daily_summary": ("trading-alerts", DAILY_SUMMARY),
    "price_alert": ("market-data", PRICE_ALERT),
    "maintenance": ("maintenance", MAINTENANCE),
}


def batched(*payloads: dict[str, Any]) -> dict[str, Any]:
    """Several messages' embeds coalesced into one request, as Herald's flush does."""
    embeds = [embed for payload in payloads for embed in payload["embeds"]]
    return {"username": "Herald", "allowed_mentions": NO_PINGS, "embeds": embeds}
