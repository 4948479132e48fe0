"""A split brain, staged with two real redis-servers: the replica is promoted, the old
primary takes writes alone, then is made a replica of the new one (a full resync that
discards them). The writes it took alone are held (`ground.held`) and written again on
the new primary; writes confirmed by a replica are never written twice.

The writer's client is pointed at the new primary the way a Sentinel client finds it
after a failover (`follow`); the Sentinel path end to end is tests/chaos/test_failover.py.
"""

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ground import keyspace
from ground.connect import async_client, sync_client
from ground.proc import free_port, wait_until
from ground.replicated import ReplicatedScript, connected
from producer import Publisher
from producer.streams import XADD_MANY, stream_key
from schemas.base import Lane
from tests.engine.test_delivery import trade
from tests.ha.cluster import SERVICE, Node, Sentinels


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    primary = Node("a", free_port(), tmp_path / "a")
    replica = Node("b", free_port(), tmp_path / "b", replica_of=primary.port)
    try:
        primary.start()
        replica.start()
        wait_until(lambda: synced(replica), 10, "the replica synced")
        yield primary, replica
    finally:
        replica.kill()
        primary.kill()


def synced(node: Node) -> bool:
    info = node.client().info("replication")
    return info.get("role") == "slave" and info.get("master_link_status") == "up"


def split(primary: Node, replica: Node) -> None:
    """Promote the replica: the primary is left alone, still taking writes."""
    replica.client().replicaof("NO", "ONE")
    wait_until(lambda: connected(primary.client().info("replication")) == 0, 10, "alone")


def demote(primary: Node, new: Node) -> None:
    """The old primary becomes the new one's replica: its lone writes are discarded."""
    primary.client().replicaof("127.0.0.1", str(new.port))
    wait_until(lambda: synced(primary), 10, "the old primary resynced")


def follow(client: redis.Redis, node: Node) -> None:
    """Point `client` at `node`, as a Sentinel client does after a failover."""
    client.connection_pool.connection_kwargs["port"] = node.port
    client.connection_pool.reset()


def payloads(node: Node, stream: str = "s") -> list[bytes]:
    return [fields[keyspace.PAYLOAD_FIELD] for _, fields in node.client().xrange(stream)]


def test_writes_taken_alone_are_written_again_on_the_new_primary(pair) -> None:
    a, b = pair
    client = redis.Redis(port=a.port, socket_timeout=3)
    script = ReplicatedScript(client, XADD_MANY, timeout_ms=300, hold_s=30)
    assert script([(["s"], [1000, b"confirmed"])]).confirmed
    split(a, b)
    for i in range(3):  # the replica count is trusted: WAIT falls short, INFO says none
        assert not script([(["s"], [1000, f"alone-{i}".encode()])]).unreplicated
    assert len(script.held) == 3
    demote(a, b)
    assert payloads(a) == [b"confirmed"]  # what the split brain threw away

    follow(client, b)
    script.timeout_ms = 5000  # a loaded machine: the fresh replica's first ack can be slow
    assert script([(["s"], [1000, b"after"])]).confirmed  # a is b's replica now
    assert sorted(payloads(b)) == [b"after", b"alone-0", b"alone-1", b"alone-2", b"confirmed"]
    assert not script.held
    assert script.held.resent == 3
    wait_until(lambda: len(payloads(a)) == 5, 10, "the replica has them all")


def test_writes_taken_alone_and_then_replicated_are_not_written_twice(pair) -> None:
    a, b = pair
    client = redis.Redis(port=a.port, socket_timeout=3)
    script = ReplicatedScript(client, XADD_MANY, timeout_ms=300, hold_s=30)
    assert script([(["s"], [1000, b"confirmed"])]).confirmed
    b.kill()
    for i in range(3):
        script([(["s"], [1000, f"alone-{i}".encode()])])
    assert len(script.held) == 3
    script.settle()
    assert len(script.held) == 3  # nothing confirms them yet
    b.replica_of = a.port
    b.start()
    wait_until(lambda: synced(b), 10, "the replica back")
    script._settle_at = 0.0  # due now (else after `recheck_s`)
    script.timeout_ms = 5000
    script.settle()
    assert not script.held
    assert script.held.resent == 0
    assert payloads(a) == payloads(b) == [b"confirmed", b"alone-0", b"alone-1", b"alone-2"]


