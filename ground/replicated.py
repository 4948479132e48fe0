"""Did a batch of writes reach a replica? (`WAIT`, for the producer's background thread.)

Redis replicates asynchronously: a write the primary acknowledged can die with it if
no replica had it when Sentinel promoted one. `WAIT n timeout` blocks until `n`
replicas hold every write *its connection* made, so it must travel with the writes: on
a pooled client a separate call could go out on another connection, which has written
nothing and would "confirm" at once. Hence a pipeline: the writes and the `WAIT` share
one connection and one round trip.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

import redis
from redis.asyncio.client import Pipeline as AsyncPipeline
from redis.client import Pipeline

from ground import keyspace
from ground.held import Call, Held, History

log = logging.getLogger(__name__)

WAIT_TIMEOUT_MS: Final = 500
"""Long enough for a healthy replica on a LAN (a few ms), short enough that a lagging one
costs the producer's thread at most half a second per batch, never the caller."""


HOLD_S: Final = 30.0
"""How long a writer that holds (the producer) keeps calls a primary with no replica took:
a split brain shows within seconds of a failover; a primary without a replica for
longer is a single point of failure that no resend fixes."""
HOLD_ARGS: Final = 100_000
"""At most this many script arguments (the producer: events) held unconfirmed: ~30 MB."""


class Replication(NamedTuple):
    acknowledged: int
    """Replicas that hold every write of the batch."""
    attached: int
    """Replicas the primary has (`INFO replication` connected_slaves, asked only when the
    `WAIT` fell short; else = acknowledged); 0: there is nothing to wait for."""
    wanted: int

    @property
    def confirmed(self) -> bool:
        return self.acknowledged >= self.wanted

    @property
    def unreplicated(self) -> bool:
        """Written to a primary that has replicas, none of which confirmed in time: a
        failover now would lose it, so keep it to send again (dedupe drops the copy)."""
        return not self.confirmed and self.attached > 0


def execute_replicated(
    pipe: Pipeline, replicas: int = 1, timeout_ms: int = WAIT_TIMEOUT_MS
) -> tuple[list[Any], Replication]:
    """Queue `WAIT replicas timeout_ms` after the writes in `pipe`, execute it, and return
    the writes' replies and what the `WAIT` confirmed.

    Redis errors propagate as from `pipe.execute()`: a primary that died under the batch
    confirms nothing, and the caller treats the batch as not written."""
    replies, replication, _ = _execute_waiting(pipe, replicas, timeout_ms)
    return replies, replication


def _execute_waiting(
    pipe: Pipeline, replicas: int, timeout_ms: int
) -> tuple[list[Any], Replication, Mapping[str, Any] | None]:
    """`execute_replicated`, plus the `INFO replication` it asked when the `WAIT` fell
    short (None when it did not)."""
    check_wait(replicas, timeout_ms)
    if vars(pipe).get("transaction"):  # the attribute (typed as Redis.transaction, a method)
        raise ValueError("WAIT cannot run inside MULTI: build the pipeline with transaction=False")
    pipe.wait(replicas, timeout_ms)
    *replies, acknowledged = pipe.execute()
    if int(acknowledged) >= replicas:
        return replies, replication_of(int(acknowledged), replicas), None
    info = redis.Redis(connection_pool=pipe.connection_pool).info("replication")
    return replies, replication_of(int(acknowledged), replicas, info), info


def replication_of(
    acknowledged: int, replicas: int, info: Mapping[str, Any] | None = None
) -> Replication:
    """What a `WAIT` answered: `info` (`INFO replication`) counts the attached replicas
    when it fell short, the only case where that count matters."""
    attached = acknowledged if acknowledged >= replicas or info is None else connected(info)
    return Replication(acknowledged, attached, replicas)


def connected(info: Mapping[str, Any]) -> int:
    """Replicas attached, from `INFO replication`."""
    return int(info.get("connected_slaves", 0))


def check_wait(replicas: int, timeout_ms: int) -> None:
    if replicas < 1 or timeout_ms < 0:
        raise ValueError("replicas must be >= 1 and timeout_ms >= 0")


class Attached:
    """The count of attached replicas. `WAIT n` on a primary without replicas blocks for
    its whole timeout, so with none a batch goes without `WAIT` (nothing could confirm
    it, and a lone Redis must not pay the timeout per batch). A positive count is trusted
    for `recheck_s`; a zero never is: a batch believed to have no replica asks `INFO
    replication` after its writes, in the same round trip, and if a replica has attached
    meanwhile it is waited for at once, behind a `fence`. (Trusting a zero for a second let
    writes made just after a failover go unconfirmed while the old primary was coming back
    as a replica: the chaos run lost 1,096 events when Sentinel then promoted it again.)"""

    def __init__(self, recheck_s: float) -> None:
        self.recheck_s = recheck_s
        self.count, self._recheck_at = 0, 0.0

    def trusted(self) -> bool:
        """A positive count seen within `recheck_s`: send `WAIT` with the writes."""
        return self.count > 0 and time.monotonic() < self._recheck_at

    def seen(self, count: int) -> None:
        self.count, self._recheck_at = count, time.monotonic() + self.recheck_s


