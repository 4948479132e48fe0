"""Leadership among monitors: one runs the checks and sends the summaries.

A lease in Redis (`SET NX PX`), renewed by its holder well before it lapses; a monitor
that dies stops renewing, and another takes over within one lease time. Renew and
release are compare-and-set scripts, so a monitor that lost the lease (paused, cut off)
can never extend or delete its successor's.
"""

from typing import Final

from redis.asyncio import Redis

from ground import keyspace

LEASE_S: Final = 10.0
"""A dead leader is replaced within this long."""

_RENEW: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    def __init__(self, client: Redis, holder: str, *, seconds: float = LEASE_S) -> None:
        self.client = client
        self.holder = holder
        self.ms = int(seconds * 1000)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    async def hold(self) -> bool:
        """Take the lease if it is free, extend it if ours; True while we lead."""
        return bool(await self._renew(keys=[keyspace.MONITOR_LEADER], args=[self.holder, self.ms]))

    async def release(self) -> None:
        await self._release(keys=[keyspace.MONITOR_LEADER], args=[self.holder])


def slot_of(at: float, every_s: float) -> int:
    """Wall-clock slots: with 5 minutes, :00-:05 is one slot, :05-:10 the next."""
    return int(at // every_s)


def slot_start(slot: int, every_s: float) -> float:
    return slot * every_s


async def claim_slot(client: Redis, slot: int, every_s: float, holder: str) -> bool:
    """True once per slot, for whoever claims it first: a leader handing over mid-slot,
    or a restart, never sends a slot's summary twice."""
    ttl = max(int(3 * every_s), 3600)
    return bool(await client.set(keyspace.monitor_summary(slot), holder, nx=True, ex=ttl))
