"""`ground.replicated.ReplicatedScript` for asyncio clients (the monitor's leases).

The rule is the sync one, shared from `ground.replicated`: the script calls and `WAIT`
travel in one pipeline (one connection: a `WAIT` on another would confirm nothing), no
`WAIT` while the primary has no replica (`Attached`, `fence`), and a batch that replicas were
attached for but none confirmed is `unreplicated`.
"""

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from ground.replicated import (
    WAIT_TIMEOUT_MS,
    Attached,
    NotReplicated,
    Replication,
    check_wait,
    connected,
    fence,
    replication_of,
)

Calls = Sequence[tuple[Sequence[Any], Sequence[Any]]]


class AsyncReplicatedScript:
    """A Lua script run as batches of calls, each batch one pipeline ending in `WAIT`."""

    def __init__(
        self,
        client: Redis,
        source: str,
        replicas: int = 1,
        timeout_ms: int = WAIT_TIMEOUT_MS,
        recheck_s: float = 1.0,
    ) -> None:
        check_wait(replicas, timeout_ms)
        self.client = client
        self.script = client.register_script(source)
        self.replicas, self.timeout_ms = replicas, timeout_ms
        self.attached = Attached(recheck_s)

    async def __call__(self, calls: Calls) -> Replication:
        """Run the script once per `(keys, args)`; raises `NotReplicated` when replicas
        are attached and none confirmed."""
        return (await self.run(calls, strict=True))[1]

    async def run(self, calls: Calls, *, strict: bool = True) -> tuple[list[Any], Replication]:
        """The scripts' replies and what the `WAIT` confirmed; `strict`: raise
        `NotReplicated` rather than return an unreplicated batch."""
        pipe = self.client.pipeline(transaction=False)
        for keys, args in calls:
            await self.script(keys=keys, args=args, client=pipe)
        if self.attached.trusted():
            pipe.wait(self.replicas, self.timeout_ms)
            *replies, acknowledged = await pipe.execute()
        else:
            pipe.info("replication")
            *replies, info = await pipe.execute()
            self.attached.seen(connected(info))
            if self.attached.count == 0:  # a replica attaching later syncs these writes
                return replies, Replication(0, 0, self.replicas)
            fenced = self.client.pipeline(transaction=False)
            fence(fenced)  # `ground.replicated.fence`: the WAIT covers the batch
            fenced.wait(self.replicas, self.timeout_ms)
            _, acknowledged = await fenced.execute()
        replication = await self._replication(int(acknowledged))
        self.attached.count = replication.attached
        if strict and replication.unreplicated:
            raise NotReplicated(replication, self.timeout_ms)
        return replies, replication

    async def _replication(self, acknowledged: int) -> Replication:
        if acknowledged >= self.replicas:
            return replication_of(acknowledged, self.replicas)
        return replication_of(acknowledged, self.replicas, await self.client.info("replication"))
