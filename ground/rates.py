"""Rates such as Discord's "5 requests per 2 s": one parser for the engine and the sandbox."""

import re
from dataclasses import dataclass
from typing import Final

_RATE: Final = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `limit` requests in any `period`-second interval."""

    limit: int
    period: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            raise ValueError(f"rate must allow at least 1 request per positive period: {self}")

    def __str__(self) -> str:
        return f"{self.limit}/{self.period:g}s"


def parse_rate(text: str) -> Rate:
    """`5/2s`, `30/60s`, `30/1m`, `50/s` or `100/500ms`; a ValueError says the form."""
    match = _RATE.match(text)
    if match is None:
        raise ValueError(f"not a rate: {text!r} (use COUNT/PERIOD such as 5/2s, 30/1m or 50/1s)")
    count, amount, unit = match.groups()
    period = float(amount or 1) * _UNIT_SECONDS[unit]
    if int(count) < 1 or period <= 0:
        raise ValueError(f"not a rate: {text!r} (count and period must both be positive)")
    return Rate(int(count), period)


WEBHOOK_RATE: Final = Rate(5, 2.0)
"""Discord's observed limit per webhook."""
CHANNEL_RATE: Final = Rate(30, 60.0)
"""Discord's observed limit per channel (messages a minute)."""
GLOBAL_RATE: Final = Rate(50, 1.0)
"""Discord's global limit per bot/IP."""
