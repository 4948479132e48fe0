"""Herald watches itself: its own problems page like a service going down.

Read from the same snapshot `herald status` shows (worker.status), every interval. A
problem pages once it has lasted `CONFIRM_S` over two reads or more (a deploy restarts
things), and its disappearance sends the recovery; what was paged is kept in Redis, so
a new leader neither pages it again nor forgets to send its recovery. Beyond what
`herald status` calls a problem, no live dispatcher or worker pages even when nothing
waits (a quiet night is when nobody would notice). The dead-letter queue pages when it
grows past what was already paged. A page that could not travel the usual way — no
dispatcher, no worker, or trouble with #critical-alerts itself — goes straight to the
webhook (`direct`), to #system-status when #critical-alerts is the trouble.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

import msgspec
import redis

from ground import keyspace
from ground.channels import CRITICAL_ALERTS, SYSTEM_STATUS
from schemas import ServiceDown, ServiceRecovered
from schemas.catalog import AnyEvent
from schemas.types import NAME_MAX, TEXT_MAX
from worker.config import Settings
from worker.status import collect
from worker.status_model import Status
from worker.verdict import Problem, problems

log = logging.getLogger("herald.monitor")

Publish = Callable[..., object]
Direct = Callable[[AnyEvent, tuple[str, ...] | None], None]
"""Posts one event straight to its channels' webhooks (herald.direct), bypassing the engine."""
SERVER = "herald"
CONFIRM_S = 20.0
ENGINE_DOWN = frozenset({"no-dispatcher", "no-worker"})


class Paged(msgspec.Struct):
    since: float
    text: str
    channel: str | None = None


@dataclass
class SelfWatch:
    client: redis.Redis
    settings: Settings
    publish: Publish
    direct: Direct | None = None
    first_seen: dict[str, tuple[float, int]] = field(default_factory=dict)
    paged: dict[str, Paged] | None = None
    dlq_paged_at: int | None = None
    dlq_size: int = 0

    async def check(self, now: float) -> None:
        try:
            status = await asyncio.to_thread(collect, self.client, self.settings)
            if self.paged is None:
                self.paged = await asyncio.to_thread(self._load)
        except redis.RedisError as exc:
            log.warning("self-watch: cannot read Herald's state: %s", exc)
            return
        current = self._current(status)
        for key, problem in current.items():
            since, reads = self.first_seen.get(key, (now, 0))
            self.first_seen[key] = (since, reads + 1)
            confirmed = key == "dlq" or (reads + 1 >= 2 and now - since >= CONFIRM_S)
            if confirmed and key not in self.paged:
                await self._page(problem, since, now)
        for key in [k for k in self.paged if k not in current]:
            await self._recovered(key, now)
        self.first_seen = {k: v for k, v in self.first_seen.items() if k in current}

    def _current(self, status: Status) -> dict[str, Problem]:
        found = {p.key: p for p in problems(status) if _pages(p)}
        if not status.dispatchers_alive and "no-dispatcher" not in found:
            found["no-dispatcher"] = Problem(
                "no-dispatcher", "No dispatcher is running: start `herald dispatch`."
            )
        if not status.workers_alive and "no-worker" not in found:
            found["no-worker"] = Problem(
                "no-worker", "No delivery worker is running: start `herald worker`."
            )
        found.pop("dlq", None)
        grown = self._dlq_growth(status.dlq_size)
        if grown:
            found["dlq"] = Problem("dlq", grown, None)
        return found

    def _dlq_growth(self, size: int) -> str:
        """Growth past the size last paged (or first seen): a burst pages once, at once."""
        self.dlq_size = size
        if self.dlq_paged_at is None or size < self.dlq_paged_at:
            self.dlq_paged_at = size
            return ""
        if size == self.dlq_paged_at:
            return ""
        return (
            f"{size - self.dlq_paged_at} new dead letters ({size} in all). Inspect them with "
            "`herald dlq ls`, fix the cause, then `herald dlq replay`."
        )

    async def _page(self, problem: Problem, since: float, now: float) -> None:
        """`since`: when the problem was first seen (the recovery's 'down for' counts from it)."""
        assert self.paged is not None
        if problem.key == "dlq":
            self.dlq_paged_at = self.dlq_size
        event = ServiceDown(
            service=service_name(problem.key),
            server=SERVER,
            duration=timedelta(seconds=max(0.0, now - since)),
            impact=problem.text[:TEXT_MAX],
        )
        await self._send(event, problem.key, problem.channel)
        log.warning("self-watch: %s", problem.text)
        if problem.key != "dlq":  # growth is an event, not a state to recover from
            self.paged[problem.key] = Paged(since, problem.text, problem.channel)
            await asyncio.to_thread(self._store, problem.key)

    async def _recovered(self, key: str, now: float) -> None:
        assert self.paged is not None
        paged = self.paged.pop(key)
        await asyncio.to_thread(self._store, key)
        event = ServiceRecovered(
            service=service_name(key),
            server=SERVER,
            down_for=timedelta(seconds=max(0.0, now - paged.since)),
        )
        await self._send(event, key, paged.channel)

    async def _send(self, event: AnyEvent, key: str, channel: str | None) -> None:
        around = channel == CRITICAL_ALERTS or key.endswith(f":{CRITICAL_ALERTS}")
        channels = (SYSTEM_STATUS,) if around else None
        if self.direct is not None and (around or key in ENGINE_DOWN):
            try:  # a blocking post with retries: off the event loop
                await asyncio.to_thread(self.direct, event, channels)
                return
            except Exception as exc:  # no webhook configured, Discord down: try the engine
                log.warning("self-watch: could not post directly (%s); publishing", exc)
        self.publish(event, channels=channels)

    def _load(self) -> dict[str, Paged]:
        raw = cast(dict[bytes, bytes], self.client.hgetall(keyspace.MONITOR_PAGED))
        decoder = msgspec.json.Decoder(Paged)
        out = {}
        for key, value in raw.items():
            try:
                out[key.decode()] = decoder.decode(value)
            except msgspec.DecodeError:
                continue
        return out

    def _store(self, key: str) -> None:
        assert self.paged is not None
        if key in self.paged:
            self.client.hset(keyspace.MONITOR_PAGED, key, msgspec.json.encode(self.paged[key]))
        else:
            self.client.hdel(keyspace.MONITOR_PAGED, key)


def _pages(problem: Problem) -> bool:
    """The engine pages a dead webhook itself (flush), except #critical-alerts' own: its
    page could not arrive there, so the monitor sends that one."""
    return not problem.key.startswith("webhook-dead:") or problem.channel == CRITICAL_ALERTS


def service_name(key: str) -> str:
    return f"herald {key}"[:NAME_MAX]
