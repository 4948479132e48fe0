"""Leases and claims across a failover, with real processes: the monitor's lease and
summary slots (`monitor.lease`) and the books' report claims (`books.schedule`) are acted
on only once a replica confirmed them, so the replica Sentinel promotes always has them."""

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from typing import TypeVar

import pytest
import redis

from books.periods import period_for_date
from ground import keyspace
from ground.connect import async_client, sync_client
from ground.proc import wait_until
from ground.replicated import NotReplicated
from herald.redis_server import RedisServer
from monitor.lease import WAIT_MS, Lease, claim_slot
from monitor.summary import Summaries
from tests.books.helpers import settings, utc
from tests.books.test_reports import FakePublisher, reporter, trading_days
from tests.ha.cluster import Node, Sentinels

T = TypeVar("T")
SLOT, EVERY_S = 1000, 300.0


@contextlib.contextmanager
def stopped(node: Node) -> Iterator[None]:
    """The replica SIGSTOPped: still attached for the primary (until `repl-timeout`, 60 s)
    but confirming nothing."""
    assert node.process is not None
    os.kill(node.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(node.process.pid, signal.SIGCONT)


async def retried(call: Callable[[], Awaitable[T]], timeout: float = 10) -> T:
    """The first commands after a failover (or a SIGCONT) may meet the dead primary or
    an unconfirmed `WAIT`: try again until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await call()
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise


def test_no_new_leader_and_no_slot_claim_while_the_replica_confirms_nothing(
    sentinels: Sentinels,
) -> None:
    async def scenario() -> None:
        client = async_client(sentinels.url, socket_timeout=2)
        a, b = Lease(client, "a", seconds=30), Lease(client, "b", seconds=30)
        summaries = Summaries(EVERY_S, "b")
        assert await a.hold()  # confirmed
        with stopped(sentinels.replica()):
            started = time.monotonic()
            assert await a.hold()  # an existing leader goes on checking and paging
            assert time.monotonic() - started >= WAIT_MS / 1000 * 0.9  # it did wait
            with pytest.raises(NotReplicated):
                await claim_slot(client, SLOT, EVERY_S, "a")  # but claims no slot
            await a.release()
            assert not await b.hold()  # taken on the primary only: b stands by
            assert await client.get(keyspace.MONITOR_LEADER) == b"b"
            with pytest.raises(NotReplicated):
                await claim_slot(client, SLOT + 1, EVERY_S, "b")
            assert not await summaries.claim(client, (SLOT + 1) * EVERY_S)
            assert summaries.last_slot is None  # tried again next turn
        assert await retried(lambda: _confirmed(b))
        assert await summaries.claim(client, (SLOT + 1) * EVERY_S)  # claimed again, confirmed
        assert not await claim_slot(client, SLOT + 1, EVERY_S, "a")  # once per slot
        with sentinels.replica().client() as replica:
            assert replica.get(keyspace.MONITOR_LEADER) == b"b"
            assert replica.get(keyspace.monitor_summary(SLOT + 1)) == b"b"
        await client.aclose()

    asyncio.run(scenario())


async def _confirmed(lease: Lease) -> bool:
    if not await lease.hold():
        raise redis.ConnectionError("not confirmed yet")  # retried
    return True


def test_a_confirmed_lease_survives_the_primary_so_no_second_leader(sentinels: Sentinels) -> None:
    async def scenario() -> None:
        client = async_client(sentinels.url, socket_timeout=2)
        a, b = Lease(client, "a", seconds=30), Lease(client, "b", seconds=30)
        assert await a.hold()
        assert await claim_slot(client, SLOT, EVERY_S, "a")
        old = sentinels.kill_primary()  # at once: nothing but the WAIT got it there
        assert sentinels.primary().port != old.port
        assert not await retried(b.hold)  # the promoted replica has a's lease
        assert not await claim_slot(client, SLOT, EVERY_S, "b")
        assert await a.hold()  # and a leads on
        assert await client.get(keyspace.MONITOR_LEADER) == b"a"
        await client.aclose()

    asyncio.run(scenario())


def test_a_report_claim_is_acted_on_only_once_a_replica_has_it(sentinels: Sentinels) -> None:
    client = sync_client(sentinels.url, socket_timeout=2)
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2)])
    now = utc(2026, 11, 3, 0, 2, 30)
    pub_a, pub_b = FakePublisher(), FakePublisher()
    a, b = reporter(client, s, pub_a, holder="a"), reporter(client, s, pub_b, holder="b")
    with stopped(sentinels.replica()):
        with pytest.raises(NotReplicated):
            a.tick(now)
        assert pub_a.sent == []  # claimed on the primary only: not published
        with contextlib.suppress(NotReplicated):  # b's connection may have written nothing
            assert b.tick(now) == []  # a's claim holds
        assert pub_b.sent == []
    (sent,) = _retried_sync(lambda: a.tick(now))  # claimed again, now confirmed
    assert sent.period == "daily:2026-11-02"
    assert b.tick(now) == []
    assert [p.dedup_key for p in pub_a.sent + pub_b.sent] == ["report:daily:2026-11-02:v0"]


def test_a_confirmed_report_claim_survives_the_primary(sentinels: Sentinels) -> None:
    client = sync_client(sentinels.url, socket_timeout=2)
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    trading_days(client, s, [date(2026, 11, 2)])
    now = utc(2026, 11, 3, 0, 2, 30)
    pub_a, pub_b = FakePublisher(confirm=False), FakePublisher()  # a's event not yet in Redis
    a, b = reporter(client, s, pub_a, holder="a"), reporter(client, s, pub_b, holder="b")
    (sent,) = a.tick(now)
    sentinels.kill_primary()
    assert _retried_sync(lambda: b.tick(now)) == []  # a's claim is on the new primary
    period = period_for_date("daily", date(2026, 11, 2), s)
    record = b.record(period)
    assert (record[keyspace.REPORT_STATE], record[keyspace.REPORT_HOLDER]) == ("claimed", "a")
    assert pub_b.sent == []
    assert [p.dedup_key for p in pub_a.sent] == ["report:daily:2026-11-02:v0"]
    assert sent.version == 0


def _retried_sync(call: Callable[[], T], timeout: float = 10) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise


def test_a_take_only_the_dying_primary_had_is_never_acted_on(sentinels: Sentinels) -> None:
    """b takes the lease while the replica confirms nothing, so b does not lead; the
    primary dies; whoever the promoted replica says holds the lease is the one leader."""

    async def scenario() -> None:
        client = async_client(sentinels.url, socket_timeout=2)
        b, c = Lease(client, "b", seconds=30), Lease(client, "c", seconds=30)
        old, replica = sentinels.primary(), sentinels.replica()
        with stopped(replica):
            assert not await b.hold()
            old.kill()
        wait_until(
            lambda: sentinels.master_port() == replica.port and replica.role() == "master",
            30,
            "the replica promoted",
        )
        leaders = [await retried(b.hold), await retried(c.hold)]
        holder = await client.get(keyspace.MONITOR_LEADER)
        assert leaders.count(True) == 1  # b only if its take reached the replica after all
        assert holder == (b"b" if leaders[0] else b"c")
        await client.aclose()

    asyncio.run(scenario())


def test_with_no_replica_nothing_waits(redis_server: RedisServer) -> None:
    """A lone Redis (tests/monitor, a one-host install): `WAIT 1` there would block for its
    whole timeout on every turn, so it is not sent."""

    async def scenario() -> None:
        client = async_client(redis_server.url, socket_timeout=10)
        lease = Lease(client, "a", wait_ms=5000)
        started = time.monotonic()
        assert await lease.hold()
        assert await lease.hold()
        assert await claim_slot(client, SLOT, EVERY_S, "a", wait_ms=5000)
        assert time.monotonic() - started < 2  # one WAIT would take 5 s
        await client.aclose()

    asyncio.run(scenario())
