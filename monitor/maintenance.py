"""Maintenance windows: from herald.toml, and announced by `maintenance_scheduled` events.

A check failing inside a window is MAINTENANCE (no page). Configured windows may repeat
(`every`) and keep their local wall-clock time across DST, since each occurrence is the
start plus whole periods in the window's own time zone. Announced windows are recorded by
the dispatcher as it routes the events (worker/announced.py), so none is missed while no
monitor runs; the monitor reads them from Redis and forgets the ones that ended.
"""

import logging
import math
from collections.abc import Sequence
from datetime import timedelta
from typing import cast

import msgspec
from redis.asyncio import Redis

from ground import keyspace
from monitor.settings import CheckSpec, MaintenanceWindow
from worker.announced import DECODER, Announced

log = logging.getLogger("herald.monitor")


def configured_covers(window: MaintenanceWindow, check: CheckSpec, now: float) -> bool:
    if window.checks is not None and check.name not in window.checks:
        return False
    first = window.start.timestamp()
    if window.every_s is None:
        return first <= now < first + window.duration_s
    n = math.floor((now - first) / window.every_s)
    for k in (n - 1, n, n + 1):  # a DST shift moves an occurrence by up to an hour
        if k < 0:
            continue
        start = (window.start + timedelta(seconds=k * window.every_s)).timestamp()
        if start <= now < start + window.duration_s:
            return True
    return False


def announced_covers(window: Announced, check: CheckSpec, now: float) -> bool:
    return window.service in (check.name, check.server) and window.start <= now < window.end


class Maintenance:
    """Which checks are in a window now: configured ones plus announced ones."""

    def __init__(self, configured: Sequence[MaintenanceWindow]) -> None:
        self.configured = tuple(configured)
        self.announced: dict[str, Announced] = {}

    def covers(self, check: CheckSpec, now: float) -> bool:
        return any(configured_covers(w, check, now) for w in self.configured) or any(
            announced_covers(w, check, now) for w in self.announced.values()
        )

    async def refresh(self, client: Redis, now: float) -> None:
        """Take the announced windows from Redis; forget ended (and unreadable) ones."""
        stored = cast(dict[bytes, bytes], await client.hgetall(keyspace.MONITOR_WINDOWS))
        gone, current = [], {}
        for key, value in stored.items():
            try:
                window = DECODER.decode(value)
            except msgspec.DecodeError:
                log.warning("monitor: dropping an unreadable maintenance window %r", key)
                gone.append(key)
                continue
            if window.end <= now:
                gone.append(key)
            else:
                current[key.decode()] = window
        self.announced = current
        if gone:
            await client.hdel(keyspace.MONITOR_WINDOWS, *gone)
