"""`herald status`: read one snapshot of the engine (`worker.status_model`) from Redis.

Everything is read from Redis, so any host that can reach it can answer "is Herald
delivering?", and no process has to be asked. `worker.verdict` judges the snapshot:
problems (exit 1) and notes, such as a backlog draining at Discord's limit (still healthy).

The monitor's checks are read too and shown as they are: a check that is down is the
monitor's to page, so it does not make Herald unhealthy; only a monitor that has stopped
running every check does (`monitor-stale`).
"""

import time
from collections.abc import Mapping
from typing import Any

import msgspec
import redis
from rq import Worker

from ground import keyspace
from ground.connect import describe
from ground.errors import InvalidEvent
from ground.redact import redact
from ground.settings import budget_key
from producer.publisher import PublisherStats
from producer.streams import LANES, stream_key
from schemas.codec import decode
from schemas.ids import event_id_millis
from worker import replication
from worker.config import Settings
from worker.dlq import DeadLetterQueue
from worker.lanes import lane_lag
from worker.mutes import decode_all, shown
from worker.outbox import unpack
from worker.ratelimit import RateBudget, budget_windows
from worker.status_books import books_status
from worker.status_model import (
    ChannelStatus,
    CheckStatus,
    DeadLetterSummary,
    LaneStatus,
    MuteStatus,
    ProducerStatus,
    RateWindow,
    Status,
    Totals,
    WebhookState,
)
from worker.verdict import diagnose, notes

WORKER_HEARTBEAT_S = 60.0
"""An RQ worker silent longer than this is not counted (service.py makes it beat every 20 s)."""
DLQ_NEWEST = 5
_PER_CHANNEL = 4
"""Replies per channel in `_channels`' pipeline."""


def collect(client: redis.Redis, settings: Settings) -> Status:
    """Read a snapshot; raises `redis.RedisError` when Redis cannot be reached."""
    now = time.time()
    stats = _ints(client.hgetall(keyspace.STATS))
    dispatchers = sorted(
        key.decode()[len(keyspace.DISPATCHERS) :]
        for key in client.scan_iter(match=keyspace.DISPATCHERS + "*", count=1000)
    )
    workers = _workers(client, now)
    dlq_size, dlq_newest = _dead_letters(client)
    status = Status(
        time=now,
        redis=describe(settings.redis_url),
        healthy=True,
        problems=[],
        max_lag_s=settings.max_lag_s,
        rate_windows=[RateWindow(messages=n, seconds=s) for n, s in settings.rate_windows],
        channels=_channels(client, settings, stats, now, dispatchers),
        lanes=[lane_status(client, stream_key(lane), lane.value) for lane in LANES],
        workers_alive=len(workers),
        workers=workers,
        dispatchers_alive=len(dispatchers),
        dispatchers=dispatchers,
        producers=_producers(client),
        dlq_size=dlq_size,
        dlq_newest=dlq_newest,
        totals=_totals(stats),
        checks=monitor_checks(client, now),
        books=books_status(client, now),
        replication=replication.read(client),
        mutes=[
            MuteStatus(target=shown(m.target), until=m.until, by=m.by)
            for m in decode_all(client.hgetall(keyspace.MUTES), now)
        ],
    )
    status.problems = diagnose(status)
    status.notes = notes(status)
    status.healthy = not status.problems
    return status


# -- channels -----------------------------------------------------------------------------


def _channels(
    client: redis.Redis,
    settings: Settings,
    stats: Mapping[str, int],
    now: float,
    dispatchers: list[str],
) -> list[ChannelStatus]:
    names = list(settings.channels)
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.llen(keyspace.outbox(name))
        pipe.hgetall(keyspace.channel_state(name))
        pipe.exists(keyspace.flush_lock(name))
        pipe.lindex(keyspace.outbox(name), 0)
    for name in dispatchers:
        pipe.hgetall(keyspace.dispatcher_webhooks(name))
    replies = pipe.execute()
    held = {  # what the running dispatchers hold a webhook for: channel -> budget key
        channel.decode(): key.decode()
        for webhooks in replies[_PER_CHANNEL * len(names) :]
        for channel, key in webhooks.items()
    }
    budget = RateBudget(client, windows=budget_windows(settings.rate_windows))
    return [
        _channel_status(
            settings,
            name,
            replies[_PER_CHANNEL * i : _PER_CHANNEL * (i + 1)],
            stats=stats,
            held=held,
            budget=budget,
            now=now,
        )
        for i, name in enumerate(names)
    ]


