"""The report schedule against a real redis-server, with an injected clock: one report per
period with two instances and across restarts, a missed period posted late, a late trade
corrected, a crash between claim and confirmation folded by the dispatcher."""

import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import redis

from books.periods import period_for_date
from books.schedule import Reporter
from books.settings import ReportSettings
from ground import keyspace
from herald.redis_server import RedisServer
from schemas import Attachment, PnlReport
from tests.books.helpers import drain, publish, settings, trade, utc

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@dataclass
class Published:
    event: PnlReport
    dedup_key: str | None
    channels: tuple[str, ...]
    attachments: tuple[Attachment, ...]


@dataclass
class FakePublisher:
    """Records what a reporter publishes; `confirm` is what flush answers."""

    sent: list[Published] = field(default_factory=list)
    confirm: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(
        self,
        event: PnlReport,
        *,
        dedup_key: str | None = None,
        channels: Iterable[str] | None = None,
        attachments: Iterable[Attachment] = (),
    ) -> str:
        with self.lock:
            self.sent.append(Published(event, dedup_key, tuple(channels or ()), tuple(attachments)))
            return f"id-{len(self.sent)}"

    def flush(self, timeout: float = 5.0) -> bool:
        return self.confirm

    def keys(self) -> list[str]:
        return [f"{p.event.period}:{p.event.label}" for p in self.sent]


@pytest.fixture
def client(redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


def reporter(client: redis.Redis, s: ReportSettings, pub: FakePublisher, **kw: object) -> Reporter:
    return Reporter(client, s, pub, behind_s=lambda: 0.0, **kw)  # type: ignore[arg-type]


def trading_days(client: redis.Redis, s: ReportSettings, days: Iterable[date]) -> None:
    """Three trades on each day (the day's number decides the P&L), counted by the books."""
    trades = []
    for day in days:
        at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        for i, pnl in enumerate(("10", "-4", str(day.day))):
            trades.append(trade(at + timedelta(hours=i), pnl))
    publish(client, trades)
    drain(client, s)


def test_two_reporters_post_each_period_once(client: redis.Redis) -> None:
    s = settings(grace_s=120.0)
    trading_days(client, s, [date(2026, 11, d) for d in range(2, 6)])
    pub = FakePublisher()
    a, b = reporter(client, s, pub), reporter(client, s, pub)
    a.tick(utc(2026, 11, 2, 0, 30))  # Herald's first start: the days before were quiet
    assert pub.sent == [], "a late period without trades is skipped, not posted"
    for day in range(3, 7):
        close = utc(2026, 11, day)
        for offset in (timedelta(seconds=60), timedelta(seconds=121), timedelta(hours=6)):
            barrier = threading.Barrier(2)

            def run(
                r: Reporter, at: datetime = close + offset, ready: threading.Barrier = barrier
            ) -> None:
                ready.wait()
                r.tick(at)

            threads = [threading.Thread(target=run, args=(r,)) for r in (a, b)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    assert pub.keys() == [f"daily:2026-11-0{d}" for d in range(2, 6)]
    for p in pub.sent:
        assert not p.event.late
        assert not p.event.correction
        assert p.event.trades == 3
        assert p.event.pnl == Decimal(6 + p.event.label.day)
        assert p.channels == ("trading-alerts",)
        assert p.dedup_key == f"report:daily:{p.event.label}:v0"
        (chart,) = p.attachments
        assert chart.filename == f"pnl-daily-{p.event.label}.png"
        assert chart.data.startswith(b"\x89PNG")


def test_a_restart_never_posts_twice_and_a_missed_period_comes_late(client: redis.Redis) -> None:
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2), date(2026, 11, 3)])
    first = FakePublisher()
    reporter(client, s, first).tick(utc(2026, 11, 3, 0, 2, 5))
    assert first.keys() == ["daily:2026-11-02"]
    again = FakePublisher()
    restarted = reporter(client, s, again)  # a new process: new holder, nothing in memory
    restarted.tick(utc(2026, 11, 3, 0, 2, 30))
    restarted.tick(utc(2026, 11, 3, 18))
    assert again.sent == []
    # Down from before 4 Nov 00:00 until 9:00: 3 Nov is posted late, once.
    back = reporter(client, s, again)
    back.tick(utc(2026, 11, 4, 9))
    back.tick(utc(2026, 11, 4, 9, 1))
    assert again.keys() == ["daily:2026-11-03"]
    (late,) = again.sent
    assert late.event.late
    assert late.event.trades == 3
    record = client.hgetall(keyspace.books_report("daily:2026-11-03"))
    assert record[b"state"] == b"posted"
    assert record[b"late"] == b"1"


