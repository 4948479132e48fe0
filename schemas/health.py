"""System health events (raised by a health monitor)."""

from datetime import timedelta
from typing import ClassVar

from schemas.base import Event, Severity
from schemas.types import ConnectionStatus, Count, Millis, Name, Percent, Text, Trend


class ServiceDown(Event, frozen=True):
    default_severity: ClassVar[Severity] = Severity.CRITICAL

    service: Name
    server: Name
    duration: timedelta
    impact: Text


class HighLatency(Event, frozen=True):
    default_severity: ClassVar[Severity] = Severity.WARNING

    service: Name
    latency_ms: Millis
    threshold_ms: Millis
    trend: Trend


class ConnectionLost(Event, frozen=True):
    default_severity: ClassVar[Severity] = Severity.CRITICAL

    exchange: Name
    duration: timedelta
    reconnect_attempts: Count
    status: ConnectionStatus
    """`reconnected` is the recovery that closes this exchange's dedupe window."""


class SystemHealthy(Event, frozen=True):
    services: Count
    latency_ms: Millis
    uptime_pct: Percent
    performance: Name
