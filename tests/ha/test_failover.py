"""Against real processes: a primary, a replica, three Sentinels. SIGKILL the primary;
a client built by `ground.connect` finds the new one without being rebuilt."""

import asyncio
import os
import signal
import time

import pytest
import redis

from ground.connect import async_client, sync_client
from ground.replicated import NotReplicated, ReplicatedScript, Replication, execute_replicated
from producer.streams import XADD_MANY
from tests.ha.cluster import Sentinels


def _write_until_it_works(client: redis.Redis, key: str, deadline_s: float = 30) -> int:
    """SET until it succeeds; the number of failed attempts (the failover window)."""
    failed, deadline = 0, time.monotonic() + deadline_s
    while True:
        try:
            client.set(key, "after")
            return failed
        except redis.ConnectionError:
            failed += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # pacing the retries; the condition is the SET succeeding


def test_a_sync_client_follows_a_failover_and_the_old_primary_returns_as_replica(
    sentinels: Sentinels,
) -> None:
    client = sync_client(sentinels.url, socket_timeout=1, socket_connect_timeout=1)
    client.set("before", "1")
    _, confirmed = execute_replicated(client.pipeline(transaction=False))
    assert confirmed.confirmed
    first = sentinels.primary()
    old = sentinels.kill_primary()
    assert old is first
    assert sentinels.primary() is not first
    _write_until_it_works(client, "after")
    _host, port = client.connection_pool.get_master_address()  # type: ignore[attr-defined]
    assert port == sentinels.primary().port
    assert port != old.port
    assert client.get("before") == b"1"  # confirmed by WAIT before the kill: kept
    sentinels.bring_back(old)
    assert old.role() == "slave"
    deadline = time.monotonic() + 10
    while old.client().get("after") != b"after":  # the comeback synced from the new primary
        assert time.monotonic() < deadline, "the old primary never got the new writes"
        time.sleep(0.05)
    assert 0 < sentinels.failovers[0] < 15


def test_an_async_blocking_client_follows_a_failover(sentinels: Sentinels) -> None:
    async def run() -> int:
        client = async_client(
            sentinels.url, blocking=True, max_connections=4, timeout=2, socket_timeout=1
        )
        await client.set("k", "before")
        old = sentinels.kill_primary()
        deadline = time.monotonic() + 30
        while True:
            try:
                await client.set("k", "after")
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
        address = await client.connection_pool.get_master_address()  # type: ignore[attr-defined]
        await client.aclose()
        assert address[1] != old.port
        return int(address[1])

    assert asyncio.run(run()) == sentinels.primary().port


def test_wait_confirms_a_scripted_xadd_batch_and_says_when_the_replica_is_stuck(
    sentinels: Sentinels,
) -> None:
    client = sync_client(sentinels.url, socket_timeout=3)
    xadd_many = client.register_script(XADD_MANY)
    pipe = client.pipeline(transaction=False)
    xadd_many(keys=["s"], args=[1000, b"a", b"b"], client=pipe)
    replies, replication = execute_replicated(pipe, timeout_ms=2000)
    assert replication.confirmed
    assert replication.acknowledged == 1
    assert len(replies) == 1
    assert sentinels.replica().client().xlen("s") == 2  # WAIT returned: the replica has it
    replica = sentinels.replica()
    assert replica.process is not None
    os.kill(replica.process.pid, signal.SIGSTOP)  # attached, but not answering
    try:
        pipe = client.pipeline(transaction=False)
        xadd_many(keys=["s"], args=[1000, b"c"], client=pipe)
        started = time.monotonic()
        _, stuck = execute_replicated(pipe, timeout_ms=300)
        assert time.monotonic() - started >= 0.25
        assert (stuck.acknowledged, stuck.attached) == (0, 1)
        assert stuck.unreplicated
        calls = [(["s"], [1000, b"d"]), (["t"], [1000, b"e"])]
        with pytest.raises(NotReplicated, match="1 attached") as caught:
            ReplicatedScript(client, XADD_MANY, timeout_ms=200)(calls)
        assert isinstance(caught.value, redis.ConnectionError)  # so the producer spools it
    finally:
        os.kill(replica.process.pid, signal.SIGCONT)
    replica.kill()  # gone: the primary drops it, and there is nothing to wait for
    deadline = time.monotonic() + 10
    while True:
        pipe = client.pipeline(transaction=False)
        pipe.set("x", 1)
        _, alone = execute_replicated(pipe, 1, 100)
        if alone.attached == 0 or time.monotonic() > deadline:
            break
    assert alone.attached == 0
    assert not alone.unreplicated
    assert not alone.confirmed
    started = time.monotonic()
    assert ReplicatedScript(client, XADD_MANY, timeout_ms=5000)([(["s"], [1000, b"f"])]) == (
        Replication(0, 0, 1)
    )
    assert time.monotonic() - started < 2  # no replica: no WAIT, which would block 5 s
    assert client.xlen("s") == 5  # a, b, c, d, f: unconfirmed batches are written all the same
    assert client.xlen("t") == 1
