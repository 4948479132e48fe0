"""Every control attempt becomes a `manual_operation` event for #maintenance.

Refused, confirmed, cancelled, expired, succeeded, failed: each one is published with
the Discord user id (and so is every mute and unmute, `/alerts`), through the Publisher
like any producer (so it is routed, rate limited, retried and accounted for like every
other event). Publishing never blocks.
"""

from collections.abc import Callable
from enum import StrEnum
from typing import Final

from ground.names import CHECK_NAME
from ground.redact import redact
from schemas import ManualOperation
from schemas.catalog import AnyEvent
from schemas.types import NAME_MAX, TEXT_MAX, OperationResult


class Outcome(StrEnum):
    REFUSED = "refused"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


RESULT: Final = {
    Outcome.REFUSED: OperationResult.FAILED,
    Outcome.CONFIRMED: OperationResult.IN_PROGRESS,
    Outcome.CANCELLED: OperationResult.FAILED,
    Outcome.EXPIRED: OperationResult.FAILED,
    Outcome.SUCCEEDED: OperationResult.SUCCESS,
    Outcome.FAILED: OperationResult.FAILED,
}
UNNAMED: Final = "(not a service name)"
ALERTS: Final = "herald-alerts"
"""The `service` of a mute's audit line: what it changes is Herald's own alerting."""

Publish = Callable[[AnyEvent], object]


def operation_event(
    user_id: str, action: str, service: str, outcome: Outcome, details: str = ""
) -> ManualOperation:
    """The audit event; a service name that is not one (an injection attempt, say) is
    shown only inside the details, clipped and redacted."""
    named = service if CHECK_NAME.match(service) else UNNAMED
    if named == UNNAMED:
        details = f"{details} (asked for {service[:60]!r})".strip()
    return ManualOperation(
        operator=f"discord user {user_id or 'unknown'}"[:NAME_MAX],
        operation=f"/{action} {named}: {outcome.value}"[:TEXT_MAX],
        service=named,
        result=RESULT[outcome],
        details=redact(details)[:TEXT_MAX] or None,
    )


def mute_event(
    user_id: str, operation: str, outcome: Outcome, details: str = ""
) -> ManualOperation:
    """The audit event of `/alerts off` or `/alerts on` (`operation` says what and on what)."""
    return ManualOperation(
        operator=f"discord user {user_id or 'unknown'}"[:NAME_MAX],
        operation=f"{operation}: {outcome.value}"[:TEXT_MAX],
        service=ALERTS,
        result=RESULT[outcome],
        details=redact(details)[:TEXT_MAX] or None,
    )


class Audit:
    def __init__(self, publish: Publish) -> None:
        self._publish = publish

    def __call__(
        self, user_id: str, action: str, service: str, outcome: Outcome, details: str = ""
    ) -> None:
        self._publish(operation_event(user_id, action, service, outcome, details))

    def mute(self, user_id: str, operation: str, outcome: Outcome, details: str = "") -> None:
        self._publish(mute_event(user_id, operation, outcome, details))
