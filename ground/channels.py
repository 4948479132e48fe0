"""The five channels of the user's design, and the variable that holds each webhook."""

from typing import Final

SYSTEM_STATUS: Final = "system-status"
TRADING_ALERTS: Final = "trading-alerts"
CRITICAL_ALERTS: Final = "critical-alerts"
MARKET_DATA: Final = "market-data"
MAINTENANCE: Final = "maintenance"

CHANNELS: Final = (SYSTEM_STATUS, TRADING_ALERTS, CRITICAL_ALERTS, MARKET_DATA, MAINTENANCE)


def webhook_env(channel: str) -> str:
    """`HERALD_WEBHOOK_TRADING_ALERTS` for `trading-alerts` (`_FILE` appended: a file)."""
    return "HERALD_WEBHOOK_" + channel.upper().replace("-", "_")
