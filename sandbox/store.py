"""Accepted messages per channel, and the counters the viewer and tests read.

Messages get Discord-style snowflake ids that strictly increase, so `since=<id>` is a
cursor that never skips or repeats a message. Each channel keeps its newest
`max_per_channel` messages so a long rehearsal or a benchmark cannot exhaust memory;
counters keep the true totals.
"""

import time
from collections import Counter, deque
from datetime import UTC, datetime
from typing import Any

from sandbox.files import FileStore

DISCORD_EPOCH_MS = 1420070400000


class Snowflakes:
    """Strictly increasing ids shaped like Discord's (ms since 2015 << 22 | sequence)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> str:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return str(self._last)


COUNTERS = (
    "requests",
    "messages",
    "rate_limited",
    "rate_limited_global",
    "rate_limited_shared",
    "storm_429",
    "bad_request",
    "empty_message",
    "too_large",
    "unauthorized",
    "unknown_webhook",
    "faults_5xx",
    "faults_dropped",
    "faults_slow",
)


class MessageStore:
    """Messages by channel name plus counters; everything the sandbox remembers."""

    def __init__(self, max_per_channel: int = 10_000) -> None:
        self.max_per_channel = max_per_channel
        self.snowflakes = Snowflakes()
        self.channels: dict[str, deque[dict[str, Any]]] = {}
        self.counters: Counter[str] = Counter()
        self.per_channel: Counter[str] = Counter()
        self.files = FileStore()
        """Uploaded attachments, served at their `url` (bounded, oldest dropped)."""
        self.started = time.time()

    def reset(self) -> None:
        self.channels.clear()
        self.counters.clear()
        self.per_channel.clear()
        self.files.clear()

    def ensure_channel(self, name: str) -> None:
        self.channels.setdefault(name, deque(maxlen=self.max_per_channel))

    def count(self, name: str) -> None:
        self.counters[name] += 1

    def add(self, channel: str, message: dict[str, Any], extra: dict[str, Any]) -> None:
        """Keep an accepted message; `extra` holds sandbox-only fields (channel name, mentions)."""
        self.ensure_channel(channel)
        self.channels[channel].append({**message, **extra})
        self.per_channel[channel] += 1
        self.counters["messages"] += 1

    def messages(
        self, channel: str | None = None, since: str | None = None
    ) -> list[dict[str, Any]]:
        """Messages oldest first, for one channel or all; `since` is an exclusive id cursor."""
        names = [channel] if channel is not None else list(self.channels)
        found = [m for name in names for m in self.channels.get(name, ())]
        if channel is None:
            found.sort(key=lambda m: int(m["id"]))
        if since:
            floor = int(since)
            found = [m for m in found if int(m["id"]) > floor]
        return found

    def stats(self) -> dict[str, Any]:
        return {
            **{name: self.counters[name] for name in COUNTERS},
            "faults_injected": self.counters["faults_5xx"]
            + self.counters["faults_dropped"]
            + self.counters["faults_slow"]
            + self.counters["storm_429"],
            "per_channel": {name: self.per_channel[name] for name in self.channels},
            "uptime_seconds": round(time.time() - self.started, 3),
        }


def iso_now() -> str:
    """Discord's timestamp format: ISO 8601 with microseconds and +00:00."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
