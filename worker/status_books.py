"""How far the books (`herald books`) are behind the streams: one rule for the books
themselves (their drain, the reports' wait), `herald status` and the books' metrics.

It lives with the engine's status because `herald status` (and the bot's /status, and
`herald up`'s live view) read the engine's snapshot; it needs only the stream and group
names of `ground.keyspace`, not the books.
"""

from typing import NamedTuple

import redis

from ground import keyspace
from schemas.base import Lane
from worker.lanes import stream_groups
from worker.status_model import BooksStatus

BOOKS_LANES = (Lane.CRITICAL, Lane.NORMAL)
"""The lanes the books read: trades, signals and P&L updates never travel on bulk."""


class GroupLag(NamedTuple):
    unread: int
    pending: int
    oldest_ms: int | None
    """Stream time of the oldest entry not yet counted (unread or pending); None: none."""

    @property
    def caught_up(self) -> bool:
        return self.unread == 0 and self.pending == 0

    def seconds(self, now_ms: int) -> float:
        return 0.0 if self.oldest_ms is None else max(0.0, (now_ms - self.oldest_ms) / 1000)


def group_lag(client: redis.Redis, streams: list[str], group: str) -> GroupLag:
    """How far consumer group `group` is behind on `streams`; a stream without the group
    counts as wholly unread, one that does not exist as empty."""
    unread = pending = 0
    oldest: int | None = None
    for stream in streams:
        groups = stream_groups(client, stream)
        if groups is None:
            continue  # no stream yet: nothing published
        found = next((g for g in groups if _text(g["name"]) == group), None)
        if found is None:
            first = client.xrange(stream, count=1)
            unread += int(client.xlen(stream))
            candidates = [_ms(first[0][0])] if first else []
        else:
            after = client.xrange(stream, min="(" + _text(found["last-delivered-id"]), count=1)
            unread += int(found.get("lag") or len(after)) if after else 0
            pending += int(found.get("pending") or 0)
            candidates = [_ms(after[0][0])] if after else []
            oldest_pending = client.xpending(stream, group)["min"]
            if oldest_pending is not None:  # (counted and acknowledged since XINFO: none)
                candidates.append(_ms(oldest_pending))
        for ms in candidates:
            oldest = ms if oldest is None else min(oldest, ms)
    return GroupLag(unread, pending, oldest)


def books_streams() -> list[str]:
    return [keyspace.stream(lane.value) for lane in BOOKS_LANES]


def books_status(client: redis.Redis, now: float) -> BooksStatus | None:
    """The books' lag, or None when they never ran (no group of theirs on any lane)."""
    streams = books_streams()
    ran = False
    for stream in streams:
        groups = stream_groups(client, stream)
        if groups is None:
            continue
        ran = ran or any(_text(g["name"]) == keyspace.BOOKS_GROUP for g in groups)
    if not ran:
        return None
    lag = group_lag(client, streams, keyspace.BOOKS_GROUP)
    return BooksStatus(
        unread=lag.unread, pending=lag.pending, behind_s=lag.seconds(int(now * 1000))
    )


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _ms(entry_id: object) -> int:
    return int(_text(entry_id).split("-")[0])
