"""What `herald status` reports: the shape of one snapshot of the engine.

`worker.status` reads it from Redis, `worker.verdict` judges it and `worker.status_view`
draws it; `herald status --json` prints it as is. It holds counts, ages and names, never
a webhook URL: `webhook` says only "configured", "none" or "dead".

`checks` are what `herald monitor` last found (it writes each `CheckStatus` to Redis):
shown beside Herald's own state, not judged with it. A check that is down is the
monitor's to page; `healthy` stays about Herald's own delivery.
"""

from typing import Literal

import msgspec

from worker.replication import ReplicationStatus

WebhookState = Literal["configured", "none", "dead"]
CheckState = Literal["up", "pending", "down", "maintenance"]

STALE_INTERVALS = 3
"""A check not run for this many of its intervals is stale: is the monitor running?"""


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
    attempts: int
    """Failed attempts in a row at the head of the outbox (0 once one succeeds)."""
    last_delivered_at: float | None
    digest: bool
    """A backlog longer than it can send within `max_lag` collapses into a digest."""


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
    muted: int = 0
    """Events not sent because of a mute (`/alerts off`), still in the ledger."""


class MuteStatus(msgspec.Struct, kw_only=True):
    """A mute in force (`ground.keyspace.MUTES`), listed so nobody forgets one."""

    target: str
    """`all`, `#<channel>` or the event kind."""
    until: float
    by: str
    """The Discord user id who set it."""


class RateWindow(msgspec.Struct, kw_only=True):
    """One window of `delivery.rate`: at most `messages` per webhook in `seconds`."""

    messages: int
    seconds: float


class CheckStatus(msgspec.Struct, kw_only=True):
    """One monitor check as the monitor last saw it (`ground.keyspace.MONITOR_CHECKS`)."""

    name: str
    kind: str
    state: CheckState
    since: float
    """Epoch seconds since the check has been in `state`."""
    last_latency_ms: float | None
    last_detail: str
    last_at: float
    """Epoch seconds of the last run."""
    server: str
    """The server the check is about, as the monitor's config names it (`-`: none)."""
    interval_s: float
    stale: bool = False
    """Set by `herald status`, not the monitor: not run for `STALE_INTERVALS` intervals."""

    def is_stale(self, now: float) -> bool:
        return now - self.last_at > STALE_INTERVALS * self.interval_s


class BooksStatus(msgspec.Struct, kw_only=True):
    """`herald books`' consumer group on the lanes it reads (`worker.status_books`)."""

    unread: int
    pending: int
    behind_s: float
    """Age of the oldest entry not yet counted (0: caught up)."""


class Status(msgspec.Struct, kw_only=True):
    time: float
    redis: str
    """The Redis URL, password redacted."""
    healthy: bool
    """No problem with Herald's own delivery (and the monitor not silent)."""
    problems: list[str]
    """What is wrong and what to do, one sentence each (`worker.verdict`)."""
    notes: list[str] = msgspec.field(default_factory=list)
    """What looks wrong but is not, e.g. a backlog draining at Discord's limit."""
    max_lag_s: float
    rate_windows: list[RateWindow]
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
    checks: list[CheckStatus] = msgspec.field(default_factory=list)
    """The monitor's checks, down ones first, then by name."""
    mutes: list[MuteStatus] = msgspec.field(default_factory=list)
    """Mutes in force, the soonest to end first."""
    books: BooksStatus | None = None
    """How far the books are behind; None when `herald books` never ran here."""
    replication: ReplicationStatus | None = None
    """The primary this status was read from and its replicas' lag (`worker.replication`)."""
