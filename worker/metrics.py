"""Prometheus metrics: what this process did, plus the engine's state read from Redis.

Two kinds, on purpose. Counters of what *this process* did (entries it dispatched,
requests it sent, their latency) live in memory and are incremented at the point of the
outcome. Engine-wide facts (duplicates and folds decided inside the commit script, queue
depths, the DLQ) are read from Redis when Prometheus scrapes, by `EngineCollector`: the
Lua scripts already count them atomically in the stats hash (`keyspace.STATS`), so
copying them into process memory would only add a second, drifting count. Every process
exposes the same engine-wide values; aggregate those with `max`, not `sum`.

Labels are channel names, lanes, kinds, scopes and results: never a URL.
"""

import logging
import os
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Final

import redis
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ground import keyspace
from ground.errors import HeraldError
from producer.streams import LANES, stream_key
from schemas.ids import event_id_millis
from worker import replication
from worker.config import Settings
from worker.discord import OutcomeKind
from worker.lanes import lane_lag

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from producer.publisher import Publisher

log = logging.getLogger("herald.metrics")

LATENCY_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip
"""Publish -> delivered: 5 ms (idle engine) to 5 min (a backlog under the rate limits)."""

# -- dispatcher (per process) -----------------------------------------------------------

DISPATCHED = Counter(
    "herald_dispatcher_events",
    "Stream entries this dispatcher handed on (before dedupe), by lane and event kind",
    ["lane", "kind"],
)
DISPATCH_DEAD = Counter(
    "herald_dispatcher_dead_lettered",
    "Stream entries this dispatcher dead-lettered (undecodable or redelivered too often)",
    ["lane"],
)

# -- flush worker (per process) ---------------------------------------------------------

DELIVERIES = Counter(
    "herald_deliveries",
    "Webhook requests by channel and result (sent, limited, invalid, gone, retry)",
    ["channel", "result"],
)
DELIVERED_EVENTS = Counter(
    "herald_delivered_events",
    "Events delivered, by channel and mode (message, or digest for a collapsed backlog)",
    ["channel", "mode"],
)
REQUESTS = Counter("herald_requests", "Requests sent to Discord, by channel", ["channel"])
RETRIES = Counter("herald_retries", "Failed attempts scheduled for retry, by channel", ["channel"])
RATE_LIMITED = Counter(
    "herald_rate_limited", "429 answers by channel and scope", ["channel", "scope"]
)
DEAD_LETTERED = Counter(
    "herald_dead_lettered", "Events this worker dead-lettered, by channel", ["channel"]
)
LATENCY = Histogram(
    "herald_delivery_latency_seconds",
    "Publish (event id time) to delivered, per event",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)

_RESULTS: Final = {
    OutcomeKind.DELIVERED.value: "sent",
    OutcomeKind.RATE_LIMITED.value: "limited",
    OutcomeKind.INVALID.value: "invalid",
    OutcomeKind.GONE.value: "gone",
    OutcomeKind.RETRYABLE.value: "retry",
}


def dispatched(lane: str, kinds: Mapping[str, int], *, dead_lettered: int) -> None:
    """One committed dispatcher batch from `lane`'s stream."""
    for kind, n in kinds.items():
        DISPATCHED.labels(lane, kind).inc(n)
    if dead_lettered:
        DISPATCH_DEAD.labels(lane).inc(dead_lettered)


def delivery(channel: str, outcome: str, event_ids: list[str], *, digest: bool) -> str:
    """One webhook request and its outcome kind; returns the `result` label."""
    result = _RESULTS.get(outcome, outcome)
    DELIVERIES.labels(channel, result).inc()
    if result == "sent":
        DELIVERED_EVENTS.labels(channel, "digest" if digest else "message").inc(len(event_ids))
        now_ms = time.time() * 1000
        histogram = LATENCY.labels(channel)
        for event_id in event_ids:
            histogram.observe(max(0.0, now_ms - event_id_millis(event_id)) / 1000)
    return result


def counted(channel: str, name: str) -> None:
    """Mirror a channel counter of the flush job (`requests`, `retries`, `429:<scope>`)."""
    if name == keyspace.REQUESTS:
        REQUESTS.labels(channel).inc()
    elif name == keyspace.RETRIES:
        RETRIES.labels(channel).inc()
    elif name.startswith(keyspace.LIMITED_PREFIX):
        RATE_LIMITED.labels(channel, name[len(keyspace.LIMITED_PREFIX) :]).inc()


def dead_lettered(channel: str, n: int) -> None:
    DEAD_LETTERED.labels(channel).inc(n)


# -- engine-wide, read from Redis at scrape time ------------------------------------------


