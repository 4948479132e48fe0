"""A batch the books cannot apply goes to the dead-letter queue, not into a crash loop:
the entry at fault is found (the rest of its batch is counted), dead-lettered with its
bytes and the reason, and acknowledged. Redis being unavailable is not the batch's fault:
that is retried, never dead-lettered."""

import shutil
from typing import Any

import pytest
import redis

from books.service import Books, books_lag
from books.settings import DEFAULT
from ground import keyspace
from herald.redis_server import RedisServer
from schemas.codec import encode
from tests.books.helpers import drain, publish, trade, utc
from worker.dlq import DeadLetterQueue

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@pytest.fixture
def client(redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


def day_totals(client: redis.Redis) -> dict[bytes, bytes]:
    return client.hgetall(keyspace.books_totals("2026-11-02", "all"))  # type: ignore[return-value]


def test_a_trade_that_would_overflow_a_sum_is_dead_lettered_and_the_rest_counted(
    client: redis.Redis,
) -> None:
    at = utc(2026, 11, 2, 9)
    bad = trade(at, "1", amount="1000000000000")  # 1e20 units of 1e-8: past 64 bits
    good = [trade(at, "10"), trade(at, "-4"), trade(at, "2.5"), trade(at, "1")]
    publish(client, [good[0], good[1], bad, good[2], good[3]])
    books = drain(client)
    totals = day_totals(client)
    assert totals[b"n"] == b"4"
    assert totals[b"pnl"] == str(9_50000000).encode()
    assert books_lag(client).caught_up, "every entry acknowledged, the bad one too"
    (letter,) = DeadLetterQueue(client).entries()
    assert letter.raw == encode(bad)
    assert letter.event_id == bad.id
    assert letter.kind == "trade_executed"
    assert letter.channel is None
    assert "books could not count herald:events:normal entry" in letter.reason
    assert "vol would pass 9.2e18 units" in letter.reason
    assert books.stats.dead_lettered == 1
    assert books.stats.counted == 4


def test_the_trade_that_takes_a_days_sum_past_64_bits_is_the_one_dead_lettered(
    client: redis.Redis,
) -> None:
    at = utc(2026, 11, 2, 9)
    half = [trade(at, "1", amount="50000000000") for _ in range(2)]  # 5e18 units each
    publish(client, [trade(at, "3"), *half])
    drain(client)
    assert day_totals(client)[b"n"] == b"2"
    (letter,) = DeadLetterQueue(client).entries()
    assert letter.event_id == half[1].id, "the first one fits; the second would overflow"


def test_any_other_script_error_dead_letters_the_batch_instead_of_crashing(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(client, [trade(utc(2026, 11, 2, 9), "1"), trade(utc(2026, 11, 2, 10), "2")])
    books = Books(client, DEFAULT, name="books-test", block_ms=20)

    def broken(*_: Any, **__: Any) -> list[str]:
        raise redis.ResponseError("ERR user_script:42: Script attempted to access nil")

    monkeypatch.setattr(books, "_apply", broken)
    books.ensure_groups()
    books.recover(own=True)
    while books.step(block=False):
        pass
    letters = list(DeadLetterQueue(client).entries(newest_first=False))
    assert len(letters) == 2
    assert all("Script attempted to access nil" in e.reason for e in letters)
    assert all("partly counted?" in e.reason for e in letters)
    assert books_lag(client).caught_up


def test_redis_refusing_writes_is_retried_not_dead_lettered(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(client, [trade(utc(2026, 11, 2, 9), "1")])
    books = Books(client, DEFAULT, name="books-test", block_ms=20)

    def read_only(*_: Any, **__: Any) -> list[str]:
        raise redis.ReadOnlyError("READONLY You can't write against a read only replica.")

    monkeypatch.setattr(books, "_apply", read_only)
    books.ensure_groups()
    with pytest.raises(redis.ReadOnlyError):
        books.step(block=False)
    assert len(DeadLetterQueue(client)) == 0
    assert books_lag(client).pending == 1, "left pending, to be counted when Redis takes it"