def _channel_status(
    settings: Settings,
    name: str,
    replies: list[Any],
    *,
    stats: Mapping[str, int],
    held: Mapping[str, str],
    budget: RateBudget,
    now: float,
) -> ChannelStatus:
    """One channel from its replies: outbox length, state hash, flush lock, outbox head."""
    queued, raw_state, locked, head = replies
    state = {k.decode(): v.decode(errors="replace") for k, v in raw_state.items()}
    channel = settings.channels[name]
    dead = state.get(keyspace.STATE_DEAD)
    known = channel.webhook_url or name in held
    webhook: WebhookState = "dead" if dead else "configured" if known else "none"
    retry_at = _float(state.get(keyspace.STATE_RETRY_AT))
    retry_at = retry_at if retry_at and retry_at > now else None
    next_send = None
    if webhook == "configured":
        next_send = _next_send_in(budget, held.get(name) or budget_key(channel), retry_at, now)
    last_error = state.get(keyspace.STATE_LAST_ERROR)
    last_delivered = _float(state.get(keyspace.STATE_LAST_DELIVERED_MS))
    return ChannelStatus(
        name=name,
        webhook=webhook,
        dead_reason=redact(dead) if dead else None,
        published=stats.get(keyspace.QUEUED_PREFIX + name, 0),
        queued=int(queued),
        delivered=_int(state.get(keyspace.DELIVERED)),
        digested=_int(state.get(keyspace.DIGESTED)),
        folded=_folded(stats, settings.routes, name),
        dead_lettered=_int(state.get(keyspace.DEAD_LETTERED)),
        messages=_int(state.get(keyspace.MESSAGES)),
        requests=_int(state.get(keyspace.REQUESTS)),
        rate_limited=sum(
            _int(n) for counter, n in state.items() if counter.startswith(keyspace.LIMITED_PREFIX)
        ),
        retries=_int(state.get(keyspace.RETRIES)),
        retry_at=retry_at,
        next_send_in_s=next_send,
        oldest_undelivered_age_s=_age_of_item(head, now),
        in_flight=bool(locked),
        last_error=redact(last_error) if last_error else None,
        attempts=_int(state.get(keyspace.STATE_ATTEMPTS)),
        last_delivered_at=last_delivered / 1000 if last_delivered else None,
        digest=channel.digest,
    )


def _next_send_in(budget: RateBudget, key: str, retry_at: float | None, now: float) -> float:
    """Seconds until the rate budget and any scheduled retry allow the next request."""
    rate = budget.state(key)
    return max(0.0, float(rate["next_allowed"] - rate["now"]), (retry_at or now) - now)


def _folded(stats: Mapping[str, int], routes: Mapping[str, tuple[str, ...]], name: str) -> int:
    """Repeats folded by dedupe, for the event kinds routed to channel `name`."""
    return sum(
        stats.get(keyspace.FOLDED_PREFIX + kind, 0)
        for kind, targets in routes.items()
        if name in targets
    )


def _age_of_item(packed: bytes | None, now: float) -> float | None:
    """When the head of an outbox was queued (or, failing that, published)."""
    if packed is None:
        return None
    item = unpack(packed)
    millis = item.queued_ms
    if not millis:
        try:
            millis = event_id_millis(decode(item.raw).id)
        except (InvalidEvent, ValueError):
            return None
    return max(0.0, now - millis / 1000)


# -- streams, processes, the DLQ, totals ----------------------------------------------------


