"""`herald monitor`: run the checks on schedule, page on changes, send the summaries.

One asyncio loop. Each check runs on its own schedule, all started in one phase (checks
with the same interval run together, so a host that dies fails them in the same round
and pages once); every probe is its own task bounded by its timeout, so a hung target never
delays another check. Only the leader (a lease in Redis) probes and speaks; another
monitor waits to take over. Redis trouble is logged and retried, never fatal: the
probes go on, the Publisher spools what it cannot deliver, and state is written again
when Redis answers.
"""

import asyncio
import contextlib
import functools
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import cast

import msgspec
import redis
from redis.asyncio import Redis

from ground import keyspace
from monitor import metrics, uptime
from monitor.alerts import Pager
from monitor.host import HostWatch
from monitor.lease import LEASE_S, Lease
from monitor.maintenance import Maintenance
from monitor.probes import Prober, blames_herald
from monitor.sample import Sample
from monitor.selfwatch import Direct, SelfWatch
from monitor.settings import CheckSpec, MonitorSettings
from monitor.state import CheckState, Memory, State
from monitor.summary import Summaries, all_healthy, health_summary
from worker.config import Settings
from worker.status_model import CheckStatus

log = logging.getLogger("herald.monitor")

Publish = Callable[..., object]
TICK_S = 0.2
"""The loop's longest sleep: the bound on how late a due check or slot is noticed."""


