"""Amounts in the books: integers in units of 1e-8 (a satoshi's size).

Redis adds integers exactly (HINCRBY, 64-bit), so every sum the books keep is exact:
volume, notional, P&L. A value with more than 8 decimal places (and a notional
amount x price that has more) is rounded half-even to 8 once, when the trade is read.
One day's sums must stay under 9.2e10 (int64 / 1e8); weeks and months are added up in
Python from the days, without limit.
"""

from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Final

SCALE: Final = 100_000_000
_QUANTUM: Final = Decimal(1).scaleb(-8)
_EXACT: Final = Context(prec=100, rounding=ROUND_HALF_EVEN)
"""Wide enough for any product of two event decimals (38 digits each): no silent rounding."""


def units(value: Decimal) -> int:
    """Decimal -> integer units of 1e-8 (half-even beyond 8 places)."""
    return int(value.quantize(_QUANTUM, context=_EXACT).scaleb(8, context=_EXACT))


def notional_units(amount: Decimal, price: Decimal) -> int:
    return units(_EXACT.multiply(amount, price))


def decimal(value: int) -> Decimal:
    """Integer units -> Decimal, without trailing zeros (`1.5`, not `1.50000000`)."""
    if value % SCALE == 0:
        return Decimal(value // SCALE)
    return Decimal(value).scaleb(-8, context=_EXACT).normalize(_EXACT)


def latency_us(latency_ms: float) -> int:
    """Latencies are summed in whole microseconds."""
    return round(latency_ms * 1000)
