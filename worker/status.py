"""`herald status`: one read-only snapshot of the engine, with a verdict and what to do.

Everything is read from Redis, so any host that can reach it can answer "is Herald
delivering?", and no process has to be asked. The snapshot holds counts, ages and
names, never a webhook URL: `webhook` says only "configured", "none" or "dead".
"""

import time
from collections.abc import Mapping
from typing import Literal

import msgspec
import redis
from rq import Worker

from herald.errors import InvalidEvent
from herald.redact import redact
from producer.streams import LANES, PRODUCER_STATS_PREFIX, stream_key
from schemas.codec import decode
from schemas.ids import event_id_millis
from worker import keys
from worker.config import Settings, budget_key
from worker.dlq import DeadLetterQueue
from worker.flush import WINDOW_MARGIN_S
from worker.outbox import unpack
from worker.ratelimit import RateBudget, Window

WORKER_HEARTBEAT_S = 60.0
"""An RQ worker silent longer than this is not counted (service.py makes it beat every 20 s)."""
DLQ_NEWEST = 5

WebhookState = Literal["configured", "none", "dead"]


class ChannelStatus(msgspec.Struct, kw_only=True):
    name: str
    webhook: WebhookState
    dead_reason: str | None
    published: int
    """Events the dispatcher put in this channel's outbox, ever (after dedupe)."""
    queued: int
    delivered: int
    digested: int
    folded: int
    """Repeats suppressed by dedupe, for the event kinds routed here."""
    dead_lettered: int
    messages: int
    requests: int
    rate_limited: int
    retries: int
    retry_at: float | None
    """Epoch seconds of a scheduled retry or throttle, if still ahead."""
    next_send_in_s: float | None
    """Seconds until the rate budget and any backoff allow the next request."""
    oldest_undelivered_age_s: float | None
    in_flight: bool
    last_error: str | None
    last_delivered_at: float | None


class LaneStatus(msgspec.Struct, kw_only=True):
    name: str
    stream: str
    length: int
    lag: int | None
    """Entries no dispatcher has read yet (None when Redis cannot tell after a trim)."""
    pending: int
    """Entries read but not acknowledged (a dispatcher is on them, or died holding them)."""
    oldest_age_s: float | None
    """Age of the oldest entry not yet read by the dispatchers."""


class ProducerStatus(msgspec.Struct, kw_only=True):
    key: str
    """`<source>:<host>:<pid>`."""
    source: str
    published: int
    flushed: int
    spooled: int
    dropped: int
    buffered: int


class DeadLetterSummary(msgspec.Struct, kw_only=True):
    id: str
    time: float
    channel: str | None
    kind: str | None
    reason: str


class Totals(msgspec.Struct, kw_only=True):
    """Engine-wide counters from `herald:stats`."""

    events_in: dict[str, int]
    duplicates: int
    folded: int
    delivered: int
    digested: int
    dead_lettered: int
    rate_limited: dict[str, int]
    retries: int
    messages: int
    requests: int
    replayed: int
    unrouted: int


class Status(msgspec.Struct, kw_only=True):
    time: float
    redis: str
    """The Redis URL, password redacted."""
    healthy: bool
    problems: list[str]
    max_lag_s: float
    channels: list[ChannelStatus]
    lanes: list[LaneStatus]
    workers_alive: int
    workers: list[str]
    dispatchers_alive: int
    dispatchers: list[str]
    producers: list[ProducerStatus]
    dlq_size: int
    dlq_newest: list[DeadLetterSummary]
    totals: Totals


def collect(client: redis.Redis, settings: Settings) -> Status:
    """Read a snapshot; raises `redis.RedisError` when Redis cannot be reached."""
    now = time.time()
    stats = _ints(client.hgetall(keys.STATS))
    dispatchers = sorted(
        key.decode()[len(keys.DISPATCHERS) :]
        for key in client.scan_iter(match=keys.DISPATCHERS + "*", count=1000)
    )
    channels = _channels(client, settings, stats, now, dispatchers)
    lanes = [lane_status(client, stream_key(lane), lane.value) for lane in LANES]
    workers = _workers(client, now)
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
    status = Status(
        time=now,
        redis=redact(settings.redis_url),
        healthy=True,
        problems=[],
        max_lag_s=settings.max_lag_s,
        channels=channels,
        lanes=lanes,
        workers_alive=len(workers),
        workers=workers,
        dispatchers_alive=len(dispatchers),
        dispatchers=dispatchers,
        producers=_producers(client),
        dlq_size=len(queue),
        dlq_newest=newest,
        totals=_totals(stats),
    )
    status.problems = diagnose(status)
    status.healthy = not status.problems
    return status


