"""The dispatcher: stream entries -> dedupe, fold, route -> per-channel outboxes.

It reads the three lanes through one consumer group (critical first), decodes each
entry, decides where it goes, and hands the whole batch to one Lua script that writes
the outboxes (or the DLQ) and XACKs atomically. Undecodable entries are dead-lettered
with their bytes and the reason; nothing stops the loop. Several dispatchers may run:
the group shares entries between them, and the reaper claims entries a dead one left.
"""

import contextlib
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, cast

import msgspec
import redis

from herald.errors import InvalidEvent
from producer.streams import DEFAULT_PREFIX, LANES, PAYLOAD_FIELD, stream_key
from schemas.codec import decode
from worker import dedupe, dlq, keys, metrics
from worker.config import Settings

log = logging.getLogger("herald.dispatcher")

COMMIT_SCRIPT = files("worker").joinpath("commit.lua").read_text()
HEARTBEAT_TTL_S = 15
"""A dispatcher silent this long counts as gone in `herald status`."""
HEARTBEAT_EVERY_S = 5.0

Entry = tuple[bytes, dict[bytes, bytes]]


@dataclass
class DispatchStats:
    read: int = 0
    committed: int = 0
    dead_lettered: int = 0
    claimed: int = 0
    touched: set[str] = field(default_factory=set)


