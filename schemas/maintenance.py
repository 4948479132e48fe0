"""Maintenance events for #maintenance: planned work and what operators did by hand."""

from datetime import timedelta

from schemas.base import Event
from schemas.types import Name, OperationResult, Text, Url, UtcDatetime


class MaintenanceScheduled(Event, frozen=True):
    service: Name
    starts_at: UtcDatetime
    duration: timedelta
    description: Text
    impact: Text | None = None
    ticket: Url | None = None


class ManualOperation(Event, frozen=True):
    operator: Name
    operation: Text
    service: Name
    result: OperationResult
    server: Name | None = None
    details: Text | None = None