# -- reading ------------------------------------------------------------------------------


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
        pipe.llen(keys.outbox(name))
        pipe.hgetall(keys.channel_state(name))
        pipe.exists(keys.flush_lock(name))
        pipe.lindex(keys.outbox(name), 0)
    for name in dispatchers:
        pipe.hgetall(keys.dispatcher_webhooks(name))
    replies = pipe.execute()
    elsewhere = {  # what the running dispatchers hold a webhook for
        channel.decode(): key.decode()
        for held in replies[4 * len(names) :]
        for channel, key in held.items()
    }
    budget = RateBudget(
        client, windows=[Window(n, s + WINDOW_MARGIN_S) for n, s in settings.rate_windows]
    )
    out = []
    for i, name in enumerate(names):
        queued, raw_state, locked, head = replies[4 * i : 4 * i + 4]
        state = {k.decode(): v.decode(errors="replace") for k, v in raw_state.items()}
        channel = settings.channels[name]
        dead = state.get("dead")
        known = channel.webhook_url or name in elsewhere
        webhook: WebhookState = "dead" if dead else "configured" if known else "none"
        retry_at = _float(state.get("retry_at"))
        retry_at = retry_at if retry_at and retry_at > now else None
        next_send = None
        if webhook == "configured":
            rate = budget.state(elsewhere.get(name) or budget_key(channel))
            next_send = max(0.0, rate["next_allowed"] - rate["now"], (retry_at or now) - now)
        last_delivered = _float(state.get("last_delivered_ms"))
        out.append(
            ChannelStatus(
                name=name,
                webhook=webhook,
                dead_reason=redact(dead) if dead else None,
                published=stats.get(f"queued:{name}", 0),
                queued=int(queued),
                delivered=_int(state.get("delivered")),
                digested=_int(state.get("digested")),
                folded=sum(
                    stats.get(f"folded:{kind}", 0)
                    for kind, targets in settings.routes.items()
                    if name in targets
                ),
                dead_lettered=_int(state.get("dead_lettered")),
                messages=_int(state.get("messages")),
                requests=_int(state.get("requests")),
                rate_limited=sum(_int(v) for k, v in state.items() if k.startswith("429:")),
                retries=_int(state.get("retries")),
                retry_at=retry_at,
                next_send_in_s=next_send,
                oldest_undelivered_age_s=_age_of_item(head, now),
                in_flight=bool(locked),
                last_error=redact(state["last_error"]) if state.get("last_error") else None,
                last_delivered_at=last_delivered / 1000 if last_delivered else None,
            )
        )
    return out


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