def test_a_lone_redis_that_never_had_a_replica_holds_nothing(pair) -> None:
    a, b = pair
    b.kill()
    script = ReplicatedScript(redis.Redis(port=a.port, socket_timeout=3), XADD_MANY, hold_s=30)
    for i in range(3):
        assert not script([(["s"], [1000, f"x{i}".encode()])]).unreplicated
    assert not script.held  # no other node to split from: no memory spent


def test_a_script_that_does_not_hold_keeps_the_old_rule(pair) -> None:
    a, b = pair
    b.kill()
    script = ReplicatedScript(redis.Redis(port=a.port, socket_timeout=3), XADD_MANY)
    assert not script([(["s"], [1000, b"x"])]).unreplicated
    assert not script.held


def test_an_idle_publisher_gives_its_held_events_to_the_new_primary(pair, tmp_path) -> None:
    a, b = pair
    stream = stream_key(Lane.NORMAL)
    url = f"redis://127.0.0.1:{a.port}/0"
    with Publisher(url, spool_path=tmp_path / "p.spool") as pub:
        pub.publish(trade(0))  # replicated: the Publisher has seen a replica
        assert pub.flush(10)
        wait_until(lambda: b.client().xlen(stream) == 1, 10, "the first event replicated")
        split(a, b)
        for i in range(1, 6):
            pub.publish(trade(i))
        assert pub.flush(10)
        assert len(a.client().xrange(stream)) == 6
        demote(a, b)
        assert a.client().xlen(stream) == 1
        follow(pub._redis, b)  # and publish nothing more: the idle thread must act
        wait_until(lambda: b.client().xlen(stream) == 6, 10, "the held events on b")


def test_a_pooled_client_follows_a_switchover_before_the_old_primary_is_demoted(
    sentinels: Sentinels,
) -> None:
    """`SENTINEL FAILOVER` leaves the old primary up, taking writes, for ~10 s; a pool
    that asked only when connecting would keep writing there (`ground.connect`)."""
    client = sync_client(sentinels.url, socket_timeout=3)
    new = sentinels.replica()
    client.set("k", "before")
    with redis.Redis(port=sentinels.sentinels[0][0], socket_timeout=5) as sentinel:
        sentinel.sentinel_failover(SERVICE)
    wait_until(lambda: sentinels.master_port() == new.port, 20, "the Sentinels name the replica")
    n = 0

    def lands_on_the_new_primary() -> bool:
        nonlocal n
        n += 1
        with contextlib.suppress(redis.ConnectionError):
            client.set("k", n)
        return new.client().get("k") == str(n).encode()

    wait_until(lands_on_the_new_primary, 4, "writes reaching the new primary", interval=0.05)
    client.close()


def test_an_async_connection_busy_across_a_switchover_leaves_the_old_primary(
    sentinels: Sentinels,
) -> None:
    """redis-py's asyncio pool takes a connection back without checking where it points;
    ours disconnects one still on the former primary (`ground.connect`)."""
    new = sentinels.replica()

    async def run() -> tuple[str, int]:
        client = async_client(sentinels.url, socket_timeout=3)
        pool = client.connection_pool
        busy = await pool.get_connection()  # e.g. a lease renewal waiting on WAIT
        with redis.Redis(port=sentinels.sentinels[0][0], socket_timeout=5) as sentinel:
            sentinel.sentinel_failover(SERVICE)
        wait_until(lambda: switched(sentinels, new.port), 20, "the switch (SENTINEL MASTERS)")
        pool._follow.at = 0.0  # due now
        other = await pool.get_connection()  # learns of the new primary
        await pool.release(other)
        await pool.release(busy)  # last in, first out: handed out next
        again = await pool.get_connection()
        where = (again.host, again.port)
        await pool.release(again)
        await client.aclose()
        return where

    assert asyncio.run(run())[1] == new.port


def switched(sentinels: Sentinels, port: int) -> bool:
    """Every Sentinel's master record (what redis-py's discovery reads) names `port`; the
    address by name moves earlier, at the promotion."""
    for sentinel_port, _ in sentinels.sentinels:
        with redis.Redis(port=sentinel_port, socket_timeout=2) as sentinel:
            if sentinel.sentinel_masters()[SERVICE]["port"] != port:
                return False
    return True
