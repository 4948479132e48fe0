"""The hot-path publisher: `publish()` never waits on Redis, disk or a lock.

A call takes the time, makes the event id and appends to a bounded deque (atomic under
the GIL, so any number of threads and asyncio tasks can share one Publisher). One
background thread encodes with a reused msgspec encoder and pipelines XADD batches.
While Redis is unreachable it appends batches to a spool file instead and replays them,
in order, once Redis answers again. A full deque drops and counts; it never blocks.
`heartbeat()` rides the same deque and thread: a liveness key, not an event.
"""

import atexit
import logging
import os
import socket
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Final, NamedTuple, Self

import redis

from ground import keyspace
from ground.backoff import backoff
from ground.connect import sync_client
from ground.names import check_name
from ground.redact import redact
from ground.replicated import HOLD_S, ReplicatedScript
from ground.settings import redis_location
from producer.spool import Record, open_spool
from producer.streams import XADD_MANY, stream_key
from schemas.attachments import Attachment, check_attachments
from schemas.base import Lane, Severity
from schemas.catalog import AnyEvent
from schemas.codec import encode
from schemas.envelope import check_channels, wrap
from schemas.ids import new_event_id

log = logging.getLogger("herald.producer")

_RETRY_BASE_S: Final = 0.2
_RETRY_CAP_S: Final = 5.0
_STATS_EVERY_S: Final = 1.0
_IDLE_WAIT_S: Final = 0.05


class PublisherStats(NamedTuple):
    published: int
    """Accepted by publish() (excludes dropped)."""
    flushed: int
    """Written to a Redis stream (including replays from the spool)."""
    spooled: int
    """Written to the spool file while Redis was unreachable."""
    dropped: int
    """Refused because the in-memory buffer was full or the publisher closed."""
    buffered: int
    """Waiting in memory right now."""


