"""The base every event kind derives from, and the metadata each kind declares."""

import re
from enum import StrEnum
from typing import ClassVar

import msgspec


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Lane(StrEnum):
    """Which stream an event travels on, so a flood in one lane never delays another.

    Critical events get their own stream; market data, the only kind that arrives in
    tens of thousands, gets another; everything else shares the normal lane.
    """

    CRITICAL = "critical"
    NORMAL = "normal"
    BULK = "bulk"


def kind_of(class_name: str) -> str:
    """`TradeExecuted` -> `trade_executed`: the wire tag and the CLI/config name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


class Event(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag=kind_of,
):
    """One thing that happened. Subclasses are the kinds; their tag is `kind` on the wire."""

    default_severity: ClassVar[Severity] = Severity.INFO
    bulk: ClassVar[bool] = False

    @classmethod
    def kind(cls) -> str:
        return kind_of(cls.__name__)

    def lane(self, severity: Severity) -> Lane:
        if severity is Severity.CRITICAL:
            return Lane.CRITICAL
        return Lane.BULK if self.bulk else Lane.NORMAL
