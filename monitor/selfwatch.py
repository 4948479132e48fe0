"""Herald watches itself: its own problems page like a service going down.

Read from the same snapshot `herald status` shows (worker.status), every interval: a
problem seen on two reads in a row pages, and its disappearance sends the recovery. The
dead-letter queue pages when it grows, not for what an operator already knows is there.
When the dead webhook is #critical-alerts' own, the page goes to #system-status, since
it could not arrive where pages usually go.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import redis

from ground.channels import CRITICAL_ALERTS, SYSTEM_STATUS
from schemas import ServiceDown, ServiceRecovered
from worker.config import Settings
from worker.status import collect
from worker.verdict import Problem, problems

log = logging.getLogger("herald.monitor")

Publish = Callable[..., object]
SERVER = "herald"
CONFIRMATIONS = 2
"""Reads in a row a problem must be seen on before it pages (a deploy restarts things)."""


@dataclass
class SelfWatch:
    client: redis.Redis
    settings: Settings
    publish: Publish
    seen: dict[str, int] = field(default_factory=dict)
    paged: dict[str, tuple[Problem, float]] = field(default_factory=dict)
    dlq_size: int | None = None

    async def check(self, now: float) -> None:
        try:
            status = await asyncio.to_thread(collect, self.client, self.settings)
        except redis.RedisError as exc:
            log.warning("self-watch: cannot read Herald's state: %s", exc)
            return
        current = {p.key: p for p in problems(status) if p.key != "dlq"}
        grown = self._dlq_growth(status.dlq_size)
        if grown:
            current["dlq"] = Problem("dlq", grown, None)
        for key, problem in current.items():
            self.seen[key] = self.seen.get(key, 0) + 1
            if self.seen[key] >= CONFIRMATIONS and key not in self.paged:
                self._page(problem, now)
        for key in [k for k in self.paged if k not in current]:
            self._recovered(key, now)
        self.seen = {k: n for k, n in self.seen.items() if k in current}

    def _dlq_growth(self, size: int) -> str:
        before, self.dlq_size = self.dlq_size, size
        if before is None or size <= before:
            return ""
        return (
            f"{size - before} new dead letters ({size} in all). Inspect them with "
            "`herald dlq ls`, fix the cause, then `herald dlq replay`."
        )

    def _page(self, problem: Problem, now: float) -> None:
        self.paged[problem.key] = (problem, now)
        event = ServiceDown(
            service=service_name(problem),
            server=SERVER,
            duration=timedelta(0),
            impact=problem.text[:1000],
        )
        critical_dead = problem.key == f"webhook-dead:{CRITICAL_ALERTS}"
        self.publish(event, channels=(SYSTEM_STATUS,) if critical_dead else None)
        log.warning("self-watch: %s", problem.text)

    def _recovered(self, key: str, now: float) -> None:
        problem, since = self.paged.pop(key)
        if key == "dlq":
            return  # growth stopping is not a recovery: the entries are still there
        critical_dead = key == f"webhook-dead:{CRITICAL_ALERTS}"
        self.publish(
            ServiceRecovered(
                service=service_name(problem),
                server=SERVER,
                down_for=timedelta(seconds=max(0.0, now - since)),
            ),
            channels=(SYSTEM_STATUS,) if critical_dead else None,
        )


def service_name(problem: Problem) -> str:
    """The name a page uses; a dead webhook's matches the engine's own page (flush), so
    the dispatcher folds the two into one."""
    if problem.key.startswith("webhook-dead:") and problem.channel:
        return f"discord webhook #{problem.channel}"
    return f"herald {problem.key}"[:100]
