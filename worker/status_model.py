"""What `herald status` reports: the shape of one snapshot of the engine.

`worker.status` reads it from Redis, `worker.verdict` judges it and `worker.status_view`
draws it; `herald status --json` prints it as is. It holds counts, ages and names, never
a webhook URL: `webhook` says only "configured", "none" or "dead".
"""

from typing import Literal

import msgspec

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
    lag: int
    """Entries no dispatcher has read yet (at least 1 while one is unread, even when
    Redis cannot count them after a trim; see `worker.lanes`)."""
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
    """Engine-wide counters (`ground.keyspace.STATS`)."""

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
