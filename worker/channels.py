"""The default routing of event kinds to the five channels (ground.channels)."""

from typing import Final

from ground.channels import (
    CHANNELS,
    CRITICAL_ALERTS,
    MAINTENANCE,
    MARKET_DATA,
    SYSTEM_STATUS,
    TRADING_ALERTS,
)

DEFAULT_ROUTES: Final[dict[str, tuple[str, ...]]] = {
    "build_started": (SYSTEM_STATUS,),
    "build_success": (SYSTEM_STATUS,),
    "build_failure": (SYSTEM_STATUS,),
    "deployment_started": (SYSTEM_STATUS,),
    "deployment_success": (SYSTEM_STATUS,),
    "deployment_failed": (CRITICAL_ALERTS, SYSTEM_STATUS),
    "service_restart": (SYSTEM_STATUS,),
    "system_healthy": (SYSTEM_STATUS,),
    "high_latency": (SYSTEM_STATUS,),
    "health_summary": (SYSTEM_STATUS,),
    "trade_executed": (TRADING_ALERTS,),
    "signal_generated": (TRADING_ALERTS,),
    "pnl_update": (TRADING_ALERTS,),
    "daily_summary": (TRADING_ALERTS,),
    "pnl_report": (TRADING_ALERTS,),
    "risk_alert": (CRITICAL_ALERTS,),
    "service_down": (CRITICAL_ALERTS,),
    "service_recovered": (CRITICAL_ALERTS,),  # beside the page it answers
    "connection_lost": (CRITICAL_ALERTS,),
    "price_alert": (MARKET_DATA,),
    "volume_alert": (MARKET_DATA,),
    "maintenance_scheduled": (MAINTENANCE,),
    "manual_operation": (MAINTENANCE,),
}

DEFAULT_DEDUP_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "service_down": ("service", "server"),
    "high_latency": ("service",),
    "connection_lost": ("exchange",),
    "risk_alert": ("type",),
}
"""Alert kinds folded within the dedupe window, and the fields that make up their key."""

__all__ = [
    "CHANNELS",
    "CRITICAL_ALERTS",
    "DEFAULT_DEDUP_FIELDS",
    "DEFAULT_ROUTES",
    "MAINTENANCE",
    "MARKET_DATA",
    "SYSTEM_STATUS",
    "TRADING_ALERTS",
]