def fence(pipe: "Pipeline | AsyncPipeline") -> None:
    """A write to queue before a `WAIT` on a connection that has not written the batch:
    replication is one ordered stream, so replicas holding the fence hold everything
    written before it, the batch included."""
    pipe.incr(keyspace.REPLICATION_FENCE)


class NotReplicated(redis.ConnectionError):
    """A batch that a primary with replicas took but none confirmed: a failover now would
    lose it. A `ConnectionError`, so a writer that spools on one spools this too."""

    def __init__(self, replication: Replication, timeout_ms: int) -> None:
        super().__init__(
            f"no replica confirmed the writes within {timeout_ms} ms "
            f"({replication.attached} attached): a failover now would lose them"
        )
        self.replication = replication


class ReplicatedScript:
    """A Lua script run as batches of calls, each batch one pipeline ending in `WAIT`
    (or, while no replica is known to be attached, in `INFO replication`: `Attached`).
    `hold_s` > 0: calls taken by a primary with no replica are held and written again
    if that primary's history is lost (`ground.held`; the producer's streams, whose
    readers drop copies). `ground.replicated_async` is the twin for asyncio clients
    (leases and claims: they hold nothing)."""

    def __init__(
        self,
        client: redis.Redis,
        source: str,
        *,
        replicas: int = 1,
        timeout_ms: int = WAIT_TIMEOUT_MS,
        recheck_s: float = 1.0,
        hold_s: float = 0.0,
        hold_args: int = HOLD_ARGS,
    ) -> None:
        check_wait(replicas, timeout_ms)
        self.client = client
        self.script = client.register_script(source)
        self.replicas, self.timeout_ms = replicas, timeout_ms
        self.attached = Attached(recheck_s)
        self.held = Held(hold_s, hold_args)
        self._settle_at = 0.0

    def __call__(self, calls: Sequence[Call]) -> Replication:
        """Run the script once per `(keys, args)`; raises `NotReplicated` when replicas
        are attached and none confirmed (the producer then spools the batch)."""
        return self.run(calls, strict=True)[1]

    def settle(self) -> None:
        """With calls held, check at most every `recheck_s` that they are confirmed or
        still on their primary (an idle writer must not leave them to chance)."""
        if self.held and time.monotonic() >= self._settle_at:
            self._settle_at = time.monotonic() + self.attached.recheck_s
            self.held.prune(time.monotonic())
            if self.held:
                self.run([], strict=False)

    def run(self, calls: Sequence[Call], *, strict: bool = True) -> tuple[list[Any], Replication]:
        """The scripts' replies and what the `WAIT` confirmed; `strict`: raise
        `NotReplicated` rather than return an unreplicated batch."""
        pipe = self.client.pipeline(transaction=False)
        for keys, args in calls:
            self.script(keys=keys, args=args, client=pipe)
        if self.attached.trusted() and not self.held:
            replies, replication, info = _execute_waiting(pipe, self.replicas, self.timeout_ms)
            if info is None:  # confirmed
                return replies, replication
            self.attached.count = replication.attached
        else:
            pipe.info("replication")
            *replies, info = pipe.execute()
            replication = self._confirm(info)
        if replication.attached:
            self.held.armed = True
        else:
            self.held.add(calls, History.of(info))
        if strict and replication.unreplicated:
            raise NotReplicated(replication, self.timeout_ms)
        return replies, replication

    def _confirm(self, info: Mapping[str, Any]) -> Replication:
        """After writes answered by `info`: write held calls again if this primary may
        lack them, then `WAIT` behind a fence if it has a replica."""
        self.attached.seen(connected(info))
        if self.held.lost(History.of(info)):
            self._write_again()
        if self.attached.count == 0:  # held (if holding): see `ground.held`
            return Replication(0, 0, self.replicas)
        fenced = self.client.pipeline(transaction=False)
        fence(fenced)
        fenced.wait(self.replicas, self.timeout_ms)
        fenced.info("replication")  # the WAIT confirms held calls only on their history
        _, acknowledged, after = fenced.execute()
        replication = replication_of(int(acknowledged), self.replicas, after)
        self.attached.count = replication.attached
        if replication.confirmed and not self.held.lost(History.of(after)):
            self.held.confirmed()
        return replication

    def _write_again(self) -> None:
        calls = self.held.take()
        pipe = self.client.pipeline(transaction=False)
        for keys, args in calls:
            self.script(keys=keys, args=args, client=pipe)
        pipe.info("replication")
        *_, info = pipe.execute()
        self.held.on = History.of(info)
        log.warning(
            "the Redis primary changed and may lack %d batches it took without a replica: "
            "written again (readers drop the copies)",
            len(calls),
        )
