"""Leadership among monitors: one runs the checks and sends the summaries.

A lease in Redis (`SET NX PX`), renewed by its holder well before it lapses; a monitor
that dies stops renewing, and another takes over within one lease time. Renew and
release are compare-and-set scripts, so a monitor that lost the lease (paused, cut off)
can never extend or delete its successor's.

Across a failover: replication is asynchronous, so a take that only a dying primary
acknowledged may be missing on the replica Sentinel promotes, and a second monitor could
then take the lease too. So the renew script and `WAIT 1 <WAIT_MS>` go out in one
pipeline (`AsyncReplicatedScript`; no `WAIT` while the primary has no replica):

- a monitor that did not lead becomes leader only on a take (or renew) a replica
  confirmed; an unconfirmed take keeps the key on the primary (nobody else takes it) but
  the monitor stands by and tries again next turn, when a confirmed renew makes it lead;
- a leader whose renew is not confirmed keeps leading: its last confirmed lease is on the
  replica, so a failover cannot hand the lease to another monitor before that lapses, and
  a leader that goes on checking and paging (pages are folded by dedupe keys) is better
  than none. Should the primary die with the extensions unreplicated, another monitor
  may lead once the confirmed lease lapses on the new primary, and this one stands down
  at its next renew: the window every lease has for a paused leader, one turn;
- a summary slot is claimed only when a replica confirmed the claim (`claim_slot`), and
  only by the monitor holding the lease on the primary it speaks to.

The price: while a replica is attached but not answering (stopped, cut off: until the
primary drops it after `repl-timeout`, 60 s by default), no monitor takes over and no
slot is claimed; a leader already in place goes on checking and paging, but its
summaries wait. Once the replica confirms again, or the primary drops it (nothing left
to confirm: no `WAIT`), everything goes on. Each turn then also waits `WAIT_MS` for the
confirmation that does not come.
"""

import logging
from typing import Final

from redis.asyncio import Redis

from ground import keyspace
from ground.replicated_async import AsyncReplicatedScript

log = logging.getLogger("herald.monitor")

LEASE_S: Final = 10.0
"""A dead leader is replaced within this long."""
WAIT_MS: Final = 200
"""How long a lease or slot claim waits for a replica: a healthy one on a LAN answers in
milliseconds, and the monitor's turn pays this whenever the replica does not."""

HELD_BY_ANOTHER, EXTENDED, TAKEN = 0, 1, 2
_RENEW: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 2 or 0
"""
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# 1: the slot is ours (claimed now, or by us before: written again, so that the `WAIT`
# confirms it); 0: another monitor's, or we do not hold the lease (a fence against a
# leader that lost the lease between its renew and the claim).
_CLAIM: Final = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


class Lease:
    def __init__(
        self, client: Redis, holder: str, *, seconds: float = LEASE_S, wait_ms: int = WAIT_MS
    ) -> None:
        self.client = client
        self.holder = holder
        self.ms = int(seconds * 1000)
        self.leading = False
        """What the last `hold` said."""
        self._renew = AsyncReplicatedScript(client, _RENEW, timeout_ms=wait_ms)
        self._release = client.register_script(_RELEASE)

    async def hold(self) -> bool:
        """Take the lease if it is free, extend it if ours; True while we lead (see the
        module docstring for an unconfirmed take or renew). Redis errors propagate and
        leave `leading` as it was."""
        calls = [([keyspace.MONITOR_LEADER], [self.holder, self.ms])]
        replies, replication = await self._renew.run(calls, strict=False)
        status = int(replies[0])
        if status == HELD_BY_ANOTHER:
            self.leading = False
        elif not replication.unreplicated:
            self.leading = True
        elif not (self.leading and status == EXTENDED):
            log.warning("monitor %s: lease not confirmed by a replica; standing by", self.holder)
            self.leading = False
        return self.leading

    async def release(self) -> None:
        self.leading = False
        await self._release(keys=[keyspace.MONITOR_LEADER], args=[self.holder])


def slot_of(at: float, every_s: float) -> int:
    """Wall-clock slots: with 5 minutes, :00-:05 is one slot, :05-:10 the next."""
    return int(at // every_s)


def slot_start(slot: int, every_s: float) -> float:
    return slot * every_s


async def claim_slot(
    client: Redis, slot: int, every_s: float, holder: str, *, wait_ms: int = WAIT_MS
) -> bool:
    """True once per slot, for whoever claims it first: a leader handing over mid-slot,
    or a restart, never sends a slot's summary twice. Raises `NotReplicated` (a
    `ConnectionError`) when replicas are attached and none confirmed the claim: the caller
    tries again, and the claim, already ours on the primary, is confirmed then. Once a
    slot: the replica count is asked each time (`INFO`), no cache needed."""
    ttl = max(int(3 * every_s), 3600)
    keys = [keyspace.monitor_summary(slot), keyspace.MONITOR_LEADER]
    script = AsyncReplicatedScript(client, _CLAIM, timeout_ms=wait_ms)
    replies, _ = await script.run([(keys, [holder, ttl])], strict=True)
    return bool(int(replies[0]))
