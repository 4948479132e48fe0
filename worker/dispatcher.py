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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, cast

import msgspec
import redis

from ground import keyspace
from ground.backoff import backoff
from ground.errors import InvalidEvent
from ground.keyspace import PAYLOAD_FIELD
from ground.settings import budget_key
from producer.streams import LANES, stream_key
from schemas.codec import decode
from worker import announced, dedupe, dlq, metrics, muting
from worker.config import Settings
from worker.lanes import as_bytes, lag_and_pending
from worker.scripts import COMMIT

log = logging.getLogger("herald.dispatcher")

_OPS = msgspec.msgpack.Encoder()
HEARTBEAT_TTL_S = 15
"""A dispatcher silent this long counts as gone in `herald status`."""
HEARTBEAT_EVERY_S = 5.0
BATCH_SIZE: Final = 2_000
"""Entries per lane per read and per commit script: +12 % events/s over 500 (median of 7
paired runs, docs/benchmarks/engine.md) for the script holding Redis ~15 ms per full
batch, which only a flood fills (an idle read returns a handful)."""

Entry = tuple[bytes, dict[bytes, bytes]]


@dataclass
class DispatchStats:
    read: int = 0
    committed: int = 0
    dead_lettered: int = 0
    claimed: int = 0
    touched: set[str] = field(default_factory=set)


@dataclass
class _Batch:
    """Entries of one stream, decoded and routed: the commit script's arguments."""

    stream: str
    count: int = 0
    ops: list[tuple[Any, ...]] = field(default_factory=list)
    blobs: list[bytes] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    touched: set[str] = field(default_factory=set)
    windows: dict[str, bytes] = field(default_factory=dict)  # maintenance announced, by entry