def lane_status(client: redis.Redis, stream: str, name: str) -> LaneStatus:
    """Length, lag and pending of one lane's stream for the dispatchers' group."""
    length = int(client.xlen(stream))
    group: dict[str, object] | None = None
    if length or client.exists(stream):
        for info in client.xinfo_groups(stream):
            if _text(info.get("name")) == keys.GROUP:
                group = {_text(k): v for k, v in info.items()}
    if group is None:  # no dispatcher has ever run: everything is unread
        first = client.xrange(stream, count=1)
        lag: int | None = length
        pending = 0
    else:
        last = _text(group.get("last-delivered-id")) or "0-0"
        first = client.xrange(stream, min=f"({last}", count=1)
        raw_lag = group.get("lag")
        lag = int(raw_lag) if isinstance(raw_lag, int | bytes | str) else None
        pending = int(group.get("pending") or 0)  # type: ignore[call-overload]
        if not first:  # caught up; Redis can report a stale lag after a restart
            lag = 0
    oldest = None
    if first:
        oldest = max(0.0, time.time() - int(_text(first[0][0]).split("-")[0]) / 1000)
    return LaneStatus(
        name=name, stream=stream, length=length, lag=lag, pending=pending, oldest_age_s=oldest
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
    for key in sorted(client.scan_iter(match=PRODUCER_STATS_PREFIX + "*", count=1000)):
        data = _ints(client.hgetall(key))
        if not data:  # expired between SCAN and HGETALL
            continue
        ident = key.decode()[len(PRODUCER_STATS_PREFIX) :]
        out.append(
            ProducerStatus(
                key=ident,
                source=ident.rsplit(":", 2)[0],
                published=data.get("published", 0),
                flushed=data.get("flushed", 0),
                spooled=data.get("spooled", 0),
                dropped=data.get("dropped", 0),
                buffered=data.get("buffered", 0),
            )
        )
    return out


def _totals(stats: Mapping[str, int]) -> Totals:
    return Totals(
        events_in={k[3:]: v for k, v in sorted(stats.items()) if k.startswith("in:")},
        duplicates=stats.get("duplicates", 0),
        folded=stats.get("folded", 0),
        delivered=stats.get("delivered", 0),
        digested=stats.get("digested", 0),
        dead_lettered=stats.get("dead_lettered", 0),
        rate_limited={k[4:]: v for k, v in sorted(stats.items()) if k.startswith("429:")},
        retries=stats.get("retries", 0),
        messages=stats.get("messages", 0),
        requests=stats.get("requests", 0),
        replayed=stats.get("replayed", 0),
        unrouted=stats.get("unrouted", 0),
    )


# -- the verdict --------------------------------------------------------------------------


def diagnose(status: Status) -> list[str]:
    """One sentence per problem: what is wrong, where, and what to do about it."""
    problems = []
    for c in status.channels:
        env = "HERALD_WEBHOOK_" + c.name.upper().replace("-", "_")
        if c.webhook == "dead":
            problems.append(
                f"#{c.name}: Discord says its webhook is gone ({c.dead_reason}); its events "
                f"go to the dead-letter queue. Create a new webhook, set it in {env} (or "
                f"herald.toml), restart Herald, then run "
                f"`herald dlq replay --channel {c.name}`."
            )
        elif c.webhook == "none" and c.queued:
            problems.append(
                f"#{c.name}: {_n(c.queued, 'event')} waiting but no webhook is configured. "
                f"Set {env} (or channels.{c.name}.webhook in herald.toml) and restart the "
                "workers, or route those events elsewhere."
            )
        elif (c.oldest_undelivered_age_s or 0) > status.max_lag_s:
            why = f"; last error: {c.last_error}" if c.last_error else ""
            wait = f"; next send in {format_age(c.next_send_in_s)}" if c.next_send_in_s else ""
            age, limit = format_age(c.oldest_undelivered_age_s), format_age(status.max_lag_s)
            problems.append(
                f"#{c.name}: backlog of {_n(c.queued, 'event')}, the oldest waiting {age} "
                f"(limit {limit}){wait}{why}. Check that `herald worker` is running and "
                "look at its log."
            )
    for lane in status.lanes:
        if (lane.oldest_age_s or 0) > status.max_lag_s:
            waiting = _n(lane.lag, "event") if lane.lag is not None else "events"
            problems.append(
                f"The {lane.name} stream has {waiting} not yet dispatched, the oldest "
                f"{format_age(lane.oldest_age_s)} old. "
                "Check that `herald dispatch` is running and look at its log."
            )
    if status.dlq_size:
        newest = status.dlq_newest[0] if status.dlq_newest else None
        latest = f" (newest: {newest.channel or 'no channel'}: {newest.reason})" if newest else ""
        problems.append(
            f"{_n(status.dlq_size, 'event')} in the dead-letter queue{latest}. Inspect them with "
            "`herald dlq ls`, fix the cause, then `herald dlq replay` (or `herald dlq drop`)."
        )
    deliverable = sum(c.queued for c in status.channels if c.webhook == "configured")
    undispatched = sum((lane.lag or 0) + lane.pending for lane in status.lanes)
    if not status.dispatchers_alive and (undispatched or deliverable):
        problems.append(
            f"No dispatcher is running, with {_n(undispatched, 'event')} waiting in the "
            f"streams and {deliverable} in outboxes. Start `herald dispatch` (or check "
            "supervisord)."
        )
    if not status.workers_alive and deliverable:
        problems.append(
            f"No delivery worker is running, with {_n(deliverable, 'event')} waiting to be sent. "
            "Start `herald worker` (or check supervisord)."
        )
    return problems


# -- helpers ------------------------------------------------------------------------------


def format_age(seconds: float | None) -> str:
    s = round(seconds or 0.0)
    if s < 60:
        return f"{seconds or 0:.1f}s" if s < 10 else f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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