class Dispatcher:
    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        *,
        name: str | None = None,
        batch_size: int = 500,
        block_ms: int = 100,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 5,
        reap_every_s: float = 5.0,
        on_touched: Callable[[set[str]], object] | None = None,
        stream_prefix: str = DEFAULT_PREFIX,
    ) -> None:
        self.redis = client
        self.settings = settings
        self.name = name or socket.gethostname()
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.reap_every_s = reap_every_s
        self.on_touched = on_touched or (lambda _channels: None)
        self.streams = [stream_key(lane, stream_prefix) for lane in LANES]
        self.stats = DispatchStats()
        self._commit = client.register_script(COMMIT_SCRIPT)
        self._next_reap = 0.0
        self._next_beat = 0.0

    # -- lifecycle ------------------------------------------------------------------------

    def ensure_groups(self) -> None:
        for stream in self.streams:
            try:
                self.redis.xgroup_create(stream, keys.GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def run(
        self,
        stop: threading.Event,
        *,
        drain: bool = False,
        tick: Callable[[], object] | None = None,
    ) -> None:
        """Loop until `stop` is set (or, with `drain`, until the streams are empty).

        `tick` runs once per loop (at least every `block_ms`): the service uses it to
        sweep channels for due retries.
        """
        try:
            self._loop(stop, drain, tick)
        finally:
            with contextlib.suppress(redis.RedisError):  # best effort: the TTL covers a crash
                self.redis.delete(keys.dispatcher_heartbeat(self.name))

    def _loop(self, stop: threading.Event, drain: bool, tick: Callable[[], object] | None) -> None:
        started = False
        failures = 0
        while not stop.is_set():
            try:
                if not started:
                    self.ensure_groups()
                    self.recover(own=True)
                    started = True
                if time.monotonic() >= self._next_beat:
                    self.heartbeat()
                handled = self.step()
                if tick is not None:
                    tick()
                if time.monotonic() >= self._next_reap:
                    handled += self.recover(own=False)
                    self._next_reap = time.monotonic() + self.reap_every_s
                failures = 0
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
                # Redis restarting: nothing was acknowledged, so nothing is lost; retry.
                failures += 1
                delay = min(0.1 * 2**failures, 2.0)
                log.warning("redis unavailable (%s); retrying in %.1fs", exc, delay)
                stop.wait(delay)
                started = False
                continue
            if drain and handled == 0 and self.backlog() == 0:
                return

    def heartbeat(self) -> None:
        """Tell `herald status` this dispatcher is alive; the key expires if it dies."""
        self.redis.set(keys.dispatcher_heartbeat(self.name), int(time.time()), ex=HEARTBEAT_TTL_S)
        self._next_beat = time.monotonic() + HEARTBEAT_EVERY_S

    def step(self, block: bool = True) -> int:
        """Read one batch from every lane (critical first) and hand it on; returns count."""
        try:
            replies = self.redis.xreadgroup(
                keys.GROUP, self.name, dict.fromkeys(self.streams, ">"), count=self.batch_size
            )
            if not replies and block:
                replies = self.redis.xreadgroup(
                    keys.GROUP, self.name, dict.fromkeys(self.streams, ">"),
                    count=self.batch_size, block=self.block_ms,
                )  # fmt: skip
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis lost its data (no AOF) or streams were deleted
                self.ensure_groups()
                return 0
            raise
        order = {s.encode(): i for i, s in enumerate(self.streams)}
        total = 0
        batches = cast(list[tuple[bytes, list[Entry]]], replies or [])
        for stream, entries in sorted(batches, key=lambda r: order.get(r[0], 9)):
            total += self.handle(stream.decode(), entries)
        return total

    def backlog(self) -> int:
        """Entries not yet delivered to any consumer of the group (lag), all lanes."""
        lag = 0
        for stream in self.streams:
            last = self.redis.xinfo_stream(stream)["last-generated-id"]
            for group in self.redis.xinfo_groups(stream):
                if group["name"] == keys.GROUP.encode() or group["name"] == keys.GROUP:
                    # Redis 7.0 can report a stale `lag` after an AOF rewrite and a restart
                    # (entries-read is not persisted): caught up is caught up.
                    caught_up = group["last-delivered-id"] == last
                    lag += (0 if caught_up else int(group.get("lag") or 1)) + int(
                        group.get("pending") or 0
                    )
        return lag

    # -- one batch --------------------------------------------------------------------------

    def handle(
        self, stream: str, entries: Iterable[Entry], deliveries: dict[bytes, int] | None = None
    ) -> int:
        """Decode, route and commit a batch of entries from one stream."""
        now_ms = int(time.time() * 1000)
        args: list[Any] = []
        touched: set[str] = set()
        kinds: Counter[str] = Counter()
        count = 0
        for entry_id, fields in entries:
            count += 1
            raw = fields.get(PAYLOAD_FIELD)
            times = (deliveries or {}).get(entry_id, 1)
            if raw is None:  # keep what was sent (its fields, as msgpack pairs) for the operator
                kept = msgspec.msgpack.encode([[k, v] for k, v in fields.items()])
                names = ", ".join(repr(k) for k in fields)
                self._dead(
                    args, entry_id, kept,
                    f"stream entry has no {PAYLOAD_FIELD!r} field (it has {names or 'none'})",
                )  # fmt: skip
                continue
            if times > self.max_deliveries:
                self._dead(args, entry_id, raw, f"delivered {times} times without acknowledgement")
                continue
            try:
                envelope = decode(raw)
            except InvalidEvent as exc:
                self._dead(args, entry_id, raw, str(exc))
                continue
            kinds[envelope.kind] += 1
            channels = self.settings.routes.get(envelope.kind, ())
            fkey = dedupe.fold_key(envelope, self.settings.dedupe_fields) or ""
            closes = dedupe.closes(envelope, self.settings.dedupe_fields)
            args += [
                "E",
                entry_id,
                envelope.id,
                envelope.kind,
                fkey,
                int(self.settings.dedupe_window_s * 1000),
            ]
            args += [len(closes), *closes, len(channels), *(keys.outbox(c) for c in channels), raw]
            touched.update(channels)
        if not args:
            return count
        ttl_ms = int(self.settings.seen_ttl_s * 1000)
        bucket = now_ms // ttl_ms
        self._commit(
            keys=[
                stream,
                keys.seen(bucket),
                keys.seen(bucket - 1),
                keys.DLQ,
                keys.DLQ_INDEX,
                keys.STATS,
                keys.FOLDS,
                keys.LEDGER,
            ],
            args=[keys.GROUP, now_ms, ttl_ms, *args],
        )
        metrics.dispatched(stream, kinds, dead_lettered=count - kinds.total())
        self.stats.read += count
        self.stats.committed += count
        self.stats.touched |= touched
        if touched:
            self.on_touched(touched)
        return count

    def _dead(self, args: list[Any], entry_id: bytes, raw: bytes, reason: str) -> None:
        entry = dlq.dead_letter(raw, reason)
        args += ["D", entry_id, entry.id, dlq.encode(entry), ""]
        self.stats.dead_lettered += 1
        log.warning("dead-lettered stream entry %s: %s", entry_id.decode(), entry.reason)

    # -- crash recovery -----------------------------------------------------------------------

    def recover(self, *, own: bool) -> int:
        """Re-handle entries read but never acknowledged.

        `own`: this consumer's pending entries (a previous run of the same name died
        between read and ack). Otherwise: entries idle longer than `claim_idle_ms` at any
        consumer (a dispatcher that died for good). Delivery counts are kept, so an entry
        that keeps killing dispatchers is dead-lettered after `max_deliveries`.
        """
        handled = 0
        for stream in self.streams:
            while True:
                pending: list[dict[str, Any]] = self.redis.xpending_range(
                    stream, keys.GROUP, min="-", max="+", count=self.batch_size,
                    consumername=self.name if own else None,
                    idle=None if own else self.claim_idle_ms,
                )  # fmt: skip
                if not pending:
                    break
                ids: list[bytes] = [p["message_id"] for p in pending]
                min_idle = 0 if own else self.claim_idle_ms
                claimed = cast(
                    list[Entry],
                    self.redis.xclaim(stream, keys.GROUP, self.name, min_idle, ids),  # type: ignore[arg-type]
                )
                deliveries = {p["message_id"]: int(p["times_delivered"]) + 1 for p in pending}
                live = [(eid, f) for eid, f in claimed if f]
                gone = [i for i in ids if i not in {eid for eid, _ in live}]
                if gone:  # trimmed away by MAXLEN before anyone handled them
                    self.redis.xack(stream, keys.GROUP, *gone)
                    log.error(
                        "%d pending entries of %s were trimmed before delivery", len(gone), stream
                    )
                handled += self.handle(stream, live, deliveries)
                self.stats.claimed += len(live)
                if len(pending) < self.batch_size:
                    break
        return handled
