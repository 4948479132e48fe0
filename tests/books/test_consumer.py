"""The books consumer against a real redis-server: every trade counted exactly once
through replays, spool re-sends, two instances at once, a claimed batch, and `herald
books` killed and restarted in the middle of a day; independent of delivery's group."""

import os
import shutil
import signal
import subprocess
import sys
import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from books.periods import period_for_date
from books.query import figures
from books.service import Books, books_lag
from books.settings import DEFAULT
from ground import keyspace
from ground.proc import wait_until
from herald.redis_server import RedisServer
from tests.books.helpers import NORMAL, drain, publish, trade, utc

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

DAY = date(2026, 12, 1)


def day_trades(n: int, first: int = 0) -> list:
    """n trades on DAY, trade i with pnl i cents (sum exact), one second apart."""
    start = utc(2026, 12, 1)
    return [
        trade(start + timedelta(seconds=i), f"{i / 100:.2f}", amount="1.5", latency=1.0)
        for i in range(first, first + n)
    ]


def expected_pnl(n: int) -> Decimal:
    return Decimal(n * (n - 1) // 2) / 100


def day_figures(client: redis.Redis):  # type: ignore[no-untyped-def]
    return figures(client, period_for_date("daily", DAY, DEFAULT))


@pytest.fixture
def client(redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


def test_the_same_trades_replayed_count_once(client: redis.Redis) -> None:
    trades = day_trades(300)
    publish(client, trades)
    first = drain(client)
    publish(client, trades[:200])  # a spool re-send: new stream entries, the same event ids
    publish(client, [*trades[250:], *day_trades(10, first=300)])  # half old, half new
    publish(client, [trades[0], trades[0]])
    second = drain(client)
    f = day_figures(client)
    assert (f.trades, f.pnl, f.volume) == (310, expected_pnl(310), Decimal("465"))
    assert (first.stats.counted, second.stats.counted) == (300, 10)
    assert second.stats.duplicates == 200 + 50  # distinct ids found already counted
    assert books_lag(client).caught_up


def test_two_instances_at_once_count_each_trade_once(client: redis.Redis) -> None:
    publish(client, day_trades(4000))
    instances = [Books(client, DEFAULT, name=f"books-{i}", batch_size=100) for i in range(2)]
    threads = [
        threading.Thread(target=b.run, args=(threading.Event(),), kwargs={"drain": True})
        for b in instances
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(b.stats.counted for b in instances) == 4000
    assert sum(b.stats.read for b in instances) == 4000
    f = day_figures(client)
    assert (f.trades, f.pnl) == (4000, expected_pnl(4000))


def test_a_batch_claimed_from_a_dead_instance_counts_once(client: redis.Redis) -> None:
    publish(client, day_trades(500))
    dead = Books(client, DEFAULT, name="dead", batch_size=500)
    dead.ensure_groups()
    client.xreadgroup(keyspace.BOOKS_GROUP, "dead", {NORMAL: ">"}, count=500)  # read, then died
    assert books_lag(client).pending == 500
    rivals = [Books(client, DEFAULT, name=f"rival-{i}", claim_idle_ms=0) for i in range(2)]
    threads = [threading.Thread(target=r.recover, kwargs={"own": False}) for r in rivals]
    threads.append(threading.Thread(target=dead.recover, kwargs={"own": True}))  # came back
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    f = day_figures(client)
    assert (f.trades, f.pnl) == (500, expected_pnl(500))
    assert books_lag(client).caught_up


def test_books_and_delivery_are_separate_groups(client: redis.Redis) -> None:
    publish(client, day_trades(5))
    client.xgroup_create(NORMAL, keyspace.GROUP, id="0")  # the dispatchers' group, not run
    drain(client)
    assert day_figures(client).trades == 5
    groups = {g["name"].decode(): g for g in client.xinfo_groups(NORMAL)}
    assert groups[keyspace.GROUP]["last-delivered-id"] == b"0-0"
    assert groups[keyspace.BOOKS_GROUP]["pending"] == 0


def test_books_killed_mid_day_resume_and_count_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    client = redis_server.client()
    env = {**os.environ, "HERALD_REDIS_URL": redis_server.url, "HERALD_CONFIG": ""}
    env.pop("HERALD_CONFIG")
    log = open(tmp_path / "books.log", "ab")  # noqa: SIM115

    def start() -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "herald.cli", "books", "--name", "books-1"]
        return subprocess.Popen(argv, env=env, stdout=log, stderr=log, cwd=tmp_path)

    proc = start()
    try:
        publish(client, day_trades(20_000))
        wait_until(lambda: day_figures(client).trades > 0, 30, "the books to count some trades")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        counted_before = day_figures(client).trades
        publish(client, day_trades(5_000, first=20_000))  # the day goes on while they are down
        proc = start()
        wait_until(lambda: books_lag(client).caught_up, 60, "the books to catch up", 0.1)
        f = day_figures(client)
        assert 0 < counted_before < 20_000  # killed in the middle
        assert (f.trades, f.pnl) == (25_000, expected_pnl(25_000))
        assert f.volume == Decimal("37500")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
