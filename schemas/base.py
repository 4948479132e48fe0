"""The base every event kind derives from, and the metadata each kind declares."""

import functools
import re
import types
import typing
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

import msgspec

from schemas.types import check_decimal, check_duration


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


@functools.cache  # called per event on the hot paths; a regex each time cost ~1 µs
def kind_of(class_name: str) -> str:
    """`TradeExecuted` -> `trade_executed`: the wire tag and the CLI/config name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


class Event(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    gc=False,
    tag_field="kind",
    tag=kind_of,
):
    """One thing that happened. Subclasses are the kinds; their tag is `kind` on the wire.

    `gc=False`: events hold only immutable scalars and tuples of them, so they can never
    form a reference cycle; untracked, a burst of 700k queued events no longer makes the
    garbage collector's full passes stall the publishing thread for 100 ms (measured).
    """

    default_severity: ClassVar[Severity] = Severity.INFO
    bulk: ClassVar[bool] = False
    positive: ClassVar[tuple[str, ...]] = ()
    """Decimal fields that must be > 0 (prices, amounts)."""
    unsigned: ClassVar[tuple[str, ...]] = ()
    """Decimal fields that must be >= 0 (volumes, exposure)."""

    def __post_init__(self) -> None:
        """Checks msgspec's `Meta` cannot express: every decimal finite and of sane size
        (plus the kind's sign rules), every duration non-negative and under a year.
        Runs at construction and at decode, so the error reaches whoever made the event."""
        decimals, durations = _checked_fields(type(self))
        for name, positive, signed in decimals:
            value = getattr(self, name)
            # Only Decimals: msgspec does not type-check __init__, and an int or str given
            # to the constructor becomes a checked Decimal when the dispatcher decodes it.
            if isinstance(value, Decimal):
                check_decimal(name, value, positive=positive, signed=signed)
        for name in durations:
            value = getattr(self, name)
            if isinstance(value, timedelta):
                check_duration(name, value)

    @classmethod
    def kind(cls) -> str:
        return kind_of(cls.__name__)

    def lane(self, severity: Severity) -> Lane:
        if severity is Severity.CRITICAL:
            return Lane.CRITICAL
        return Lane.BULK if self.bulk else Lane.NORMAL


@functools.cache
def _checked_fields(
    cls: type[Event],
) -> tuple[tuple[tuple[str, bool, bool], ...], tuple[str, ...]]:
    """Per kind, once: (name, positive, signed) of its Decimal fields, and its durations."""
    decimals, durations = [], []
    for f in msgspec.structs.fields(cls):
        if _mentions(f.type, Decimal):
            decimals.append((f.name, f.name in cls.positive, f.name not in cls.unsigned))
        elif _mentions(f.type, timedelta):
            durations.append(f.name)
    return tuple(decimals), tuple(durations)


def _mentions(tp: object, wanted: type) -> bool:
    """`wanted`, `wanted | None` or `Annotated[wanted, ...]` (in any nesting of those)."""
    if tp is wanted:
        return True
    if typing.get_origin(tp) not in (typing.Union, types.UnionType, typing.Annotated):
        return False  # e.g. tuple[Decimal, ...]: not a scalar of that type
    return any(_mentions(arg, wanted) for arg in typing.get_args(tp))