def test_only_the_most_recent_missed_period_is_posted(client: redis.Redis) -> None:
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, d) for d in range(2, 6)])
    pub = FakePublisher()
    reporter(client, s, pub).tick(utc(2026, 11, 6, 8))
    assert pub.keys() == ["daily:2026-11-05"]


def test_a_late_trade_brings_a_short_correction(client: redis.Redis) -> None:
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2)])
    pub = FakePublisher()
    wall = [0.0]
    r = reporter(client, s, pub, wall=lambda: wall[0])
    r.tick(utc(2026, 11, 3, 0, 2, 30))
    assert pub.keys() == ["daily:2026-11-02"]
    publish(client, [trade(utc(2026, 11, 2, 23, 59), "-20", published=utc(2026, 11, 3, 0, 5))])
    drain(client, s)
    updated = int(client.hget(keyspace.books_totals("2026-11-02", "all"), keyspace.BOOKS_UPDATED))
    wall[0] = updated / 1000 + 60  # still within the grace period after the late trade
    r.tick(utc(2026, 11, 3, 0, 6))
    assert len(pub.sent) == 1
    wall[0] = updated / 1000 + 121
    r.tick(utc(2026, 11, 3, 0, 8))
    r.tick(utc(2026, 11, 3, 0, 9))
    assert len(pub.sent) == 2
    fix = pub.sent[1]
    assert fix.event.correction
    assert not fix.event.late
    assert (fix.event.previous_trades, fix.event.previous_pnl) == (3, Decimal(8))
    assert (fix.event.trades, fix.event.pnl) == (4, Decimal(-12))
    assert fix.attachments == (), "a correction is one line, no chart"
    assert fix.dedup_key == "report:daily:2026-11-02:v1"
    other = FakePublisher()
    reporter(client, s, other, wall=lambda: wall[0]).tick(utc(2026, 11, 3, 0, 10))
    assert other.sent == [], "the correction is posted once too"


def test_a_claim_left_by_a_dead_instance_is_taken_over_once_stale(client: redis.Redis) -> None:
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2)])
    dying = FakePublisher(confirm=False)  # published, then died before Redis confirmed
    reporter(client, s, dying).tick(utc(2026, 11, 3, 0, 2, 30))
    assert len(dying.sent) == 1
    pub = FakePublisher()
    other = reporter(client, s, pub, stale_s=60.0)
    other.tick(utc(2026, 11, 3, 0, 3))  # the claim is fresh: its holder may be alive
    assert pub.sent == []
    other.tick(utc(2026, 11, 3, 0, 3, 31))
    assert len(pub.sent) == 1
    assert pub.sent[0].dedup_key == dying.sent[0].dedup_key  # folded if both went out
    other.tick(utc(2026, 11, 3, 0, 10))
    assert len(pub.sent) == 1
    record = client.hgetall(keyspace.books_report("daily:2026-11-02"))
    assert record[b"state"] == b"posted"


