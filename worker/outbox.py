"""Outbox items: an event's raw envelope bytes with a small text header.

`H1:<folded>:<folded_since_ms>:<queued_ms>:<replays>|<msgpack envelope>`. A text header
lets the dispatcher's Lua script build items without a msgpack library, and keeping the
producer's raw bytes means the event delivered (or dead-lettered) is byte-for-byte the
one that was published.
"""

from dataclasses import dataclass
from typing import Final

MAGIC: Final = b"H1"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    raw: bytes
    folded: int = 0
    """Alerts suppressed by dedupe since `folded_since_ms`, reported with this one."""
    folded_since_ms: int = 0
    queued_ms: int = 0
    replays: int = 0

    def pack(self) -> bytes:
        header = b"%s:%d:%d:%d:%d|" % (
            MAGIC,
            self.folded,
            self.folded_since_ms,
            self.queued_ms,
            self.replays,
        )
        return header + self.raw


def unpack(item: bytes) -> OutboxItem:
    """Parse an outbox entry; a malformed header yields the whole entry as raw bytes."""
    bar = item.find(b"|")
    parts = item[:bar].split(b":") if bar > 0 else []
    if len(parts) != 5 or parts[0] != MAGIC:
        return OutboxItem(raw=item)
    try:
        folded, since, queued, replays = (int(p) for p in parts[1:])
    except ValueError:
        return OutboxItem(raw=item)
    return OutboxItem(item[bar + 1 :], folded, since, queued, replays)
