"""`herald books`: keep the books from the event streams, in their own consumer group.

The books read the critical and normal lanes (trades, signals and P&L updates never
travel on the bulk lane) through `keyspace.BOOKS_GROUP`, so delivery and books each see
every event and neither waits for the other. Each read is tallied in Python and counted
by one script that also acknowledges it (books/script.py): a crash leaves a batch
pending, to be read again by the same name on restart or claimed by another instance
once idle; the event-id check makes either count once. Any number of instances may run.

A batch the script refuses (a sum would pass 64 bits: nothing is written) is split in
halves until the entry at fault is alone; that entry goes to the dead-letter queue with
the reason (`herald dlq ls`) and is acknowledged, the rest is counted. Any other script
error (a bug) dead-letters the batch's trades, signals and P&L updates the same way, so a
process never crashes into the same batch forever under supervisord.
"""

import logging
import socket
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, cast

import redis

from books.script import Apply, Overflow
from books.settings import ReportSettings
from books.tally import Batch, Calendar, tally
from ground import keyspace
from ground.backoff import backoff
from ground.errors import InvalidEvent
from ground.keyspace import PAYLOAD_FIELD
from ground.redact import redact
from producer.streams import stream_key
from schemas.codec import decode
from schemas.envelope import Envelope
from worker.dlq import DeadLetterQueue, dead_letter
from worker.status_books import BOOKS_LANES, GroupLag, books_streams, group_lag

log = logging.getLogger("herald.books")

LANES: Final = BOOKS_LANES
BATCH_SIZE: Final = 1_000
KINDS: Final = frozenset({"trade_executed", "signal_generated", "pnl_update"})

Entry = tuple[bytes, dict[bytes, bytes]]
UNAVAILABLE: Final = (
    redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError,
    redis.ReadOnlyError, redis.OutOfMemoryError,
)  # fmt: skip
"""Redis cannot take the batch now (not the batch's fault): back off and read it again."""


@dataclass
class BooksStats:
    read: int = 0
    counted: int = 0
    duplicates: int = 0
    claimed: int = 0
    dead_lettered: int = 0