def test_an_unconfirmed_report_is_confirmed_by_its_holder_not_resent(client: redis.Redis) -> None:
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2)])
    pub = FakePublisher(confirm=False)
    r = reporter(client, s, pub, stale_s=60.0)
    r.tick(utc(2026, 11, 3, 0, 2, 30))
    r.tick(utc(2026, 11, 3, 0, 3, 20))  # still unconfirmed: the claim is refreshed
    other = FakePublisher()
    reporter(client, s, other, stale_s=60.0).tick(utc(2026, 11, 3, 0, 4))
    assert other.sent == [], "a claim its holder keeps fresh is not taken over"
    pub.confirm = True
    r.tick(utc(2026, 11, 3, 0, 4, 10))
    assert len(pub.sent) == 1
    assert client.hget(keyspace.books_report("daily:2026-11-02"), "state") == b"posted"


def test_weekly_and_monthly_reports_at_their_close(client: redis.Redis) -> None:
    s = settings(grace_s=120.0, daily=False)
    trading_days(client, s, [date(2026, 11, 23), date(2026, 11, 29), date(2026, 11, 30)])
    pub = FakePublisher()
    r = reporter(client, s, pub)
    r.tick(utc(2026, 11, 30, 0, 1))
    r.tick(utc(2026, 11, 30, 0, 2, 1))  # Sunday 29 Nov closed the week of 23 Nov
    r.tick(utc(2026, 12, 1, 0, 2, 1))  # 30 Nov closed November
    assert pub.keys() == ["weekly:2026-11-23", "monthly:2026-11-01"]
    week, month = (p.event for p in pub.sent)
    assert week.trades == 6
    assert month.trades == 9
    assert not week.late
    assert not month.late


def test_a_dst_day_is_reported_over_its_23_hours(client: redis.Redis) -> None:
    s = settings("Europe/London", grace_s=120.0, weekly=False, monthly=False)
    publish(client, [trade(utc(2026, 3, 29, 0, 30), "5"), trade(utc(2026, 3, 29, 22, 30), "-1")])
    drain(client, s)
    pub = FakePublisher()
    reporter(client, s, pub).tick(utc(2026, 3, 29, 23, 2, 30))  # 00:02:30 BST on the 30th
    (sent,) = pub.sent
    assert sent.event.label == date(2026, 3, 29)
    assert sent.event.end - sent.event.start == timedelta(hours=23)
    assert (sent.event.trades, sent.event.pnl) == (2, Decimal(4))
    assert sent.event.timezone == "Europe/London"


def test_an_fx_day_ends_at_17_00_new_york(client: redis.Redis) -> None:
    s = settings("America/New_York", "17:00", grace_s=120.0, weekly=False, monthly=False)
    # 21:59 UTC is 16:59 EST (day 1 Dec), 22:01 UTC is 17:01 EST (day 2 Dec).
    publish(client, [trade(utc(2026, 12, 1, 21, 59), "5"), trade(utc(2026, 12, 1, 22, 1), "7")])
    drain(client, s)
    pub = FakePublisher()
    reporter(client, s, pub).tick(utc(2026, 12, 1, 22, 2, 30))
    (sent,) = pub.sent
    assert sent.event.label == date(2026, 12, 1)
    assert (sent.event.trades, sent.event.pnl) == (1, Decimal(5))
    assert sent.event.end == utc(2026, 12, 1, 22)


def test_reports_wait_while_the_books_are_behind(client: redis.Redis) -> None:
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2)])
    pub = FakePublisher()
    behind = [30.0]
    r = Reporter(client, s, pub, behind_s=lambda: behind[0])
    r.tick(utc(2026, 11, 3, 0, 2, 30))
    assert pub.sent == []
    behind[0] = 0.2
    r.tick(utc(2026, 11, 3, 0, 2, 40))
    assert pub.keys() == ["daily:2026-11-02"]


def test_the_period_for_a_date_matches_what_the_reporter_posts(client: redis.Redis) -> None:
    s = settings(grace_s=0.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2)])
    pub = FakePublisher()
    reporter(client, s, pub).tick(utc(2026, 11, 3))
    period = period_for_date("daily", date(2026, 11, 2), s)
    (sent,) = pub.sent
    assert (sent.event.start, sent.event.end) == (period.start, period.end)
