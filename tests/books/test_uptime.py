"""A daily report's uptime comes from the monitor's five-minute buckets (written by the
monitor's own `record`, read with the shared rule of `worker.uptime_buckets`): the share
of passing results of every check within the day, shown only when the buckets the
monitor keeps cover most of the day."""

import asyncio
import shutil
from datetime import UTC, date, datetime, timedelta

import pytest
import redis
from redis.asyncio import Redis as AsyncRedis

from books.periods import period_for_date
from books.uptime import report_uptime
from ground import keyspace
from herald.redis_server import RedisServer
from monitor import uptime
from tests.books.helpers import settings
from tests.books.test_reports import FakePublisher, trading_days
from worker.uptime_buckets import uptime_between

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

DAY = date(2026, 11, 2)
START = datetime(2026, 11, 2, tzinfo=UTC)


def results(url: str, check: str, at: list[tuple[datetime, bool]]) -> None:
    """What `herald monitor` writes for each result of `check`."""

    async def write() -> None:
        client = AsyncRedis.from_url(url)
        await client.hset(keyspace.MONITOR_CHECKS, check, "{}")
        for moment, ok in at:
            await uptime.record(client, check, ok, moment.timestamp())
        await client.aclose()

    asyncio.run(write())


def every_minute(start: datetime, end: datetime, failing: set[int]) -> list[tuple[datetime, bool]]:
    minutes = int((end - start).total_seconds() // 60)
    return [(start + timedelta(minutes=i), i not in failing) for i in range(minutes)]


@pytest.fixture
def client(redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


def test_the_days_uptime_is_the_share_of_passing_results_within_it(
    redis_server: RedisServer, client: redis.Redis
) -> None:
    end = START + timedelta(days=1)
    results(redis_server.url, "api", every_minute(START, end, failing={10, 11, 12}))
    results(redis_server.url, "db", every_minute(START, end, failing=set(range(1440 - 36, 1440))))
    results(redis_server.url, "web", [(end + timedelta(minutes=1), False)])  # the next day
    period = period_for_date("daily", DAY, settings())
    got = report_uptime(client, period, now=end.timestamp() + 150)
    assert got == pytest.approx(100 * (2 * 1440 - 39) / (2 * 1440))
    assert report_uptime(client, period_for_date("weekly", DAY, settings())) is None


def test_no_uptime_when_the_monitor_saw_too_little_of_the_day(
    redis_server: RedisServer, client: redis.Redis
) -> None:
    period = period_for_date("daily", DAY, settings())
    assert report_uptime(client, period) is None, "no monitor at all"
    late = START + timedelta(hours=18)
    results(redis_server.url, "api", every_minute(late, START + timedelta(days=1), set()))
    assert report_uptime(client, period) is None, "six hours of a day is not the day's uptime"
    pct, since = uptime_between(client, START.timestamp(), (START + timedelta(days=1)).timestamp())
    assert pct == 100.0
    assert since == late.timestamp()


def test_the_scheduled_daily_report_carries_the_uptime(
    redis_server: RedisServer, client: redis.Redis
) -> None:
    from books.schedule import reporter

    s = settings(weekly=False, monthly=False)
    trading_days(client, s, [DAY])
    end = START + timedelta(days=1)
    results(redis_server.url, "api", every_minute(START, end, failing=set(range(144))))
    pub = FakePublisher()
    (sent,) = reporter(client, s, pub).tick(end + timedelta(minutes=2, seconds=30))
    assert sent.period == "daily:2026-11-02"
    assert pub.sent[0].event.uptime_pct == pytest.approx(90.0)
