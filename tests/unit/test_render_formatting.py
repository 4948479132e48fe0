"""The C# notifier's number formats, reproduced exactly from decimals."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from worker.formatting import (
    amount,
    change_percent,
    duration,
    fraction_percent,
    millis,
    money,
    number,
    percent,
    plain,
    signed,
    utc,
)


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("1500"), 4, "1,500.0000"),
        (Decimal("0.523456"), 6, "0.523456"),
        (Decimal("0.0000005"), 6, "0.000001"),  # midpoint away from zero, like .NET
        (Decimal("-0.0000005"), 6, "-0.000001"),
        (Decimal("2.345"), 2, "2.35"),
        (Decimal("-0.001"), 2, "0.00"),  # no negative zero
        (Decimal("9999999999999999"), 2, "9,999,999,999,999,999.00"),
        (Decimal("1E+15"), 0, "1,000,000,000,000,000"),
        (Decimal("1E-999999"), 6, "0.000000"),
        (Decimal("12345678901234567890123456789012345678E-22"), 4, "1,234,567,890,123,456.7890"),
        (0.1 + 0.2, 2, "0.30"),
        (1.005, 2, "1.01"),  # the decimal 1.005, not the float 1.00499999...
        (3, 0, "3"),
    ],
)
def test_number(value: Decimal | float, places: int, text: str) -> None:
    assert number(value, places) == text


def test_number_of_a_derived_huge_value_falls_back_to_scientific() -> None:
    assert number(Decimal("1E+200"), 2) == "1.000E+200"


def test_money_amount_percent() -> None:
    assert money(Decimal("12.5")) == "$12.50"
    assert money(Decimal("-3.2")) == "$-3.20"
    assert money(Decimal("0.523456"), 6) == "$0.523456"
    assert amount(Decimal("1500"), "XRP") == "1,500.0000 XRP"
    assert fraction_percent(0.85) == "85.0%"
    assert fraction_percent(0.8555) == "85.6%"
    assert percent(99.95) == "99.95%"
    assert millis(1.2) == "1.20ms"
    assert signed(Decimal("5.311"), 2) == "+5.31"
    assert signed(Decimal("-1.1"), 2) == "-1.10"
    assert signed(Decimal("0.001"), 2) == "0.00"


def test_plain_keeps_the_producers_digits_but_bounds_them() -> None:
    assert plain(Decimal("0.05")) == "0.05"
    assert plain(Decimal("1E+3")) == "1,000"
    assert plain(Decimal("-1234.5")) == "-1,234.5"
    assert plain(Decimal("-0")) == "0"
    assert plain(Decimal("1E-999999")) == "0.00000000"


def test_change_percent_never_overflows() -> None:
    assert change_percent(Decimal("0.5"), Decimal("0.55")) == Decimal("10.0")
    assert number(change_percent(Decimal("1E-999999"), Decimal("1")), 2).endswith("E+1000001")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0ms"),
        (timedelta(milliseconds=350), "350ms"),
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=1, seconds=33), "1m 33s"),
        (timedelta(minutes=3), "3m"),
        (timedelta(hours=2, minutes=5, seconds=59), "2h 5m"),
        (timedelta(hours=2, seconds=5), "2h"),
        (timedelta(days=3, hours=4), "3d 4h"),
        (timedelta(days=1, minutes=5), "1d"),
        (-timedelta(minutes=1, seconds=33), "-1m 33s"),
        (timedelta.max, "999999999d 23h"),
        (timedelta.min, "-999999999d"),
    ],
)
def test_duration(value: timedelta, text: str) -> None:
    assert duration(value) == text


def test_utc_handles_naive_offsets_and_calendar_edges() -> None:
    assert utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    east = timezone(timedelta(hours=5))
    assert utc(datetime(2026, 1, 1, 5, tzinfo=east)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert utc(datetime.min.replace(tzinfo=east)) == datetime.min.replace(tzinfo=UTC)
    west = timezone(timedelta(hours=-5))
    assert utc(datetime.max.replace(tzinfo=west)) == datetime.max.replace(tzinfo=UTC)
