"""Days, weeks and months in the reporting zone: DST days of 23 and 25 hours, the FX day
ending at 17:00 New York, and a trade on each side of a boundary counted on its day."""

import shutil
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import redis

from books.periods import day_of, period_containing, period_for_date
from books.query import figures
from herald.redis_server import RedisServer
from tests.books.helpers import drain, publish, settings, trade, utc

NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)


def test_a_utc_day_is_midnight_to_midnight() -> None:
    day = period_for_date("daily", date(2026, 12, 1), settings())
    assert (day.start, day.end) == (utc(2026, 12, 1), utc(2026, 12, 2))
    assert day.key == "daily:2026-12-01"
    assert day_of(utc(2026, 12, 1, 23, 59, 59), settings()) == date(2026, 12, 1)
    assert day_of(utc(2026, 12, 2), settings()) == date(2026, 12, 2)


def test_dst_days_last_23_and_25_hours() -> None:
    s = settings("America/New_York")
    spring = period_for_date("daily", date(2026, 3, 8), s)
    autumn = period_for_date("daily", date(2026, 11, 1), s)
    assert spring.duration == 23 * H
    assert autumn.duration == 25 * H
    assert spring.end - spring.start == 24 * H  # Python's wall-clock subtraction: why .duration
    assert spring.start == datetime(2026, 3, 8, tzinfo=NY)
    assert autumn.end == datetime(2026, 11, 2, tzinfo=NY)
    assert period_for_date("daily", date(2026, 3, 9), s).duration == 24 * H
    # 01:30 happens twice on 2026-11-01: both are that day
    first, second = utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)
    assert day_of(first, s) == day_of(second, s) == date(2026, 11, 1)


def test_the_fx_day_ends_at_17_00_new_york() -> None:
    s = settings("America/New_York", "17:00")
    day = period_for_date("daily", date(2026, 12, 1), s)
    assert day.start == datetime(2026, 11, 30, 17, 0, tzinfo=NY)
    assert day.end == datetime(2026, 12, 1, 17, 0, tzinfo=NY)
    assert day_of(datetime(2026, 12, 1, 16, 59, 59, tzinfo=NY), s) == date(2026, 12, 1)
    assert day_of(datetime(2026, 12, 1, 17, 0, tzinfo=NY), s) == date(2026, 12, 2)
    assert day_of(datetime(2026, 12, 1, 23, 0, tzinfo=NY), s) == date(2026, 12, 2)
    assert day_of(datetime(2026, 12, 1, 0, 30, tzinfo=NY), s) == date(2026, 12, 1)
    # across the spring change the FX day still ends at 17:00 local: 23 hours
    spring = period_for_date("daily", date(2026, 3, 8), s)
    assert (spring.duration, spring.end.hour) == (23 * H, 17)


def test_weeks_start_monday_and_months_on_the_1st() -> None:
    s = settings("America/New_York", "17:00")
    week = period_containing("weekly", datetime(2026, 12, 6, 18, 0, tzinfo=NY), s)
    assert week.label == date(2026, 12, 7)  # Sunday 18:00 is Monday's FX day
    assert week.start == datetime(2026, 12, 6, 17, 0, tzinfo=NY)
    assert week.end == datetime(2026, 12, 13, 17, 0, tzinfo=NY)
    assert (week.previous().label, week.next().label) == (date(2026, 11, 30), date(2026, 12, 14))
    month = period_for_date("monthly", date(2026, 2, 14), settings())
    assert (month.key, len(month.days())) == ("monthly:2026-02-01", 28)
    assert month.next().label == date(2026, 3, 1)
    assert month.previous().label == date(2026, 1, 1)
    assert period_for_date("monthly", date(2026, 12, 31), settings()).next().label == date(
        2027, 1, 1
    )
    assert period_for_date("daily", date(2026, 3, 1), settings()).previous().label == date(
        2026, 2, 28
    )


@pytest.fixture
def client(redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_trades_count_on_their_day_across_a_25_hour_day(client: redis.Redis) -> None:
    s = settings("America/New_York")
    publish(client, [
        trade(utc(2026, 11, 1, 4, 0), "1"),    # 00:00 EDT: the first instant of 11-01
        trade(utc(2026, 11, 1, 5, 30), "2"),   # 01:30 EDT
        trade(utc(2026, 11, 1, 6, 30), "4"),   # 01:30 EST, an hour later
        trade(utc(2026, 11, 2, 4, 59), "8"),   # 23:59 EST: still 11-01, in its 25th hour
        trade(utc(2026, 11, 2, 5, 0), "16"),   # 00:00 EST 11-02
        trade(utc(2026, 11, 1, 3, 59), "32"),  # 23:59 EDT 10-31
    ])  # fmt: skip
    drain(client, s)
    day = figures(client, period_for_date("daily", date(2026, 11, 1), s))
    assert (day.trades, day.pnl) == (3 + 1, Decimal(15))
    assert len(day.series) == 25 * 12  # the curve runs to the end of the 25th hour
    assert day.series[-1] == ("2026-11-02T00:00:00-05:00", Decimal(15))
    assert day.series[18][0] == "2026-11-01T01:35:00-04:00"
    assert day.series[30] == ("2026-11-01T01:35:00-05:00", Decimal(7))
    assert figures(client, period_for_date("daily", date(2026, 11, 2), s)).pnl == Decimal(16)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_trades_count_on_their_fx_day_and_a_23_hour_day(client: redis.Redis) -> None:
    s = settings("America/New_York", "17:00")
    publish(client, [
        trade(utc(2026, 3, 7, 22, 0), "1"),     # 17:00 EST 03-07: opens FX day 03-08
        trade(utc(2026, 3, 8, 20, 59), "2"),    # 16:59 EDT 03-08: its last minute
        trade(utc(2026, 3, 8, 21, 0), "4"),     # 17:00 EDT 03-08: FX day 03-09
        trade(utc(2026, 3, 7, 21, 59), "8"),    # 16:59 EST 03-07: FX day 03-07
    ])  # fmt: skip
    drain(client, s)
    day = figures(client, period_for_date("daily", date(2026, 3, 8), s))
    assert (day.trades, day.pnl) == (2, Decimal(3))
    assert len(day.series) == 23 * 12
    assert day.series[-1] == ("2026-03-08T17:00:00-04:00", Decimal(3))
    assert figures(client, period_for_date("daily", date(2026, 3, 9), s)).pnl == Decimal(4)
    assert figures(client, period_for_date("daily", date(2026, 3, 7), s)).pnl == Decimal(8)
