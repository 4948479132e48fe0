"""Makes sure every channel with work has exactly one flush job queued or running.

The schedule lives in Redis: a channel's `retry_at` (backoff or throttling) and its
lock lease. A dead worker's lease expires within seconds, and the next sweep queues a
fresh job, so recovery never waits for RQ's 10-minute maintenance pass.
"""

import time
from collections.abc import Iterable
from typing import Final

import redis
from rq import Queue

from ground import keyspace
from worker.channels import CRITICAL_ALERTS, MARKET_DATA
from worker.config import Settings

QUEUE_CRITICAL: Final = "herald-critical"
QUEUE_DEFAULT: Final = "herald-default"
QUEUE_BULK: Final = "herald-bulk"
QUEUES: Final = (QUEUE_CRITICAL, QUEUE_DEFAULT, QUEUE_BULK)
"""In priority order: RQ workers take from the first non-empty queue."""
QUEUED_TTL_S: Final = 60
JOB_TIMEOUT_S: Final = 120


def queue_for(channel: str) -> str:
    if channel == CRITICAL_ALERTS:
        return QUEUE_CRITICAL
    return QUEUE_BULK if channel == MARKET_DATA else QUEUE_DEFAULT


class Kicker:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self._queues = {name: Queue(name, connection=client) for name in QUEUES}

    def kick(self, channels: Iterable[str]) -> int:
        """Queue a flush job for each channel that needs one now; returns how many."""
        return sum(1 for channel in channels if self._maybe_enqueue(channel))

    def sweep(self) -> int:
        """Check every channel: backlog, due retries, and leases of dead workers."""
        pipe = self.redis.pipeline(transaction=False)
        for channel in self.settings.channels:
            pipe.llen(keyspace.outbox(channel))
        lengths = pipe.execute()
        busy = [c for c, n in zip(self.settings.channels, lengths, strict=True) if n]
        return self.kick(busy)

    def _maybe_enqueue(self, channel: str) -> bool:
        if self.settings.channels[channel].webhook_url is None:
            return False  # kept in the outbox; `herald status` shows it
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(keyspace.flush_lock(channel))
        pipe.hget(keyspace.channel_state(channel), keyspace.STATE_RETRY_AT)
        locked, retry_at = pipe.execute()
        if locked or (retry_at and float(retry_at) > time.time()):
            return False
        return self._enqueue_once(channel)

    def _enqueue_once(self, channel: str) -> bool:
        """Set the channel's `flush_queued` marker and queue its job in one MULTI: a
        failover's rollback keeps both or neither (a marker without its job would hold
        the channel back for `QUEUED_TTL_S`). WATCH makes it "only if not set yet"."""
        marker = keyspace.flush_queued(channel)
        with self.redis.pipeline() as pipe:
            try:
                pipe.watch(marker)  # type: ignore[no-untyped-call]
                if pipe.exists(marker):
                    return False
                pipe.multi()
                pipe.set(marker, 1, ex=QUEUED_TTL_S)
                self._queues[queue_for(channel)].enqueue(
                    "worker.flush.flush_channel",
                    channel,
                    job_timeout=JOB_TIMEOUT_S,
                    result_ttl=0,
                    failure_ttl=24 * 3600,
                    pipeline=pipe,
                )
                pipe.execute()
            except redis.WatchError:
                return False  # another dispatcher queued it first
        return True
