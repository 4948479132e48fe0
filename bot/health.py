"""/status and /latency: what `herald status` knows, read the same way, shown in Discord.

`worker.status.collect` reads a whole snapshot (a few dozen Redis replies); fifty people
asking at once must not cost fifty snapshots, so reads go through `Shared`: concurrent
askers share one read and a result younger than `FRESH_S` is reused. Reads run in a
thread: they are synchronous and the event loop must keep answering meanwhile.
"""

import asyncio
import time
from collections.abc import Callable, Hashable
from typing import Any, Final, Generic, TypeVar, cast

import redis

from bot.replies import GREEN, ORANGE, RED, code, embed, message
from ground import keyspace
from schemas.ids import event_id_millis
from worker.ledger import percentile
from worker.status import collect, monitor_checks
from worker.status_model import CheckStatus, Status

FRESH_S: Final = 1.0
STALE_S: Final = 5.0
"""An answer is at most this old (and at most `FRESH_S` when nobody asked for a while)."""
MAX_KEYS: Final = 256
"""Distinct questions remembered (/trades by count and pair) before starting afresh."""
T = TypeVar("T")
LEDGER_TAIL: Final = 1000
"""/latency looks at this many of the newest ledger entries."""
_STATE_MARK: Final = {"up": "🟢", "pending": "🟡", "down": "🔴", "maintenance": "🔧"}


class Shared(Generic[T]):
    """One read at a time per key, shared by everyone who asks while it runs. A result
    younger than `fresh_s` is reused; one younger than `stale_s` is answered at once while
    a fresh read runs behind it, so no asker waits for a read once one has been made. A
    burst of the same question costs one read (fifty /status at once: one snapshot)."""

    def __init__(self, fresh_s: float = FRESH_S, stale_s: float = STALE_S) -> None:
        self._fresh_s = fresh_s
        self._stale_s = stale_s
        self._last: dict[Hashable, tuple[float, T]] = {}
        self._running: dict[Hashable, asyncio.Future[T]] = {}

    async def get(self, key: Hashable, read: Callable[[], T]) -> T:
        kept = self._last.get(key)
        age = time.monotonic() - kept[0] if kept else None
        if kept and age is not None and age < self._fresh_s:
            return kept[1]
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(asyncio.to_thread(read))
            self._running[key] = running
            running.add_done_callback(lambda done: self._keep(key, done))
        if kept and age is not None and age < self._stale_s:
            return kept[1]
        return await asyncio.shield(running)

    def _keep(self, key: Hashable, done: "asyncio.Future[T]") -> None:
        self._running.pop(key, None)
        if done.cancelled() or done.exception() is not None:
            self._last.pop(key, None)  # a failed read: the next asker waits for a new one
            return
        if len(self._last) > MAX_KEYS:
            self._last.clear()
        self._last[key] = (time.monotonic(), done.result())


def status_reader(client: redis.Redis, settings: Any) -> Callable[[], Status]:
    return lambda: collect(client, settings)


def status_message(status: Status, ephemeral: bool) -> dict[str, Any]:
    head = "healthy" if status.healthy else f"degraded: {len(status.problems)} problem(s)"
    lines = [f"• {code(p)}" for p in status.problems] + [f"· {code(n)}" for n in status.notes]
    fields = [
        ("Channels", _channels(status)),
        ("Streams", _lanes(status)),
        (
            "Engine",
            f"{status.dispatchers_alive} dispatcher(s), {status.workers_alive} worker(s) alive; "
            f"{status.dlq_size} dead letter(s)",
        ),
    ]
    if status.checks:
        fields.append(("Monitor", _checks(status.checks)))
    colour = GREEN if status.healthy else RED if status.dispatchers_alive == 0 else ORANGE
    return message(
        embeds=[embed(f"Herald: {head}", "\n".join(lines), colour=colour, fields=fields)],
        ephemeral=ephemeral,
    )


def _channels(status: Status) -> str:
    rows = []
    for c in status.channels:
        state = "⛔ dead" if c.webhook == "dead" else "no webhook" if c.webhook == "none" else "ok"
        rows.append(f"#{c.name}: {state}, {c.queued} queued, {c.delivered} delivered")
    return "\n".join(rows)


def _lanes(status: Status) -> str:
    return "\n".join(
        f"{lane.name}: lag {lane.lag}, pending {lane.pending}" for lane in status.lanes
    )


def _checks(checks: list[CheckStatus]) -> str:
    return "\n".join(
        f"{_STATE_MARK.get(c.state, '?')} {code(c.name)} {c.state}{_ms(c.last_latency_ms)}"
        + (" (stale)" if c.stale else "")
        for c in checks
    )


def _ms(value: float | None) -> str:
    return "" if value is None else f", {value:.0f} ms"


# -- /latency ----------------------------------------------------------------------------------


def engine_latencies(client: redis.Redis, tail: int = LEDGER_TAIL) -> dict[str, list[float]]:
    """Publish → delivered seconds per channel, from the newest ledger entries."""
    entries = cast(
        list[tuple[bytes, dict[bytes, bytes]]], client.xrevrange(keyspace.LEDGER, count=tail)
    )
    found: dict[str, list[float]] = {}
    outcome, event, channel, at = (
        name.encode()
        for name in (
            keyspace.LEDGER_OUTCOME,
            keyspace.LEDGER_EVENT,
            keyspace.LEDGER_CHANNEL,
            keyspace.LEDGER_TIME,
        )
    )
    for _id, fields in entries:
        if fields.get(outcome) != keyspace.DELIVERED.encode() or at not in fields:
            continue
        try:
            seconds = (int(fields[at]) - event_id_millis(fields[event].decode())) / 1000
        except (KeyError, ValueError):
            continue
        found.setdefault(fields.get(channel, b"?").decode(), []).append(seconds)
    return found


def latency_message(client: redis.Redis, ephemeral: bool) -> dict[str, Any]:
    checks = monitor_checks(client, time.time())
    services = "\n".join(
        f"{code(c.name)}: {'-' if c.last_latency_ms is None else f'{c.last_latency_ms:.0f} ms'}"
        for c in checks
    )
    engine = engine_latencies(client)
    rows = [
        f"#{name}: p50 {_s(percentile(v, 50))}, p99 {_s(percentile(v, 99))} ({len(v)} events)"
        for name, v in sorted(engine.items())
    ]
    fields = [
        ("Services (monitor, last probe)", services or "no checks reported yet"),
        ("Publish → Discord (engine, recent deliveries)", "\n".join(rows) or "nothing delivered"),
    ]
    return message(embeds=[embed("Latency", fields=fields)], ephemeral=ephemeral)


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"
