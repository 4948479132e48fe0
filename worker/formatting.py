"""Numbers, money, percentages and durations as the user's C# notifier prints them.

The seed formats with .NET's `N4`/`N6`/`N2`/`P1` (thousands separators, fixed places,
midpoint away from zero). Decimals are formatted as decimals, never through `float`,
so `0.1 + 0.2` never shows up as `0.30000000000000004`. Output is plain ASCII apart
from the caller's units and contains no markdown, so it needs no escaping.
"""

from datetime import UTC, datetime, timedelta
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_UP, Context, Decimal, InvalidOperation

# Event decimals reach 1e16 with up to 38 digits: 80 digits keep every quantize exact,
# and an unbounded exponent range keeps derived values (a change from 1E-999999) finite.
_CONTEXT = Context(prec=80, rounding=ROUND_HALF_UP, Emax=MAX_EMAX, Emin=MIN_EMIN)

Number = Decimal | float | int


def to_decimal(value: Number) -> Decimal:
    """A float becomes the decimal of its shortest repr (`0.1`, not 0.1000000000000000055)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def number(value: Number, places: int) -> str:
    """.NET `N<places>`: `1500` -> `1,500.0000` for 4; negative zero prints as zero."""
    quantum = Decimal(1).scaleb(-places)
    try:
        rounded = _CONTEXT.quantize(to_decimal(value), quantum)
    except InvalidOperation:  # too many digits to print in full: only derived values
        return f"{to_decimal(value):.3E}"
    if rounded.is_zero():
        rounded = abs(rounded)
    return f"{rounded:,.{places}f}"


def signed(value: Number, places: int) -> str:
    """`N<places>` with an explicit `+` for positive moves (`+5.23`, `-1.10`, `0.00`)."""
    text = number(value, places)
    return text if text.startswith("-") or _is_zero(text) else f"+{text}"


def money(value: Number, places: int = 2) -> str:
    """C#'s `${x:N2}`: `$12.50`, `$-3.20` (sign after the dollar, as C# prints it)."""
    return f"${number(value, places)}"


def amount(value: Number, unit: str, places: int = 4) -> str:
    """`1,500.0000 XRP`: a quantity with its unit."""
    return f"{number(value, places)} {unit}"


def change_percent(old: Decimal, new: Decimal) -> Decimal:
    """(new - old) / old in percent; `old` must be non-zero (prices are positive)."""
    return _CONTEXT.multiply(_CONTEXT.divide(_CONTEXT.subtract(new, old), old), Decimal(100))


def fraction_percent(value: float, places: int = 1) -> str:
    """.NET `P1` on a 0..1 fraction: `0.85` -> `85.0%`."""
    return f"{number(to_decimal(value) * 100, places)}%"


def percent(value: Number, places: int = 2) -> str:
    """A value already in percent: `99.95` -> `99.95%`."""
    return f"{number(value, places)}%"


def millis(value: float) -> str:
    """`1.2` -> `1.20ms`, like the trading system's `{ExecutionLatency:N2}ms`."""
    return f"{number(value, 2)}ms"


def plain(value: Decimal, max_places: int = 8) -> str:
    """A decimal as given (`0.05`, `1,000`), grouped, with at most `max_places` decimals.

    The schemas bound a decimal's magnitude but not its smallness (`1E-999999` is valid),
    so printing "exactly" would mean a million zeros; we round past `max_places` instead.
    """
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -max_places:
        return number(value, max_places)
    if value.is_zero():
        value = abs(value)
    return f"{value:,f}"


def utc(moment: datetime) -> datetime:
    """Aware UTC; naive times are taken as UTC, and far edges of the calendar are clamped."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.max if moment.year > 1 else datetime.min
        return edge.replace(tzinfo=UTC)


_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def duration(value: timedelta) -> str:
    """Two most significant units: `1m 33s`, `2h 5m`, `3d 4h`; under a second, `350ms`."""
    total_us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if total_us < 0 else ""
    total_us = abs(total_us)
    if total_us < 1_000_000:
        return f"{sign}{total_us // 1000}ms"
    seconds = total_us // 1_000_000
    parts: list[str] = []
    for suffix, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count or parts:
            parts.append(f"{count}{suffix}")
        if len(parts) == 2:
            break
    if len(parts) == 2 and parts[1].startswith("0"):
        parts.pop()
    return sign + " ".join(parts)


def _is_zero(text: str) -> bool:
    return text.strip("0.,") == ""
