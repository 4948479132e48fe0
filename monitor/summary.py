"""The health summary: one per wall-clock slot (:00, :05, ...), exactly once.

Not "minute % 5 == 0 from a 30-second loop" (twice per slot, or none when a loop
straddles the minute): the leader sends when a slot begins, after claiming the slot in
Redis (confirmed by a replica: `monitor.lease`), so a handover, a restart or a failover
never sends a slot twice; a monitor that starts (or takes over) mid-slot sends the
current slot late, and never the ones it missed.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis

from ground.replicated import NotReplicated
from monitor import uptime
from monitor.host import HostWatch
from monitor.lease import claim_slot, slot_of
from monitor.state import CheckState, State
from schemas import HealthSummary, SystemHealthy

log = logging.getLogger("herald.monitor")


@dataclass
class Summaries:
    every_s: float
    holder: str
    last_slot: int | None = None

    def due(self, now: float) -> bool:
        return self.last_slot != slot_of(now, self.every_s)

    async def claim(self, client: Redis, now: float) -> bool:
        """True when this monitor is to send the current slot's summary now."""
        slot = slot_of(now, self.every_s)
        if self.last_slot == slot:
            return False
        try:
            claimed = await claim_slot(client, slot, self.every_s, self.holder)  # raises: retried
        except NotReplicated as exc:  # ours on the primary only: confirmed on a later turn
            log.warning("monitor: summary slot %d not confirmed yet (%s)", slot, exc)
            return False
        self.last_slot = slot
        return claimed


async def health_summary(
    client: Redis, states: Mapping[str, CheckState], host: HostWatch, now: float
) -> HealthSummary:
    down = sorted(name for name, s in states.items() if s.memory.state is State.DOWN)
    up = sum(1 for s in states.values() if s.memory.state in (State.UP, State.PENDING))
    stats = host.read()
    pct = await uptime.uptime_pct(client, states, now)
    return HealthSummary(
        services_up=up,
        services_total=len(states),
        avg_latency_ms=average_latency(states),
        uptime_pct=round(pct if pct is not None else 100.0, 3),
        memory_pct=stats.memory_pct,
        cpu_pct=stats.cpu_pct,
        network_status=stats.network,
        down=tuple(down),
    )


def all_healthy(states: Mapping[str, CheckState], uptime_pct: float | None) -> SystemHealthy:
    return SystemHealthy(
        services=len(states),
        latency_ms=average_latency(states),
        uptime_pct=round(uptime_pct if uptime_pct is not None else 100.0, 3),
        performance="nominal",
    )


def average_latency(states: Mapping[str, CheckState]) -> float:
    values = [
        s.memory.last_latency_ms
        for s in states.values()
        if s.memory.last_ok and s.memory.last_latency_ms is not None
    ]
    return round(sum(values) / len(values), 2) if values else 0.0