class _Flush:
    """A marker in the queue: set once everything published before it is in Redis."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class _Beat:
    """A heartbeat in the queue: `name` proved alive at `at_ms` (epoch ms, at the call)."""

    __slots__ = ("at_ms", "name")

    def __init__(self, name: str, at_ms: int) -> None:
        self.name = name
        self.at_ms = at_ms


_Item = tuple[
    str, int, AnyEvent, Severity | None, str | None, tuple[str, ...] | None, tuple[Attachment, ...]
]
_live: "weakref.WeakSet[Publisher]" = weakref.WeakSet()


class Publisher:
    """Publish events to Herald's Redis streams without ever blocking the caller."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        source: str | None = None,
        buffer_size: int = 100_000,
        batch_size: int = 1_000,
        maxlen: int = keyspace.STREAM_MAXLEN,
        spool_path: str | Path | None = None,
        stream_prefix: str = keyspace.STREAM_PREFIX,
        socket_timeout: float = 2.0,
    ) -> None:
        if buffer_size < 1 or batch_size < 1 or maxlen < 1:
            raise ValueError("buffer_size, batch_size and maxlen must be positive integers")
        self.location = redis_location(redis_url)
        """Where events go, and which rule chose it (`ground.settings.redis_location`)."""
        self.redis_url = self.location.url
        self.source = source or os.environ.get("HERALD_SOURCE") or Path(sys.argv[0]).stem or "app"
        self._redis = sync_client(
            self.redis_url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        self._buffer_size = buffer_size
        self._batch_size = batch_size
        self._maxlen = maxlen
        self._prefix = stream_prefix
        self._spool = open_spool(spool_path, self.source)
        self._queue: deque[_Item | _Flush | _Beat] = deque()
        self._wake = threading.Event()
        self._idle = False
        self._closing = False
        self._drop_lock = threading.Lock()
        self._dropped = 0
        self._taken = 0
        self._flushed = 0
        self._spooled = 0
        self._redis_ok = True
        self._retry_at = 0.0
        self._failures = 0
        self._waiting: list[_Flush] = []
        self._beats: dict[str, int] = {}
        """Heartbeats taken from the queue and not yet in Redis: name -> newest epoch ms."""
        self._xadd_many = ReplicatedScript(self._redis, XADD_MANY, hold_s=HOLD_S)
        self._stats_key = f"{keyspace.PRODUCERS}{self.source}:{socket.gethostname()}:{os.getpid()}"
        self._stats_due = 0.0
        self._thread = threading.Thread(target=self._run, name="herald-publisher", daemon=True)
        self._thread.start()
        _live.add(self)

    # -- the hot path -------------------------------------------------------------------

    def publish(
        self,
        event: AnyEvent,
        *,
        severity: Severity | None = None,
        dedup_key: str | None = None,
        channels: Iterable[str] | None = None,
        attachments: Iterable[Attachment] = (),
    ) -> str:
        """Queue an event and return its id at once; never raises for Redis trouble.

        `channels` sends it there instead of its kind's configured route; `attachments`
        go with its message (an unknown channel or a file beyond Discord's limits
        raises `InvalidEvent` here, not in the background thread)."""
        now = time.time_ns()
        event_id = new_event_id(now)
        route = None if channels is None else check_channels(channels)
        files = check_attachments(attachments) if attachments else ()
        if len(self._queue) >= self._buffer_size or self._closing:
            self._drop()
            return event_id
        self._queue.append((event_id, now, event, severity, dedup_key, route, files))
        if self._idle:
            self._wake.set()
        return event_id

    def heartbeat(self, name: str) -> None:
        """Say that `name` is alive now: the background thread sets `keyspace.heartbeat(name)`
        to this moment (epoch ms) for `keyspace.HEARTBEAT_TTL_S`, for the monitor to check.

        Never blocks and never raises for Redis trouble; a bad name is a ValueError. Beats
        of one name coalesce; while Redis is away only the newest is kept, and a full
        buffer skips the beat (the silence is then the truth). Not counted as events."""
        check_name(name)
        if len(self._queue) >= self._buffer_size or self._closing:
            return
        self._queue.append(_Beat(name, time.time_ns() // 1_000_000))
        if self._idle:
            self._wake.set()

    # -- caller-facing controls ---------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything published so far is in Redis; False on timeout."""
        marker = _Flush()
        self._queue.append(marker)
        self._wake.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is buffered (to Redis, or the spool if Redis is away) and stop."""
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning(
                "publisher thread still busy after %.1fs; buffered events may be lost", timeout
            )
            return
        if held := len(self._xadd_many.held):
            log.warning("closing with %d batches a Redis primary without a replica took: "
                        "lost if it is replaced now (docs/RELIABILITY.md)", held)  # fmt: skip
        self._spool.close()
        self._redis.close()
        _live.discard(self)

    def stats(self) -> PublisherStats:
        buffered = len(self._queue)  # flush markers and heartbeats included: rare, brief
        return PublisherStats(
            published=self._taken + buffered,
            flushed=self._flushed,
            spooled=self._spooled,
            dropped=self._dropped,
            buffered=buffered,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the background thread ----------------------------------------------------------

    def _drop(self) -> None:
        with self._drop_lock:
            self._dropped += 1
            first = self._dropped == 1
        if first:
            log.warning("publisher buffer full or closed: dropping events (see `dropped`)")

    def _run(self) -> None:
        while True:
            records, markers = self._take()
            if records:
                self._deliver(records)
            for marker in markers:
                self._waiting.append(marker)
            if self._spool.pending and time.monotonic() >= self._retry_at:
                self._replay_spool()
            if self._beats:
                self._send_beats()
            if self._xadd_many.held:
                self._settle()
            self._release_markers()
            self._publish_stats()
            if records or markers or self._queue:
                continue
            if self._closing:
                if self._spool.pending and self._redis_ok:
                    continue
                self._stats_due = 0.0
                self._publish_stats()  # final figures, so `dropped` outlives the process
                return
            self._sleep()

    def _take(self) -> tuple[list[Record], list[_Flush]]:
        records: list[Record] = []
        markers: list[_Flush] = []
        queue = self._queue
        while queue and len(records) < self._batch_size:
            item = queue.popleft()
            if not isinstance(item, tuple):  # one check per event; markers are rare
                if isinstance(item, _Flush):
                    markers.append(item)
                    break  # deliver what came before the marker first
                if item.at_ms > self._beats.get(item.name, 0):  # coalesce: newest wins
                    self._beats[item.name] = item.at_ms
                continue
            event_id, now, event, severity, dedup_key, channels, files = item
            envelope = wrap(
                event, source=self.source, severity=severity, dedup_key=dedup_key,
                channels=channels, now_ns=now, event_id=event_id, attachments=files,
            )  # fmt: skip
            records.append((envelope.lane, encode(envelope)))
        self._taken += len(records)
        return records, markers

    def _sleep(self) -> None:
        self._idle = True
        if not self._queue:
            until_retry = self._retry_at - time.monotonic() if self._spool.pending else _IDLE_WAIT_S
            self._wake.wait(max(0.0, min(_IDLE_WAIT_S, until_retry)))
        self._wake.clear()
        self._idle = False

    def _deliver(self, records: list[Record]) -> None:
        if self._spool.pending or not self._redis_ok:
            self._to_spool(records)
            return
        if self._xadd(records):
            self._flushed += len(records)
        else:
            self._to_spool(records)

    def _to_spool(self, records: list[Record]) -> None:
        self._spool.append(records)
        self._spooled += len(records)

    def _replay_spool(self) -> None:
        while self._spool.pending:
            records, offset = self._spool.read(self._batch_size)
            if not self._xadd(records):
                return
            self._spool.commit(offset)
            self._flushed += len(records)
            if self._queue and not self._closing:
                return  # interleave: keep the in-memory buffer from filling up meanwhile

    def _xadd(self, records: list[Record]) -> bool:
        """One EVALSHA per lane, then `WAIT 1`, in one pipeline: one round trip a batch.

        redis-py builds and parses one Python object per pipelined command, which caps a
        plain XADD pipeline near 140k/s here; the script keeps the caller side near 0.5 us
        an event. A batch no attached replica confirmed raises: spooled and sent again."""
        by_lane: dict[Lane, list[bytes]] = {}
        for lane, payload in records:
            by_lane.setdefault(lane, []).append(payload)
        try:
            self._xadd_many([
                ([stream_key(lane, self._prefix)], [self._maxlen, *payloads])
                for lane, payloads in by_lane.items()
            ])  # fmt: skip
        except redis.RedisError as exc:
            self._mark_down(exc)
            return False
        if not self._redis_ok:
            log.info("redis reachable again at %s; replaying the spool", redact(self.redis_url))
        self._redis_ok, self._failures = True, 0
        return True

    def _settle(self) -> None:
        """Confirm held batches (`ground.held`) or give them to a new primary, also idle."""
        if not self._redis_ok and time.monotonic() < self._retry_at:
            return
        try:
            self._xadd_many.settle()
        except redis.RedisError as exc:
            self._mark_down(exc)
            return
        self._redis_ok, self._failures = True, 0

    def _mark_down(self, exc: Exception) -> None:
        self._failures += 1
        delay = backoff(self._failures, base=_RETRY_BASE_S, cap=_RETRY_CAP_S)
        self._retry_at = time.monotonic() + delay
        if self._redis_ok:
            log.warning(
                "redis unreachable at %s (%s): spooling to %s",
                self.location,
                redact(str(exc)),
                self._spool.path,
            )
        self._redis_ok = False

    def _send_beats(self) -> None:
        """SET every pending heartbeat in one round trip; kept (newest per name) until
        Redis answers, retried on the spool's schedule."""
        if not self._redis_ok and time.monotonic() < self._retry_at:
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            for name, at_ms in self._beats.items():
                pipe.set(keyspace.heartbeat(name), at_ms, ex=keyspace.HEARTBEAT_TTL_S)
            pipe.execute()
        except redis.RedisError as exc:
            self._mark_down(exc)
            return
        self._beats.clear()
        if not self._redis_ok:
            log.info("redis reachable again at %s", redact(self.redis_url))
            self._redis_ok, self._failures = True, 0

    def _release_markers(self) -> None:
        if self._waiting and not self._spool.pending and not self._beats:
            for marker in self._waiting:
                marker.done.set()
            self._waiting.clear()

    def _publish_stats(self) -> None:
        now = time.monotonic()
        if now < self._stats_due or not self._redis_ok:
            return
        self._stats_due = now + _STATS_EVERY_S
        stats = self.stats()
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.hset(self._stats_key, mapping={k: v for k, v in stats._asdict().items()})
            pipe.expire(self._stats_key, 60)
            pipe.execute()
        except redis.RedisError as exc:
            self._mark_down(exc)


@atexit.register
def _close_all() -> None:
    for publisher in list(_live):
        publisher.close(timeout=2.0)