def lane_status(client: redis.Redis, stream: str, name: str) -> LaneStatus:
    """Length, lag and pending of one lane's stream for the dispatchers' group."""
    length = int(client.xlen(stream))
    lag = lane_lag(client, stream)
    oldest = None
    if lag.oldest_unread_ms is not None:
        oldest = max(0.0, time.time() - lag.oldest_unread_ms / 1000)
    return LaneStatus(
        name=name,
        stream=stream,
        length=length,
        lag=lag.unread,
        pending=lag.pending,
        oldest_age_s=oldest,
    )


def _workers(client: redis.Redis, now: float) -> list[str]:
    names = []
    for worker in Worker.all(connection=client):
        beat = worker.last_heartbeat
        if beat is not None and now - beat.timestamp() <= WORKER_HEARTBEAT_S:
            names.append(str(worker.name))
    return sorted(names)


def _producers(client: redis.Redis) -> list[ProducerStatus]:
    out = []
    for key in sorted(client.scan_iter(match=keyspace.PRODUCERS + "*", count=1000)):
        data = _ints(client.hgetall(key))
        if not data:  # expired between SCAN and HGETALL
            continue
        ident = key.decode()[len(keyspace.PRODUCERS) :]
        # the hash holds a PublisherStats, field by field
        stats = PublisherStats(*(data.get(field, 0) for field in PublisherStats._fields))
        out.append(
            ProducerStatus(
                key=ident,
                source=ident.rsplit(":", 2)[0],
                published=stats.published,
                flushed=stats.flushed,
                spooled=stats.spooled,
                dropped=stats.dropped,
                buffered=stats.buffered,
            )
        )
    return out


def _dead_letters(client: redis.Redis) -> tuple[int, list[DeadLetterSummary]]:
    """The DLQ's size and its newest entries."""
    queue = DeadLetterQueue(client)
    newest = [
        DeadLetterSummary(
            id=e.id,
            time=e.last_failed_ms / 1000,
            channel=e.channel,
            kind=e.kind,
            reason=redact(e.reason),
        )
        for e in queue.entries(limit=DLQ_NEWEST)
    ]
    return len(queue), newest


def monitor_checks(client: redis.Redis, now: float) -> list[CheckStatus]:
    """The monitor's last word on each check, down ones first; one that does not decode
    (another version's monitor, a stray write) is left out."""
    checks = []
    for raw in dict(client.hgetall(keyspace.MONITOR_CHECKS)).values():
        try:
            check = msgspec.json.decode(raw, type=CheckStatus)
        except msgspec.DecodeError:
            continue
        check.stale = check.is_stale(now)
        check.last_detail = redact(check.last_detail)
        checks.append(check)
    return sorted(checks, key=lambda c: (c.state != "down", c.name))


def _totals(stats: Mapping[str, int]) -> Totals:
    return Totals(
        events_in=_by_suffix(stats, keyspace.IN_PREFIX),
        duplicates=stats.get(keyspace.DUPLICATES, 0),
        folded=stats.get(keyspace.FOLDED, 0),
        delivered=stats.get(keyspace.DELIVERED, 0),
        digested=stats.get(keyspace.DIGESTED, 0),
        dead_lettered=stats.get(keyspace.DEAD_LETTERED, 0),
        rate_limited=_by_suffix(stats, keyspace.LIMITED_PREFIX),
        retries=stats.get(keyspace.RETRIES, 0),
        messages=stats.get(keyspace.MESSAGES, 0),
        requests=stats.get(keyspace.REQUESTS, 0),
        replayed=stats.get(keyspace.REPLAYED, 0),
        unrouted=stats.get(keyspace.UNROUTED, 0),
        muted=stats.get(keyspace.MUTED, 0),
    )


# -- helpers ------------------------------------------------------------------------------


def _by_suffix(counters: Mapping[str, int], prefix: str) -> dict[str, int]:
    """`{"user": 3}` from `{"429:user": 3}` for the prefix `429:`, sorted by name."""
    return {
        name[len(prefix) :]: n for name, n in sorted(counters.items()) if name.startswith(prefix)
    }


def _ints(reply: object) -> dict[str, int]:
    out = {}
    for k, v in dict(reply).items():  # type: ignore[call-overload]
        try:
            out[_text(k)] = int(v)
        except ValueError:
            continue
    return out


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")
