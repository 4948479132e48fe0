"""A batch written while the writer believed no replica was attached is still confirmed
once one is: the hole the long failover run fell into (1,096 events written just after a
failover, unconfirmed for up to a second, then thrown away when Sentinel promoted the
old primary again)."""

import asyncio
import os
import signal

import pytest

from ground.connect import async_client, sync_client
from ground.replicated import NotReplicated, ReplicatedScript
from ground.replicated_async import AsyncReplicatedScript
from producer.streams import XADD_MANY
from tests.ha.cluster import Sentinels


def test_a_replica_seen_missing_a_moment_ago_is_waited_for(sentinels: Sentinels) -> None:
    client = sync_client(sentinels.url, socket_timeout=3)
    script = ReplicatedScript(client, XADD_MANY, timeout_ms=200)
    script.attached.seen(0)  # as just after a failover, before the old primary is back
    replica = sentinels.replica()
    assert replica.process is not None
    os.kill(replica.process.pid, signal.SIGSTOP)  # attached now, but confirming nothing
    try:
        with pytest.raises(NotReplicated, match="1 attached"):
            script([(["s"], [1000, b"a"])])  # the writer spools it and sends it again
    finally:
        os.kill(replica.process.pid, signal.SIGCONT)
    script.attached.seen(0)
    assert script([(["s"], [1000, b"b"])]).confirmed  # the fence's WAIT covers the batch
    assert replica.client().xlen("s") == 2


def test_the_async_twin_waits_for_it_too(sentinels: Sentinels) -> None:
    replica = sentinels.replica()
    assert replica.process is not None

    async def run() -> None:
        client = async_client(sentinels.url, socket_timeout=3)
        script = AsyncReplicatedScript(client, XADD_MANY, timeout_ms=200)
        script.attached.seen(0)
        os.kill(replica.process.pid, signal.SIGSTOP)
        try:
            with pytest.raises(NotReplicated):
                await script([(["a"], [1000, b"x"])])
        finally:
            os.kill(replica.process.pid, signal.SIGCONT)
        script.attached.seen(0)
        assert (await script([(["a"], [1000, b"y"])])).confirmed
        await client.aclose()

    asyncio.run(run())
    assert replica.client().xlen("a") == 2