class EngineCollector(Collector):
    """Queue depths and the engine's counters, read when scraped (a few Redis round trips)."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.redis = client
        self.settings = settings

    def collect(self) -> Iterator["Metric"]:
        up = GaugeMetricFamily("herald_redis_up", "1 if Redis answered this scrape")
        try:
            metrics = list(self._read())
        except redis.RedisError as exc:
            log.warning("metrics: cannot read Redis: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics

    def _read(self) -> Iterator["Metric"]:
        r = self.redis
        channels = list(self.settings.channels)
        pipe = r.pipeline(transaction=False)
        pipe.hgetall(keyspace.STATS)
        pipe.zcard(keyspace.DLQ_INDEX)
        for channel in channels:
            pipe.llen(keyspace.outbox(channel))
            pipe.hget(keyspace.channel_state(channel), keyspace.STATE_DEAD)
        stats_raw, dlq_size, *per_channel = pipe.execute()
        stats = {k.decode(): int(v) for k, v in stats_raw.items()}

        depth = GaugeMetricFamily(
            "herald_outbox_depth", "Events queued per channel", labels=["channel"]
        )
        dead = GaugeMetricFamily(
            "herald_webhook_dead",
            "1 if the channel's webhook was reported gone",
            labels=["channel"],
        )
        for i, channel in enumerate(channels):
            depth.add_metric([channel], per_channel[2 * i])
            dead.add_metric([channel], 1 if per_channel[2 * i + 1] else 0)
        yield depth
        yield dead
        yield GaugeMetricFamily("herald_dlq_size", "Entries in the dead-letter queue", dlq_size)
        yield from _stream_metrics(r)
        yield from _stats_metrics(stats)
        yield from replication.metrics(replication.read(r))


def _stream_metrics(r: redis.Redis) -> Iterator["Metric"]:
    length = GaugeMetricFamily(
        "herald_stream_length", "Entries in each lane's stream", labels=["lane"]
    )
    lag = GaugeMetricFamily(
        "herald_stream_lag", "Entries not yet read by the dispatchers, by lane", labels=["lane"]
    )
    pending = GaugeMetricFamily(
        "herald_stream_pending", "Entries read but not yet acknowledged, by lane", labels=["lane"]
    )
    for lane in LANES:
        stream = stream_key(lane)
        entries = int(r.xlen(stream))
        behind = lane_lag(r, stream)
        length.add_metric([lane.value], entries)
        lag.add_metric([lane.value], behind.unread)
        pending.add_metric([lane.value], behind.pending)
    yield from (length, lag, pending)


_ENGINE_COUNTERS: Final = {
    keyspace.DUPLICATES: "Events dropped as duplicates (same event id seen before)",
    keyspace.FOLDED: "Repeated alerts folded into an earlier one by dedupe",
    keyspace.DELIVERED: "Events delivered in a normal message",
    keyspace.DIGESTED: "Events delivered inside a digest",
    keyspace.DEAD_LETTERED: "Events and entries moved to the dead-letter queue",
    keyspace.MESSAGES: "Discord messages posted",
    keyspace.REQUESTS: "Requests sent to Discord",
    keyspace.RETRIES: "Failed attempts scheduled for retry",
    keyspace.REPLAYED: "Dead letters replayed",
    keyspace.UNROUTED: "Events with no channel routed",
    keyspace.MUTED: "Events not sent because of a mute (/alerts off)",
}


def _stats_metrics(stats: Mapping[str, int]) -> Iterator["Metric"]:
    events = CounterMetricFamily(
        "herald_engine_events",
        "Events read from the streams, engine-wide, by kind",
        labels=["kind"],
    )
    limited = CounterMetricFamily(
        "herald_engine_rate_limited", "429 answers, engine-wide, by scope", labels=["scope"]
    )
    for name, value in sorted(stats.items()):
        if name.startswith(keyspace.IN_PREFIX):
            events.add_metric([name[len(keyspace.IN_PREFIX) :]], value)
        elif name.startswith(keyspace.LIMITED_PREFIX):
            limited.add_metric([name[len(keyspace.LIMITED_PREFIX) :]], value)
    yield events
    yield limited
    for name, doc in _ENGINE_COUNTERS.items():
        yield CounterMetricFamily(
            f"herald_engine_{name}", doc + ", engine-wide", stats.get(name, 0)
        )


# -- producers ------------------------------------------------------------------------------


class _ProducerCollector(Collector):
    def __init__(self, publisher: "Publisher") -> None:
        self.publisher = publisher

    def collect(self) -> Iterator["Metric"]:
        stats = self.publisher.stats()
        source = [self.publisher.source]
        for name, doc in (
            ("published", "Events accepted by publish()"),
            ("flushed", "Events written to a Redis stream"),
            ("spooled", "Events written to the spool file while Redis was away"),
            ("dropped", "Events refused because the buffer was full or closed"),
        ):
            family = CounterMetricFamily(f"herald_producer_{name}", doc, labels=["source"])
            family.add_metric(source, getattr(stats, name))
            yield family
        buffered = GaugeMetricFamily(
            "herald_producer_buffered", "Events waiting in memory", labels=["source"]
        )
        buffered.add_metric(source, stats.buffered)
        yield buffered


def producer_collector(publisher: "Publisher") -> Collector:
    """Expose an embedded Publisher's counters: `REGISTRY.register(producer_collector(p))`."""
    return _ProducerCollector(publisher)


# -- serving ------------------------------------------------------------------------------


def serve(port: int, *collectors: Collector) -> None:
    """Serve /metrics on `port` from a daemon thread; 0 means off.

    All interfaces by default, for a Prometheus on another host; `HERALD_METRICS_ADDR`
    (e.g. 127.0.0.1) narrows it. The figures are counts, never a URL or token."""
    if port <= 0:
        return
    for collector in collectors:
        REGISTRY.register(collector)
    addr = os.environ.get("HERALD_METRICS_ADDR", "0.0.0.0")  # noqa: S104
    try:
        start_http_server(port, addr=addr)
    except OSError as exc:
        raise HeraldError(
            f"--metrics-port {port} (HERALD_METRICS_ADDR={addr}): cannot listen "
            f"({exc.strerror}); pick a free port"
        ) from None
    log.info("metrics on %s:%d/metrics", addr, port)


def engine_metrics(port: int, client: redis.Redis, settings: Settings) -> None:
    """What `herald dispatch` and `herald worker` serve: their counters plus the engine's."""
    serve(port, EngineCollector(client, settings))


__all__ = [
    "LATENCY_BUCKETS",
    "EngineCollector",
    "counted",
    "dead_lettered",
    "delivery",
    "dispatched",
    "engine_metrics",
    "producer_collector",
    "serve",
]
