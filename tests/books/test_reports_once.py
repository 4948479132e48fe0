"""A period is posted once, whoever posts it: the schedule, `herald report --post` or the
demo all go through the same claim, so a report posted on demand is not posted again at
the close (only a correction follows, if trades came after), and a second `--post` of the
same period is refused with what was posted."""

import shutil
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from books.periods import period_containing, period_for_date
from books.schedule import reporter as scheduled
from books.service import Books
from books.settings import DEFAULT
from ground import keyspace
from herald.cli import main
from herald.demo import daily_report
from herald.redis_server import RedisServer
from producer import Publisher
from schemas.codec import decode
from tests.books.helpers import drain, publish, settings, trade, utc
from tests.books.test_reports import FakePublisher, reporter, trading_days

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@pytest.fixture
def client(redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


def published_reports(client: redis.Redis) -> list[tuple[str, int]]:
    entries = client.xrange(keyspace.stream("normal"))
    envelopes = [decode(fields[keyspace.PAYLOAD_FIELD]) for _, fields in entries]
    return [
        (e.event.label.isoformat(), e.event.trades) for e in envelopes if e.kind == "pnl_report"
    ]  # type: ignore[union-attr]


def test_a_second_post_of_a_period_is_refused(
    redis_server: RedisServer, client: redis.Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    trading_days(client, DEFAULT, [date(2026, 11, 2)])
    argv = ["report", "daily", "--date", "2026-11-02", "--post", "--redis-url", redis_server.url]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "posted the daily report daily:2026-11-02" in first
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "daily:2026-11-02 was posted at" in err
    assert "it is not posted twice" in err
    assert published_reports(client) == [("2026-11-02", 3)]


def test_a_report_posted_on_demand_is_not_posted_again_at_the_close(client: redis.Redis) -> None:
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2)])
    pub = FakePublisher()
    period = period_for_date("daily", date(2026, 11, 2), s)
    sent = reporter(client, s, pub).post_now(period, utc(2026, 11, 2, 15))
    assert sent is not None
    assert not sent.late
    assert pub.sent[0].dedup_key == "report:daily:2026-11-02:v0"  # the schedule's key
    r = reporter(client, s, pub, wall=lambda: 2e9)
    assert r.tick(utc(2026, 11, 3, 0, 2, 30)) == []
    assert r.tick(utc(2026, 11, 3, 9)) == []
    assert len(pub.sent) == 1
    # trades after the early post: at the close a correction, not a second report
    publish(client, [trade(utc(2026, 11, 2, 20), "5")])
    drain(client, s)
    (fix,) = r.tick(utc(2026, 11, 3, 9, 1))
    assert fix.correction
    assert fix.version == 1
    assert (pub.sent[1].event.previous_trades, pub.sent[1].event.trades) == (3, 4)


def test_a_period_the_schedule_posted_is_not_posted_on_demand(client: redis.Redis) -> None:
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2)])
    pub = FakePublisher()
    reporter(client, s, pub).tick(utc(2026, 11, 3, 0, 2, 30))
    period = period_for_date("daily", date(2026, 11, 2), s)
    assert reporter(client, s, pub).post_now(period, utc(2026, 11, 3, 1)) is None
    assert len(pub.sent) == 1


def test_the_demos_report_is_the_days_report_for_the_schedule(
    redis_server: RedisServer, client: redis.Redis, tmp_path: Path
) -> None:
    s = settings(weekly=False, monthly=False)
    now = datetime.now(UTC)
    publish(client, [trade(now - timedelta(seconds=1), "7"), trade(now, "-2")])
    stop = threading.Event()
    books = threading.Thread(target=Books(client, s, name="b", block_ms=20).run, args=(stop,))
    books.start()
    try:
        with Publisher(redis_server.url, source="demo", spool_path=tmp_path / "s") as pub:
            first = daily_report(client, s, pub)
            assert first
            assert daily_report(client, s, pub) == "", "the demo run again: not twice"
            period = period_containing("daily", now, s)
            close = period.end.astimezone(UTC) + timedelta(seconds=s.grace_s + 1)
            assert scheduled(client, s, pub).tick(close) == [], "nor at the close"
            assert pub.flush(10)
    finally:
        stop.set()
        books.join(10)
    assert published_reports(client) == [(period.label.isoformat(), 2)]
    record = client.hgetall(keyspace.books_report(period.key))
    assert record[b"state"] == b"posted"
    assert record[b"event_id"].decode() == first
    assert Decimal(record[b"pnl"].decode()) == Decimal(5)
