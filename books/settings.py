"""`[reports]` in herald.toml: the reporting time zone, when a day ends, and what to post.

Decoded from the file's `reports` table with msgspec, then checked value by value, so a
bad one stops start-up with its key named (`reports.timezone: ...`).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from ground.channels import CHANNELS, TRADING_ALERTS
from ground.errors import ConfigError
from ground.settings import duration_seconds, read_file


class ReportsFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    timezone: str = "UTC"
    day_ends: str = "00:00"
    channel: str = TRADING_ALERTS
    daily: bool = True
    weekly: bool = True
    monthly: bool = True
    grace: str = "2m"
    recent_trades: int = 1000
    retention_days: int = 400


UTC_ZONE: Final = ZoneInfo("UTC")
MIDNIGHT: Final = time(0, 0)


@dataclass(frozen=True)
class ReportSettings:
    timezone: ZoneInfo = UTC_ZONE
    day_ends: time = MIDNIGHT
    """Local wall-clock time a trading day ends (00:00: at midnight)."""
    channel: str = TRADING_ALERTS
    daily: bool = True
    weekly: bool = True
    monthly: bool = True
    grace_s: float = 120.0
    """Wait this long after a period closes for late events before reporting it."""
    recent_trades: int = 1000
    """How many trades the recent-trades lists keep (all, and per pair)."""
    retention_days: int = 400
    """Days a day's figures stay in Redis after the day ended."""


DEFAULT = ReportSettings()


def report_settings(raw: Mapping[str, Any] | None) -> ReportSettings:
    """Validate the file's `[reports]` table (None: no table, every default)."""
    try:
        file = msgspec.convert(raw or {}, ReportsFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"`reports{_path(str(exc))}") from None
    if file.channel not in CHANNELS:
        raise ConfigError(
            f"`reports.channel`: {file.channel!r} is not a channel; "
            f"use one of {', '.join(CHANNELS)}"
        )
    if not 1 <= file.recent_trades <= 100_000:
        raise ConfigError(f"`reports.recent_trades`: {file.recent_trades} is not in 1..100000")
    if not 1 <= file.retention_days <= 10_000:
        raise ConfigError(f"`reports.retention_days`: {file.retention_days} is not in 1..10000")
    grace = duration_seconds("reports.grace", file.grace)
    if grace < 0:
        raise ConfigError(f"`reports.grace`: must not be negative, got {file.grace!r}")
    return ReportSettings(
        timezone=_zone(file.timezone),
        day_ends=_day_ends(file.day_ends),
        channel=file.channel,
        daily=file.daily,
        weekly=file.weekly,
        monthly=file.monthly,
        grace_s=grace,
        recent_trades=file.recent_trades,
        retention_days=file.retention_days,
    )


def load_report_settings(config_path: str | None = None) -> ReportSettings:
    """`[reports]` of herald.toml (`config_path`, else $HERALD_CONFIG or ./herald.toml)."""
    return report_settings(read_file(config_path).reports)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f'`reports.timezone`: "{name}" is not an IANA time zone '
            '(use e.g. "UTC", "Europe/London" or "America/New_York")'
        ) from None


def _day_ends(text: str) -> time:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", text)
    if match is None:
        raise ConfigError(
            f'`reports.day_ends`: "{text}" is not a time of day; use "HH:MM", e.g. "17:00"'
        )
    return time(int(match[1]), int(match[2]))


def _path(message: str) -> str:
    """msgspec's `... - at `$.timezone`` -> `.timezone`: ...`."""
    match = re.match(r"^(.*) - at `\$(.*)`$", message)
    return f"{match[2]}`: {match[1]}" if match else f"`: {message}"