class Books:
    def __init__(
        self,
        client: redis.Redis,
        settings: ReportSettings,
        *,
        name: str | None = None,
        batch_size: int = BATCH_SIZE,
        block_ms: int = 100,
        claim_idle_ms: int = 30_000,
        reap_every_s: float = 5.0,
        stream_prefix: str = keyspace.STREAM_PREFIX,
    ) -> None:
        self.redis = client
        self.settings = settings
        self.name = name or f"{socket.gethostname()}-books"
        self.batch_size = batch_size
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.reap_every_s = reap_every_s
        self.streams = [stream_key(lane, stream_prefix) for lane in LANES]
        self.stats = BooksStats()
        self.calendar = Calendar(settings)
        self._apply = Apply(client, settings.recent_trades)
        self._dlq = DeadLetterQueue(client)
        self.ready = threading.Event()
        """Set once everything published before `run` started is counted: the reports
        wait for it (books/schedule.py `run_reporter`)."""

    def ensure_groups(self) -> None:
        for stream in self.streams:
            try:
                self.redis.xgroup_create(stream, keyspace.BOOKS_GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def run(self, stop: threading.Event, *, drain: bool = False) -> None:
        """Loop until `stop` is set (with `drain`: until every lane is caught up)."""
        started, failures, next_reap = False, 0, 0.0
        started_ms = int(time.time() * 1000)
        committer = ThreadPoolExecutor(1, thread_name_prefix="herald-books")
        prepared: _Prepared | None = None  # read and tallied, counted on the next turn
        try:
            while not stop.is_set():
                try:
                    if not started:
                        prepared = None  # still pending in Redis: recover() reads it again
                        self.ensure_groups()
                        self.recover(own=True)
                        started = True
                    handled = prepared.count if prepared else 0
                    prepared = self._pump(committer, prepared, block=not drain)
                    if time.monotonic() >= next_reap:
                        handled += self.recover(own=False)
                        next_reap = time.monotonic() + self.reap_every_s
                    failures = 0
                    if not self.ready.is_set():
                        self._check_ready(started_ms)
                except UNAVAILABLE as exc:
                    failures += 1  # what was not acknowledged is pending: read again on restart
                    delay = backoff(failures, base=0.2, cap=2.0, jitter=0)
                    log.warning("redis unavailable (%s); retrying in %.1fs", exc, delay)
                    stop.wait(delay)
                    started = False
                    continue
                if drain and not handled and not prepared and self.lag().caught_up:
                    return
            if prepared:  # stopping: count what was read ahead (else the next start would)
                self._commit(prepared)
        finally:
            committer.shutdown(wait=True)

    def _pump(
        self, committer: ThreadPoolExecutor, prepared: "_Prepared | None", *, block: bool
    ) -> "_Prepared | None":
        """One turn: count the batch tallied last turn (Redis runs the script) while this
        thread reads and tallies the next. Batches are counted in the order read."""
        replies = self._read(block=block and prepared is None)
        future = committer.submit(self._commit, prepared) if prepared else None
        following = self._prepare(replies)
        if future is not None:
            future.result()  # re-raises a commit's error here, in the loop
        return following

    def _check_ready(self, started_ms: int) -> None:
        oldest = self.lag().oldest_ms
        if oldest is None or oldest >= started_ms:
            self.ready.set()

    def step(self, block: bool = True) -> int:
        """Read new entries from every lane once (blocking up to `block_ms`) and count them."""
        return self.handle(self._read(block))

    def lag(self) -> GroupLag:
        return books_lag(self.redis, self.streams)

    def _read(self, block: bool) -> list[tuple[str, list[Entry]]]:
        streams = dict.fromkeys(self.streams, ">")
        try:
            replies = self.redis.xreadgroup(
                keyspace.BOOKS_GROUP, self.name, streams, count=self.batch_size,  # type: ignore[arg-type]
                block=self.block_ms if block else None,
            )  # fmt: skip
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis lost its data, or the streams were deleted
                self.ensure_groups()
                return []
            raise
        batches = cast(list[tuple[bytes, list[Entry]]], replies or [])
        return [(s.decode(), e) for s, e in batches]

    def handle(self, batches: Iterable[tuple[str, list[Entry]]]) -> int:
        """Count the entries' events (each event id once ever) and acknowledge them."""
        prepared = self._prepare(batches)
        if prepared is None:
            return 0
        self._commit(prepared)
        return prepared.count

    def _prepare(self, batches: Iterable[tuple[str, list[Entry]]]) -> "_Prepared | None":
        """Decode and tally a read (no Redis calls)."""
        envelopes: list[Envelope] = []
        acks: dict[str, list[bytes]] = {}
        rows: list[tuple[str, Entry]] = []
        for stream, entries in batches:
            for entry_id, fields in entries:
                rows.append((stream, (entry_id, fields)))
                acks.setdefault(stream, []).append(entry_id)
                envelope = _decoded((fields or {}).get(PAYLOAD_FIELD))
                if envelope is not None and envelope.kind in KINDS:
                    envelopes.append(envelope)
        count = sum(len(ids) for ids in acks.values())
        if not count:
            return None
        batch = tally(envelopes, self.calendar, set())
        return _Prepared(envelopes, acks, count, batch, rows)

    def _commit(self, prepared: "_Prepared") -> None:
        """Count a batch; one the script cannot apply is narrowed down and dead-lettered."""
        try:
            self._count(prepared)
        except Overflow as exc:
            if len(prepared.rows) == 1:
                self._dead_letter(prepared, str(exc))
                return
            middle = len(prepared.rows) // 2
            for half in (prepared.rows[:middle], prepared.rows[middle:]):
                part = self._prepare((stream, [entry]) for stream, entry in half)
                if part is not None:
                    self._commit(part)
        except redis.ResponseError as exc:
            if isinstance(exc, UNAVAILABLE):
                raise
            self._dead_letter(prepared, f"the books' script failed ({exc}); partly counted?")

    def _dead_letter(self, prepared: "_Prepared", reason: str) -> None:
        """Dead-letter the batch's events the books count (with their bytes and `reason`),
        then acknowledge every entry of it."""
        letters = []
        for stream, (entry_id, fields) in prepared.rows:
            raw = (fields or {}).get(PAYLOAD_FIELD)
            envelope = _decoded(raw)
            if raw is not None and envelope is not None and envelope.kind in KINDS:
                where = f"{stream} entry {entry_id.decode()}"
                letters.append(dead_letter(raw, f"books could not count {where}: {reason}"))
        if letters:
            self._dlq.add(letters)
        pipe = self.redis.pipeline(transaction=False)
        for stream, ids in prepared.acks.items():
            pipe.xack(stream, keyspace.BOOKS_GROUP, *ids)
        pipe.execute()
        self.stats.read += prepared.count
        self.stats.dead_lettered += len(letters)
        log.error("books: dead-lettered %d event(s): %s", len(letters), redact(reason))

    def _count(self, prepared: "_Prepared") -> None:
        """Run the apply script; if some ids were counted already, nothing was written:
        tally again without them and retry."""
        skip: set[str] = set()
        batch = prepared.batch
        while already := self._apply(batch, prepared.acks, int(time.time() * 1000)):
            skip.update(already)
            batch = tally(prepared.envelopes, self.calendar, skip)
        self.stats.read += prepared.count
        self.stats.counted += len(batch.ids)
        self.stats.duplicates += len(skip)

    def recover(self, *, own: bool) -> int:
        """Count entries read but never acknowledged: this name's own (a previous run died
        holding them), or any consumer's idle longer than `claim_idle_ms` (a dead instance)."""
        handled = 0
        for stream in self.streams:
            start = "0-0"
            while True:
                if own:
                    reply: Any = self.redis.xreadgroup(
                        keyspace.BOOKS_GROUP, self.name, {stream: start}, count=self.batch_size
                    )
                    entries = cast(list[Entry], reply[0][1] if reply else [])
                    start = entries[-1][0].decode() if entries else start
                else:
                    reply = self.redis.xautoclaim(
                        stream, keyspace.BOOKS_GROUP, self.name, self.claim_idle_ms,
                        start_id=start, count=self.batch_size,
                    )  # fmt: skip
                    start, entries = _as_str(reply[0]), cast(list[Entry], reply[1])
                    self.stats.claimed += len(entries)
                handled += self.handle([(stream, entries)]) if entries else 0
                if not entries or start in ("0-0", "0"):
                    break
        return handled


@dataclass
class _Prepared:
    envelopes: list[Envelope]
    acks: dict[str, list[bytes]]
    count: int
    batch: Batch
    rows: list[tuple[str, Entry]]
    """The entries as read, in order: split when the script refuses the batch."""


BooksLag = GroupLag


def books_lag(client: redis.Redis, streams: list[str] | None = None) -> GroupLag:
    """How far the books are behind on the lanes they read."""
    return group_lag(client, streams or books_streams(), keyspace.BOOKS_GROUP)


def _decoded(raw: bytes | None) -> Envelope | None:
    """The envelope, or None for an entry the dispatcher dead-letters (not the books' job)."""
    if raw is None:
        return None
    try:
        return decode(raw)
    except InvalidEvent:
        return None


def _as_str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
