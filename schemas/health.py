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


class ServiceRecovered(Event, frozen=True):
    """A service that was down answers again.

    The recovery that closes the fold windows of its `service_down` (service, server) and
    `high_latency` (service) alerts, so its next failure pages at once."""

    service: Name
    server: Name
    down_for: timedelta
    """How long it was down."""
    detail: Text | None = None


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
