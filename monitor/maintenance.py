"""Maintenance windows: from herald.toml, and announced by `maintenance_scheduled` events.

A check failing inside a window is MAINTENANCE (no page). Configured windows may repeat
(`every`) and keep their local wall-clock time across DST, since each occurrence is the
start plus whole periods in the window's own time zone. Announced windows are read from
the streams (the monitor keeps a cursor, no consumer group, so a stopped monitor never
holds back the dispatcher's trimming) and kept in Redis for every monitor to see.
"""

import logging
import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

import msgspec
from redis.asyncio import Redis

from ground import keyspace
from ground.errors import InvalidEvent
from monitor.settings import CheckSpec, MaintenanceWindow
from producer.streams import LANES, stream_key
from schemas.codec import decode
from schemas.maintenance import MaintenanceScheduled

log = logging.getLogger("herald.monitor")

READ_COUNT = 1_000
Entries = list[tuple[bytes, dict[bytes, bytes]]]


class Announced(msgspec.Struct, frozen=True):
    """A window announced by an event: it covers checks named `service` or on that server."""

    service: str
    start: float
    end: float
    description: str


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
        """Read new announcements from the streams, store them, forget ended ones."""
        await self._read_streams(client)
        stored = cast(dict[bytes, bytes], await client.hgetall(keyspace.MONITOR_WINDOWS))
        decoder = msgspec.json.Decoder(Announced)
        ended = []
        self.announced = {}
        for key, value in stored.items():
            window = decoder.decode(value)
            if window.end <= now:
                ended.append(key)
            else:
                self.announced[key.decode()] = window
        if ended:
            await client.hdel(keyspace.MONITOR_WINDOWS, *ended)

    async def _read_streams(self, client: Redis) -> None:
        cursors = cast(dict[bytes, bytes], await client.hgetall(keyspace.MONITOR_CURSOR))
        streams: dict[str, bytes] = {}
        for stream in map(stream_key, LANES):
            cursor = cursors.get(stream.encode())
            if cursor is None:  # first run: start from now, never replay history
                last = cast(Entries, await client.xrevrange(stream, count=1))
                cursor = last[0][0] if last else b"0-0"
            streams[stream] = cursor
        replies = cast(
            list[tuple[bytes, Entries]], await client.xread(cast(Any, streams), count=READ_COUNT)
        )
        for stream_name, entries in replies or []:
            for entry_id, fields in entries:
                await self._take(client, entry_id, fields.get(keyspace.PAYLOAD_FIELD))
                streams[stream_name.decode()] = entry_id
        await client.hset(keyspace.MONITOR_CURSOR, mapping=cast(Any, streams))

    async def _take(self, client: Redis, entry_id: bytes, raw: bytes | None) -> None:
        if raw is None or b"maintenance_scheduled" not in raw:
            return  # cheap filter: only announcements are decoded
        try:
            event = decode(raw).event
        except InvalidEvent:
            return  # the dispatcher dead-letters it; nothing for the monitor here
        if not isinstance(event, MaintenanceScheduled):
            return
        start = event.starts_at.timestamp()
        window = Announced(
            event.service, start, start + event.duration.total_seconds(), event.description
        )
        await client.hset(keyspace.MONITOR_WINDOWS, entry_id, msgspec.json.encode(window))
        log.info("maintenance announced for %s: %s", event.service, event.description)