class Dispatcher:
    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        *,
        name: str | None = None,
        batch_size: int = BATCH_SIZE,
        block_ms: int = 100,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 5,
        reap_every_s: float = 5.0,
        on_touched: Callable[[set[str]], object] | None = None,
        stream_prefix: str = keyspace.STREAM_PREFIX,
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
        self._lanes = {stream_key(lane, stream_prefix): lane.value for lane in LANES}
        self.stats = DispatchStats()
        self._commit = client.register_script(COMMIT)
        self._window_ms = int(settings.dedupe_window_s * 1000)
        self._next_reap = self._next_beat = 0.0
        self.mutes = muting.MuteCache(client)

    # -- lifecycle ------------------------------------------------------------------------

    def ensure_groups(self) -> None:
        for stream in self.streams:
            try:
                self.redis.xgroup_create(stream, keyspace.GROUP, id="0", mkstream=True)
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
                self.redis.delete(keyspace.dispatcher_heartbeat(self.name))

    def _loop(self, stop: threading.Event, drain: bool, tick: Callable[[], object] | None) -> None:
        started = False
        failures = 0
        prepared: list[_Batch] = []  # read and decoded, committed on the next turn
        committer = ThreadPoolExecutor(1, thread_name_prefix="herald-commit")
        try:
            while not stop.is_set():
                try:
                    if not started:
                        prepared = []  # still pending in Redis: recover() reads them again
                        self.ensure_groups()
                        self.recover(own=True)
                        started = True
                    if time.monotonic() >= self._next_beat:
                        self.heartbeat()
                    handled = sum(b.count for b in prepared)
                    prepared = self._pump(committer, prepared)
                    if tick is not None:
                        tick()
                    if time.monotonic() >= self._next_reap:
                        handled += self.recover(own=False)
                        self.trim()
                        self._next_reap = time.monotonic() + self.reap_every_s
                    failures = 0
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
                    # Redis restarting. Whatever was not acknowledged is still pending and
                    # recover() reads it again; whether the batch in flight was committed is
                    # unknown, so it is dropped here, never applied a second time.
                    prepared = []
                    failures += 1
                    delay = backoff(failures, base=0.2, cap=2.0, jitter=0)
                    log.warning("redis unavailable (%s); retrying in %.1fs", exc, delay)
                    stop.wait(delay)
                    started = False
                    continue
                if drain and handled == 0 and not prepared and self.backlog() == 0:
                    return
            if prepared:  # stopping: hand on what was read ahead (else the next start would)
                with contextlib.suppress(redis.RedisError):
                    self._apply_all(prepared)
        finally:
            committer.shutdown(wait=True)

    def heartbeat(self) -> None:
        """Tell `herald status` this dispatcher is alive; the key expires if it dies."""
        configured: dict[Any, Any] = {  # redis-py wants its own key union
            n: budget_key(c) for n, c in self.settings.channels.items() if c.webhook_url
        }
        held = keyspace.dispatcher_webhooks(self.name)
        pipe = self.redis.pipeline(transaction=True)  # the hash is replaced, never merged
        pipe.set(keyspace.dispatcher_heartbeat(self.name), int(time.time()), ex=HEARTBEAT_TTL_S)
        pipe.delete(held)
        if configured:
            pipe.hset(held, mapping=configured)
            pipe.expire(held, HEARTBEAT_TTL_S)
        pipe.execute()
        self._next_beat = time.monotonic() + HEARTBEAT_EVERY_S

    def step(self, block: bool = True) -> int:
        """Read one batch from every lane (critical first) and hand it on; returns count."""
        return sum(self.handle(stream, entries) for stream, entries in self._read(block))

    def _read(self, block: bool) -> list[tuple[str, list[Entry]]]:
        """One XREADGROUP over every lane, critical first; blocks up to `block_ms` if asked."""
        try:
            replies = self.redis.xreadgroup(
                keyspace.GROUP, self.name, dict.fromkeys(self.streams, ">"), count=self.batch_size
            )
            if not replies and block:
                replies = self.redis.xreadgroup(
                    keyspace.GROUP, self.name, dict.fromkeys(self.streams, ">"),
                    count=self.batch_size, block=self.block_ms,
                )  # fmt: skip
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis lost its data (no AOF) or streams were deleted
                self.ensure_groups()
                return []
            raise
        order = {s.encode(): i for i, s in enumerate(self.streams)}
        batches = cast(list[tuple[bytes, list[Entry]]], replies or [])
        return [(s.decode(), e) for s, e in sorted(batches, key=lambda r: order.get(r[0], 9))]

    def _pump(self, committer: ThreadPoolExecutor, prepared: list[_Batch]) -> list[_Batch]:
        """One turn of the pipelined loop: commit what was prepared last turn while this
        thread reads and decodes the next batches.

        Redis runs the commit script for batch k while Python decodes batch k+1, so the
        two costs overlap instead of adding up (measured: docs/benchmarks/engine.md).
        Commits stay in read order (one committer, awaited before the next is sent) and
        each is still one atomic script, so crash recovery is unchanged: entries read
        ahead are simply pending until their commit."""
        batches = self._read(block=not prepared)  # read before the script occupies Redis
        future = committer.submit(self._apply_all, prepared) if prepared else None
        following = [self._prepare(stream, entries) for stream, entries in batches]
        if future is not None:
            future.result()  # re-raises a commit's error here, in the loop
        return following

    def _apply_all(self, batches: list[_Batch]) -> None:
        for batch in batches:
            self._apply(batch)

    def backlog(self) -> int:
        """Entries not yet handed on (unread or pending) across all lanes."""
        return sum(sum(lag_and_pending(self.redis, stream)) for stream in self.streams)

    # -- one batch --------------------------------------------------------------------------

    def handle(
        self, stream: str, entries: Iterable[Entry], deliveries: dict[bytes, int] | None = None
    ) -> int:
        """Decode, route and commit a batch of entries from one stream."""
        batch = self._prepare(stream, entries, deliveries)
        self._apply(batch)
        return batch.count

    def _prepare(
        self, stream: str, entries: Iterable[Entry], deliveries: dict[bytes, int] | None = None
    ) -> _Batch:
        """Decode and route a batch into the script's arguments (no Redis call but muting's)."""
        batch, route = _Batch(stream), self.mutes.route()
        ops, blobs, kinds, touched = batch.ops, batch.blobs, batch.kinds, batch.touched
        window_ms = self._window_ms
        routes, fold_fields = self.settings.routes, self.settings.dedupe_fields
        for entry_id, fields in entries:
            batch.count += 1
            raw = fields.get(PAYLOAD_FIELD)
            times = (deliveries or {}).get(entry_id, 1)
            if raw is None:  # keep what was sent (its fields, as msgpack pairs) for the operator
                kept = msgspec.msgpack.encode([[k, v] for k, v in fields.items()])
                names = ", ".join(repr(k) for k in fields)
                self._dead(
                    batch, entry_id, kept,
                    f"stream entry has no {PAYLOAD_FIELD!r} field (it has {names or 'none'})",
                )  # fmt: skip
                continue
            if times > self.max_deliveries:
                self._dead(batch, entry_id, raw, f"delivered {times} times without acknowledgement")
                continue
            try:
                envelope = decode(raw)
            except InvalidEvent as exc:
                self._dead(batch, entry_id, raw, str(exc))
                continue
            kind = envelope.kind
            kinds[kind] += 1
            if kind == announced.KIND:
                batch.windows[entry_id.decode()] = announced.encoded(envelope.event)
            fkey, closes = dedupe.plan(envelope, fold_fields)
            channels, muted = route(kind, envelope.channels or routes.get(kind, ()))  # own first
            ops.append((
                "E", entry_id.decode(), envelope.id, kind, fkey, window_ms, closes, channels, muted
            ))  # fmt: skip
            blobs.append(raw)
            touched.update(channels)
        return batch

    def _apply(self, batch: _Batch) -> None:
        """Run the commit script for a prepared batch, then count it and kick its channels."""
        if not batch.ops:
            return
        now_ms = int(time.time() * 1000)
        ttl_ms = int(self.settings.seen_ttl_s * 1000)
        bucket = now_ms // ttl_ms
        if batch.windows:  # before the commit: at least once, keyed by entry id
            self.redis.hset(keyspace.MONITOR_WINDOWS, mapping=batch.windows)  # type: ignore[arg-type]
        self._commit(
            keys=[
                batch.stream,
                keyspace.seen(bucket),
                keyspace.seen(bucket - 1),
                keyspace.DLQ,
                keyspace.DLQ_INDEX,
                keyspace.STATS,
                keyspace.FOLDS,
                keyspace.LEDGER,
            ],
            args=[
                keyspace.GROUP,
                now_ms,
                ttl_ms,
                keyspace.OUTBOX_PREFIX,
                _OPS.encode(batch.ops),
                *batch.blobs,
            ],
        )
        dead = batch.count - batch.kinds.total()
        metrics.dispatched(self._lanes[batch.stream], batch.kinds, dead_lettered=dead)
        self.stats.read += batch.count
        self.stats.committed += batch.count
        self.stats.touched |= batch.touched
        if batch.touched:
            self.on_touched(batch.touched)

    def _dead(self, batch: _Batch, entry_id: bytes, raw: bytes, reason: str) -> None:
        entry = dlq.dead_letter(raw, reason)
        batch.ops.append(("D", entry_id.decode(), entry.id))
        batch.blobs.append(dlq.encode(entry))
        self.stats.dead_lettered += 1
        log.warning("dead-lettered stream entry %s: %s", entry_id.decode(), entry.reason)

    # -- housekeeping ---------------------------------------------------------------------

    def trim(self) -> None:
        """Drop what no one needs any more, so Redis holds the backlog, not the history.

        Stream entries older than every consumer group's oldest pending (or, with none
        pending, its last-delivered) entry have been handed on; the producers' MAXLEN stays
        as the backstop. The ledger keeps `ledger_retention` (and at most
        `keyspace.LEDGER_MAXLEN` entries, the cap its writer in shared.lua applies)."""
        for stream in self.streams:
            keep = self._oldest_needed(stream)
            if keep is not None:
                self.redis.xtrim(stream, minid=keep, approximate=True)
        horizon_ms = int((time.time() - self.settings.ledger_retention_s) * 1000)
        self.redis.xtrim(keyspace.LEDGER, minid=str(max(horizon_ms, 0)), approximate=True)

    def _oldest_needed(self, stream: str) -> bytes | None:
        """The oldest entry any consumer group of `stream` still needs (None: no group)."""
        oldest: tuple[int, int] | None = None
        for group in self.redis.xinfo_groups(stream):
            if group["pending"]:
                need = as_bytes(self.redis.xpending(stream, group["name"])["min"])
            else:
                need = as_bytes(group["last-delivered-id"])
            ms, seq = need.split(b"-")
            if oldest is None or (int(ms), int(seq)) < oldest:
                oldest = (int(ms), int(seq))
        return None if oldest is None else f"{oldest[0]}-{oldest[1]}".encode()

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
                    stream, keyspace.GROUP, min="-", max="+", count=self.batch_size,
                    consumername=self.name if own else None,
                    idle=None if own else self.claim_idle_ms,
                )  # fmt: skip
                if not pending:
                    break
                ids: list[bytes] = [p["message_id"] for p in pending]
                min_idle = 0 if own else self.claim_idle_ms
                claimed = cast(
                    list[Entry],
                    self.redis.xclaim(stream, keyspace.GROUP, self.name, min_idle, ids),  # type: ignore[arg-type]
                )
                deliveries = {p["message_id"]: int(p["times_delivered"]) + 1 for p in pending}
                live = [(eid, f) for eid, f in claimed if f]
                gone = [i for i in ids if i not in {eid for eid, _ in live}]
                if gone:  # trimmed away by MAXLEN before anyone handled them
                    self.redis.xack(stream, keyspace.GROUP, *gone)
                    log.error(
                        "%d pending entries of %s were trimmed before delivery", len(gone), stream
                    )
                handled += self.handle(stream, live, deliveries)
                self.stats.claimed += len(live)
                if len(pending) < self.batch_size:
                    break
        return handled