class Monitor:
    def __init__(
        self,
        settings: MonitorSettings,
        engine: Settings,
        publish: Publish,
        *,
        client: Redis,
        sync_client: redis.Redis | None = None,
        prober: Prober | None = None,
        host: HostWatch | None = None,
        clock: Callable[[], float] | None = None,
        holder: str | None = None,
        lease_s: float = LEASE_S,
        direct: Direct | None = None,
    ) -> None:
        self.settings = settings
        self.publish = publish
        self.client = client
        self.clock = clock or time.time
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.prober = prober or Prober(client)
        self.host = host or HostWatch()
        self.lease = Lease(client, self.holder, seconds=lease_s)
        self.pager = Pager(publish, settings.group_within_s, self.clock)
        self.maintenance = Maintenance(settings.windows)
        self.summaries = Summaries(settings.summary_every_s, self.holder)
        self.states = {
            c.name: CheckState(c, samples=settings.latency_samples) for c in settings.checks
        }
        self.selfwatch = (
            SelfWatch(sync_client, engine, publish, direct)
            if settings.self_watch and sync_client
            else None
        )
        self.leading = False
        self.max_drift_s = 0.0
        self._due: dict[str, float] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._next_housekeeping = 0.0
        self._chores: asyncio.Task[None] | None = None
        self._led_since = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        log.info("monitor %s: %d checks", self.holder, len(self.states))
        try:
            while not stop.is_set():
                try:
                    await self.step()
                except (redis.RedisError, OSError) as exc:
                    log.warning("monitor: Redis trouble (%s); going on", exc)
                except Exception:  # a bug in one turn must not end the watching
                    log.exception("monitor: a turn failed; going on")
                await _wait(stop, self._sleep_s())
        finally:
            await self._shutdown()

    async def step(self) -> None:
        """One turn: hold the lease, start due checks, page, summarise, housekeep."""
        now = self.clock()
        await self._lead(now)
        if not self.leading:
            return
        self._start_due(now)
        self.pager.flush(self.clock())
        if self.summaries.due(now) and self._summary_ready(now):
            summary = await health_summary(self.client, self.states, self.host, now)
            if await self.summaries.claim(self.client, now):
                self.publish(summary)
        if now >= self._next_housekeeping and (self._chores is None or self._chores.done()):
            self._next_housekeeping = now + self.settings.interval_s
            self._chores = asyncio.create_task(self._housekeep(now), name="housekeeping")

    async def _lead(self, now: float) -> None:
        """Hold the lease. A leader that cannot reach Redis carries on: the checks matter
        most when things break, and the Publisher spools its pages. (Should another
        monitor still reach Redis, both speak until this one is back: duplicate pages
        rather than none.) A take no replica confirmed does not lead: `monitor.lease`."""
        was = self.leading
        try:
            self.leading = await self.lease.hold()
        except (redis.RedisError, OSError) as exc:
            log.warning("monitor: cannot reach Redis for the lease (%s)", exc)
            return
        if self.leading and not was:
            await self._take_over(now)
        elif was and not self.leading:
            self._stand_down()

    def _stand_down(self) -> None:
        """Another monitor leads now: stop probing and drop unsent pages (it re-derives
        them from the memory this one stored)."""
        log.warning("monitor %s lost the lease; standing by", self.holder)
        for task in self._running.values():
            task.cancel()
        self.pager.drop()

    def _summary_ready(self, now: float) -> bool:
        """After taking over, wait for every check's first sample (or one timeout), so the
        first summary does not count unprobed checks as up."""
        longest = max((s.check.timeout_s for s in self.states.values()), default=0.0)
        sampled = all(s.memory.last_at >= self._led_since for s in self.states.values())
        return sampled or now - self._led_since > longest + 1.0

    async def _housekeep(self, now: float) -> None:
        """Maintenance windows and Herald's self-watch: off the scheduling path, bounded."""
        try:
            async with asyncio.timeout(self.settings.interval_s):
                await self.maintenance.refresh(self.client, now)
                if self.selfwatch is not None:
                    await self.selfwatch.check(now)
        except (TimeoutError, redis.RedisError, OSError) as exc:
            log.warning("monitor: housekeeping skipped (%s)", exc or "timed out")
        except Exception:
            log.exception("monitor: housekeeping failed")

    async def _take_over(self, now: float) -> None:
        """Become the leader: carry on from what the last leader remembered."""
        log.info("monitor %s is now the leader", self.holder)
        self._led_since = now
        stored = cast(dict[bytes, bytes], await self.client.hgetall(keyspace.MONITOR_MEMORY))
        decoder = msgspec.json.Decoder(Memory)
        for name, state in self.states.items():
            raw = stored.get(name.encode())
            try:
                memory = decoder.decode(raw) if raw is not None else None
            except msgspec.DecodeError:
                log.warning("monitor: forgetting unreadable state of %s", name)
                continue
            if memory is not None and memory.last_at > state.memory.last_at:
                state.memory = memory  # newer than ours: another leader ran meanwhile
        await self._forget_removed(stored)
        self._due = dict.fromkeys(self.states, now)  # one phase: equal intervals run together

    async def _forget_removed(self, stored: dict[bytes, bytes]) -> None:
        """Checks no longer configured leave `herald status` (and their uptime goes)."""
        gone = [n.decode() for n in stored if n.decode() not in self.states]
        if gone:
            await self.client.hdel(keyspace.MONITOR_MEMORY, *gone)
            await self.client.hdel(keyspace.MONITOR_CHECKS, *gone)
            await self.client.delete(*(keyspace.monitor_uptime(n) for n in gone))

    def _start_due(self, now: float) -> None:
        for name, due in self._due.items():
            if now < due or name in self._running:
                continue
            check = self.states[name].check
            self.max_drift_s = max(self.max_drift_s, now - due)
            metrics.drift(now - due)
            missed = max(1, math.ceil((now - due) / check.interval_s))  # never a burst to catch up
            self._due[name] = due + check.interval_s * missed
            task = asyncio.create_task(self._run_check(check), name=f"check {name}")
            self._running[name] = task
            task.add_done_callback(functools.partial(self._done, name))

    def _done(self, name: str, _task: "asyncio.Task[None]") -> None:
        self._running.pop(name, None)

    async def _run_check(self, check: CheckSpec) -> None:
        sample = await self.prober.probe(check)
        try:
            await self.handle(check, sample)
        except (redis.RedisError, OSError) as exc:
            log.warning("monitor: cannot record %s (%s)", check.name, exc)
        except Exception:
            log.exception("monitor: handling %s failed", check.name)

    async def handle(self, check: CheckSpec, sample: Sample) -> None:
        """Feed one sample to its check's state machine and tell what changed."""
        state = self.states[check.name]
        if blames_herald(check, sample):  # not the component's fault: no verdict on it
            log.warning("monitor: %s: %s", check.name, sample.detail)
            return
        before_down = self._any_down()
        in_window = self.maintenance.covers(check, sample.at)
        changes = state.observe(sample, in_maintenance=in_window)
        self.pager.take(changes)
        metrics.observed(check.name, state.memory.state, sample.latency_ms)
        if before_down and not self._any_down() and any(c.kind == "up" for c in changes):
            pct = await uptime.uptime_pct(self.client, self.states, sample.at)
            self.publish(all_healthy(self.states, pct))
        await self._save(state)
        if not in_window:  # planned downtime is not downtime
            await uptime.record(self.client, check.name, sample.ok, sample.at)

    def _any_down(self) -> bool:
        return any(s.memory.state is State.DOWN for s in self.states.values())

    async def _save(self, state: CheckState) -> None:
        m, check = state.memory, state.check
        shown = CheckStatus(
            name=check.name,
            kind=check.kind,
            state=m.state.value,
            since=m.since,
            last_latency_ms=m.last_latency_ms,
            last_detail=m.last_detail,
            last_at=m.last_at,
            server=check.server,
            interval_s=check.interval_s,
        )
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(keyspace.MONITOR_CHECKS, check.name, msgspec.json.encode(shown))
        pipe.hset(keyspace.MONITOR_MEMORY, check.name, msgspec.json.encode(m))
        await pipe.execute()

    def _sleep_s(self) -> float:
        if not self.leading or not self._due:
            return TICK_S
        return max(0.0, min(TICK_S, min(self._due.values()) - self.clock()))

    async def _shutdown(self) -> None:
        if self._chores is not None:
            self._chores.cancel()
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        self.pager.flush(self.clock(), force=True)
        with contextlib.suppress(redis.RedisError):  # else it lapses on its own
            await self.lease.release()
        await self.prober.aclose()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
