"""How far behind the dispatchers are on a lane's stream: one rule for the dispatcher's
drain, `herald status`, the metrics and the chaos suite."""

from typing import Any, NamedTuple

import redis

from ground import keyspace


class Lag(NamedTuple):
    unread: int
    """Entries no dispatcher has read yet."""
    pending: int
    """Entries read but not acknowledged (a dispatcher is on them, or died holding them)."""
    oldest_unread_ms: int | None
    """The stream time of the oldest unread entry (None: caught up)."""


def lane_lag(client: redis.Redis, stream: str) -> Lag:
    """The dispatchers' group's lag on `stream`.

    XINFO's `lag` is the fast answer, but Redis can report a stale one after a restart
    (entries-read is not persisted) or none after an XDEL; whether an entry exists after
    the group's last-delivered id is the ground truth for "caught up", so it decides.
    A stream that does not exist yet (nothing published) has no lag."""
    groups = stream_groups(client, stream)
    if groups is None:
        return Lag(0, 0, None)
    for group in groups:
        if group["name"] in (keyspace.GROUP, keyspace.GROUP.encode()):
            pending = int(group.get("pending") or 0)
            after = b"(" + as_bytes(group["last-delivered-id"])
            first = client.xrange(stream, min=after, count=1)
            if not first:
                return Lag(0, pending, None)
            return Lag(int(group.get("lag") or 1), pending, _millis(first[0][0]))
    first = client.xrange(stream, count=1)  # no group yet: everything is unread
    return Lag(int(client.xlen(stream)), 0, _millis(first[0][0]) if first else None)


def stream_groups(client: redis.Redis, stream: str) -> list[dict[str, Any]] | None:
    """XINFO GROUPS of `stream`, or None when it does not exist (nothing published yet).

    A producer can create the stream between the failed XINFO and the check that it is
    missing; then ask again rather than mistake that race for a broken Redis."""
    try:
        groups: list[dict[str, Any]] = client.xinfo_groups(stream)
        return groups
    except redis.ResponseError:
        if not client.exists(stream):
            return None
    return list(client.xinfo_groups(stream))  # created meanwhile: now it answers, or raises


def lag_and_pending(client: redis.Redis, stream: str) -> tuple[int, int]:
    """(unread, pending) for `stream`: zero and zero when the dispatchers are caught up."""
    lag = lane_lag(client, stream)
    return lag.unread, lag.pending


def as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _millis(entry_id: object) -> int:
    text = entry_id if isinstance(entry_id, bytes | str) else str(entry_id)
    return int(as_bytes(text).split(b"-")[0])
