"""The dead-letter queue: what could not be delivered, with why, kept until replayed.

An entry keeps the original event bytes untouched, so a replay delivers exactly what
was published (same event id, so it can be traced). Reasons and Discord error text pass
through `redact` before they are stored: a DLQ export is safe to paste into a ticket.
"""

import time
from collections.abc import Iterator
from typing import Any

import msgspec
import redis

from ground import keyspace
from ground.errors import HeraldError, InvalidEvent
from ground.redact import redact
from schemas.codec import decode
from schemas.ids import new_event_id
from worker.outbox import OutboxItem
from worker.scripts import DEAD_LETTERS


class DeadLetter(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    raw: bytes
    reason: str
    event_id: str | None = None
    kind: str | None = None
    channel: str | None = None
    http_status: int | None = None
    discord_code: int | None = None
    discord_message: str | None = None
    attempts: int = 0
    first_failed_ms: int = 0
    last_failed_ms: int = 0
    replays: int = 0

    def summary(self) -> dict[str, Any]:
        """Everything but the raw bytes, for `ls`/`show`/export."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        out["raw_bytes"] = len(self.raw)
        del out["raw"]
        return out


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(DeadLetter)


def dead_letter(
    raw: bytes,
    reason: str,
    *,
    channel: str | None = None,
    http_status: int | None = None,
    discord_code: int | None = None,
    discord_message: str | None = None,
    attempts: int = 0,
    first_failed_ms: int | None = None,
    replays: int = 0,
) -> DeadLetter:
    """Build an entry; the event id and kind are read from the bytes when they decode."""
    now = int(time.time() * 1000)
    event_id = kind = None
    try:
        envelope = decode(raw)
        event_id, kind = envelope.id, envelope.kind
    except InvalidEvent:
        pass
    return DeadLetter(
        id=new_event_id(),
        raw=raw,
        reason=redact(reason)[:2000],
        event_id=event_id,
        kind=kind,
        channel=channel,
        http_status=http_status,
        discord_code=discord_code,
        discord_message=redact(discord_message)[:500] if discord_message else None,
        attempts=attempts,
        first_failed_ms=first_failed_ms or now,
        last_failed_ms=now,
        replays=replays,
    )


def encode(entry: DeadLetter) -> bytes:
    return _encoder.encode(entry)


class DeadLetterQueue:
    """Read and act on the DLQ (the `herald dlq` commands)."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._add = client.register_script(DEAD_LETTERS)

    def add(self, entries: list[DeadLetter]) -> int:
        """Dead-letter `entries` (the same Lua function as the dispatcher and flush jobs)."""
        args: list[Any] = [int(time.time() * 1000), keyspace.CHANNEL_PREFIX]
        for entry in entries:
            args += [entry.id, encode(entry), entry.channel or ""]
        keys = [keyspace.DLQ, keyspace.DLQ_INDEX, keyspace.STATS]
        return int(self._add(keys=keys, args=args))

    def __len__(self) -> int:
        return int(self.redis.zcard(keyspace.DLQ_INDEX))

    def get(self, entry_id: str) -> DeadLetter:
        data: bytes | None = self.redis.hget(keyspace.DLQ, entry_id)  # type: ignore[assignment]
        if data is None:
            raise HeraldError(f"no dead letter with id {entry_id}; list them with `herald dlq ls`")
        return _decoder.decode(data)

    def entries(
        self, *, newest_first: bool = True, limit: int | None = None
    ) -> Iterator[DeadLetter]:
        ids: list[bytes] = self.redis.zrange(keyspace.DLQ_INDEX, 0, -1, desc=newest_first)  # type: ignore[assignment]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found: list[bytes | None] = self.redis.hmget(keyspace.DLQ, chunk)  # type: ignore[assignment]
            for data in found:
                if data is not None:
                    yield _decoder.decode(data)
                    if limit is not None:
                        limit -= 1
                        if limit <= 0:
                            return

    def replay(self, entries: list[DeadLetter]) -> int:
        """Put entries back on their channel's outbox, oldest first; skips dedupe.

        Entries without a channel (they never decoded or were never routed) cannot be
        replayed to a webhook; the caller reports them.
        """
        count = 0
        pipe = self.redis.pipeline(transaction=True)
        for entry in sorted(entries, key=lambda e: (e.first_failed_ms, e.event_id or "")):
            channel = entry.channel
            if channel is None:
                continue
            item = OutboxItem(
                raw=entry.raw, queued_ms=int(time.time() * 1000), replays=entry.replays + 1
            )
            pipe.rpush(keyspace.outbox(channel), item.pack())
            pipe.hdel(  # the operator says it is fixed: send again at once
                keyspace.channel_state(channel),
                keyspace.STATE_DEAD,
                keyspace.STATE_RETRY_AT,
                keyspace.STATE_ATTEMPTS,
            )
            pipe.hdel(keyspace.DLQ, entry.id)
            pipe.zrem(keyspace.DLQ_INDEX, entry.id)
            pipe.hincrby(keyspace.STATS, keyspace.REPLAYED, 1)
            count += 1
        pipe.execute()
        return count

    def drop(self, entry_ids: list[str]) -> int:
        pipe = self.redis.pipeline(transaction=True)
        for entry_id in entry_ids:
            pipe.hdel(keyspace.DLQ, entry_id)
            pipe.zrem(keyspace.DLQ_INDEX, entry_id)
        results = pipe.execute()
        return sum(1 for r in results[::2] if r)
