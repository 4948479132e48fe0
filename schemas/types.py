"""Constrained field types shared by every event kind.

msgspec checks `Meta` constraints when bytes are decoded, so a bad event is rejected
at the dispatcher with a path-naming error. Decimals cannot carry `Meta` bounds, so
`Event.__post_init__` checks them (it also runs at construction) with `check_decimal`.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Final

from msgspec import Meta

# Patterns end in \Z, not $: msgspec searches with `re`, where `$` also matches before a
# trailing newline. `\S` requires some visible text: Discord rejects blank field values.
NAME_MAX: Final = 100
TEXT_MAX: Final = 1000
Name = Annotated[str, Meta(min_length=1, max_length=NAME_MAX, pattern=r"\S")]
"""A short identifier: service, server, pair, strategy, repository, exchange."""

Text = Annotated[str, Meta(min_length=1, max_length=TEXT_MAX, pattern=r"\S")]
"""Free text a human wrote or a system produced: reasons, errors, impact."""

Url = Annotated[str, Meta(min_length=1, max_length=2000, pattern=r"^https?://")]

Pair = Annotated[
    str, Meta(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9]+[/\-_][A-Za-z0-9]+\Z")
]
"""A trading pair such as ``XRP/USD``; the first part is the base asset."""

CommitSha = Annotated[str, Meta(min_length=4, max_length=64, pattern=r"^[0-9a-fA-F]+\Z")]

Probability = Annotated[float, Meta(ge=0.0, le=1.0)]
Percent = Annotated[float, Meta(ge=0.0, le=100.0)]
Millis = Annotated[float, Meta(ge=0.0, le=86_400_000.0)]
Count = Annotated[int, Meta(ge=0, le=2**53)]
Ratio = Annotated[float, Meta(ge=0.0, le=1e6)]

UtcDatetime = Annotated[datetime, Meta(tz=True)]
"""A timezone-aware datetime (naive ones are ambiguous, so they are rejected)."""

# Magnitudes beyond this are typing errors, and an unbounded exponent would make a
# renderer format millions of digits (Decimal("1E+999999")).
_MAX_ADJUSTED_EXPONENT = 15
_MAX_DIGITS = 38
_MIN_EXPONENT = -18
_MAX_DURATION = timedelta(days=366)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Action(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"
    CLOSE = "CLOSE"


class Trend(StrEnum):
    RISING = "rising"
    STABLE = "stable"
    FALLING = "falling"


class OperationResult(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    PARTIAL = "partial"
    IN_PROGRESS = "in_progress"


class ConnectionStatus(StrEnum):
    RECONNECTING = "reconnecting"
    RECONNECTED = "reconnected"
    FAILED = "failed"


def check_decimal(
    name: str, value: Decimal, *, positive: bool = False, signed: bool = True
) -> None:
    """Reject NaN/Infinity, absurd magnitudes and (optionally) signs; message names the field.

    Runs for every decimal of every event the dispatcher decodes, so it reads the digits
    tuple once and compares integers rather than Decimals."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # 'n', 'N' or 'F': NaN, sNaN, Infinity
        raise ValueError(f"`{name}` must be a finite decimal, got {value}")
    nonzero = any(digits)
    if nonzero and (
        len(digits) + exponent - 1 > _MAX_ADJUSTED_EXPONENT or len(digits) > _MAX_DIGITS
    ):
        raise ValueError(f"`{name}` is out of range (|x| < 1e16, at most 38 digits), got {value}")
    if exponent < _MIN_EXPONENT:
        raise ValueError(f"`{name}` has more than 18 decimal places, got {value}")
    if positive and (sign or not nonzero):
        raise ValueError(f"`{name}` must be > 0, got {value}")
    if not signed and sign and nonzero:
        raise ValueError(f"`{name}` must be >= 0, got {value}")


def check_duration(name: str, value: timedelta) -> None:
    if value < timedelta(0) or value > _MAX_DURATION:
        raise ValueError(f"`{name}` must be between 0 and 366 days, got {value}")
