"""The report schedule: each period's report once, at its close plus the grace period.

Exactly once, with any number of instances and across restarts, from one Redis hash per
period (`keyspace.books_report`): an instance claims it atomically before publishing and
marks it posted once the event is in Redis. What can go wrong in between:

- another instance ticks meanwhile: the claim is held, it does nothing;
- the holder dies after claiming: it stops refreshing its claim, and once that is older
  than `stale_s` any instance takes it over and publishes again. The event may already
  have reached the streams; both sends carry the same dedupe key (period and version),
  so the dispatcher folds the second into the first rather than posting it twice;
- Redis fails over: replication is asynchronous, so a claim only the dying primary
  took may be missing on the promoted replica, and another instance would claim and
  publish too. A claim is acted on only once a replica confirmed it (`WAIT`, in the
  same pipeline: `ground.replicated.ReplicatedScript`; no `WAIT` with no replica
  attached); an unconfirmed one fails the tick and is claimed (and confirmed) again on
  the next. While a replica is attached but not answering, no report goes out;
- Redis cannot take the event yet (the Publisher spools it): the holder keeps its claim
  fresh and marks the report posted once a flush confirms it.

Herald down over a close: when it comes back, the most recent closed period of each kind
is reported, marked late (older ones are not: a backlog of stale reports helps no one); a
late period with no trades is skipped silently. Trades counted for a reported period
afterwards change its figures: once they have been quiet for the grace period, a short
correction follows (a new version of the same hash, claimed the same way).
"""

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

import redis

from books.periods import KINDS, Period, PeriodKind, period_containing
from books.query import Figures, figures
from books.reports import SOURCE, Publishes, post
from books.settings import ReportSettings
from books.uptime import report_uptime
from ground import keyspace as ks
from ground.replicated import NotReplicated, ReplicatedScript

log = logging.getLogger("herald.books.reports")

LATE_AFTER: Final = timedelta(minutes=5)
"""A report sent this long after its close plus grace says it is late."""
BEHIND_LIMIT_S: Final = 5.0
"""Reports wait while the books are further behind the streams than this."""
CLAIMED, POSTED = "claimed", "posted"

# Returns {status, version}: 0 nothing to do, 1 new claim, 2 claim taken over (stale,
# or already this holder's), 3 correction claimed (the record was at version ARGV[4]).
_CLAIM = """
local key, holder = KEYS[1], ARGV[1]
local now, stale, seen = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HGET', key, '${STATE}')
if not state then
  if seen ~= -1 then return {0, -1} end
  redis.call('HSET', key, '${STATE}', '${CLAIMED}', '${HOLDER}', holder,
             '${CLAIMED_MS}', now, '${VERSION}', 0)
  redis.call('EXPIRE', key, tonumber(ARGV[5]))
  return {1, 0}
end
local version = tonumber(redis.call('HGET', key, '${VERSION}'))
if state == '${CLAIMED}' then
  local owner = redis.call('HGET', key, '${HOLDER}')
  local at = tonumber(redis.call('HGET', key, '${CLAIMED_MS}'))
  if owner ~= holder and now - at <= stale then return {0, version} end
  redis.call('HSET', key, '${HOLDER}', holder, '${CLAIMED_MS}', now)
  return {2, version}
end
if seen ~= version then return {0, version} end
redis.call('HSET', key, '${STATE}', '${CLAIMED}', '${HOLDER}', holder,
           '${CLAIMED_MS}', now, '${VERSION}', version + 1)
return {3, version + 1}
"""

_POSTED = """
local key = KEYS[1]
if redis.call('HGET', key, '${HOLDER}') ~= ARGV[1] then return 0 end
if redis.call('HGET', key, '${VERSION}') ~= ARGV[2] then return 0 end
redis.call('HSET', key, '${STATE}', '${POSTED}', '${TRADES}', ARGV[3], '${PNL}', ARGV[4],
           '${POSTED_MS}', ARGV[5], '${EVENT_ID}', ARGV[6], '${LATE}', ARGV[7])
return 1
"""

_NAMES: Final = {
    "STATE": ks.REPORT_STATE, "HOLDER": ks.REPORT_HOLDER, "CLAIMED_MS": ks.REPORT_CLAIMED_MS,
    "VERSION": ks.REPORT_VERSION, "TRADES": ks.REPORT_TRADES, "PNL": ks.REPORT_PNL,
    "POSTED_MS": ks.REPORT_POSTED_MS, "EVENT_ID": ks.REPORT_EVENT_ID, "LATE": ks.REPORT_LATE,
    "CLAIMED": CLAIMED, "POSTED": POSTED,
}  # fmt: skip


@dataclass(frozen=True)
class Sent:
    """One report (or correction) this instance published, or skipped (`event_id` "")."""

    period: str
    version: int
    event_id: str
    late: bool = False
    correction: bool = False


@dataclass
class _Pending:
    """Published, not yet confirmed in Redis: flushed again on the next tick."""

    period: Period
    version: int
    fig: Figures
    sent: Sent


class Reporter:
    """Posts the reports of `settings` through `publisher`; call `tick` (or `run`)."""

    def __init__(
        self,
        client: redis.Redis,
        settings: ReportSettings,
        publisher: Publishes,
        *,
        holder: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stale_s: float = 60.0,
        flush_timeout_s: float = 10.0,
        behind_s: Callable[[], float] | None = None,
        uptime: Callable[[Period], float | None] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.redis = client
        self.settings = settings
        self.publisher = publisher
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.clock = clock
        self.stale_ms = int(stale_s * 1000)
        self.flush_timeout_s = flush_timeout_s
        self.behind_s = behind_s or self._books_behind
        self.uptime = uptime
        self.wall = wall
        self.kinds: tuple[PeriodKind, ...] = tuple(k for k in KINDS if getattr(settings, k))
        self._claim = ReplicatedScript(client, ks.lua(_CLAIM, **_NAMES))
        self._posted = client.register_script(ks.lua(_POSTED, **_NAMES))
        self._pending: dict[str, _Pending] = {}

    def run(self, stop: threading.Event, every_s: float = 5.0) -> None:
        """Tick until `stop` is set; a failed tick (Redis away) is logged and retried."""
        first = True
        while not stop.is_set():
            try:
                self.tick()
                if first:
                    first = False
                    log.info("reports: watching %s", self._next_due())
            except NotReplicated as exc:
                log.warning("reports: a claim is not confirmed by a replica (%s); retrying", exc)
            except redis.RedisError as exc:
                log.warning("reports: redis unavailable (%s); retrying", exc)
            except Exception:
                log.exception("reports: tick failed; retrying")
            stop.wait(every_s)

    def tick(self, now: datetime | None = None) -> list[Sent]:
        """Confirm what is in flight, then post every report (or correction) now due."""
        now = now or self.clock()
        self._confirm(now)
        sent: list[Sent] = []
        grace = timedelta(seconds=self.settings.grace_s)
        for kind in self.kinds:
            due = period_containing(kind, now - grace, self.settings).previous()
            for period, first in ((due, True), (due.previous(), False)):
                if period.key not in self._pending:
                    sent += self._consider(period, now, first=first)
        return sent

    def due(self, period: Period) -> datetime:
        return period.end + timedelta(seconds=self.settings.grace_s)

    def post_now(self, period: Period, now: datetime | None = None) -> Sent | None:
        """Post `period`'s report on demand (`herald report --post`, the demo), through the
        same claim as the schedule: None when it is posted, or being posted, already. A
        running period posted early is the period's report: at its close the schedule
        sends only a correction, and only if the figures changed."""
        now = now or self.clock()
        sent = self._claim_and_post(period, now, seen=-1, on_demand=True)
        return sent[0] if sent else None

    def record(self, period: Period) -> dict[str, str]:
        """The period's claim record (`keyspace.books_report`): state, event id, ..."""
        return _decode(self.redis.hgetall(ks.books_report(period.key)))

    def _next_due(self) -> str:
        now = self.clock()
        grace = timedelta(seconds=self.settings.grace_s)
        dues = []
        for kind in self.kinds:
            due = self.due(period_containing(kind, now - grace, self.settings))
            dues.append(f"{kind} (next due {due:%Y-%m-%d %H:%M %Z})")
        return ", ".join(dues) or "nothing: [reports] turns every period off"

    def _consider(self, period: Period, now: datetime, *, first: bool) -> list[Sent]:
        """Report `period` if nobody has (only the most recent: `first`); else correct it
        if its figures changed since and have been quiet for the grace period."""
        record = self.record(period)
        if not record:
            if not first or self.behind_s() > BEHIND_LIMIT_S:
                return []
            return self._claim_and_post(period, now, seen=-1)
        if record.get(ks.REPORT_STATE) == CLAIMED:
            return self._claim_and_post(period, now, seen=-1)  # taken over once stale
        fig = figures(self.redis, period)
        posted = (int(record[ks.REPORT_TRADES]), Decimal(record[ks.REPORT_PNL]))
        if (fig.trades, fig.pnl) == posted or self.behind_s() > BEHIND_LIMIT_S:
            return []
        quiet_ms = self.wall() * 1000 - fig.updated_ms  # the books' clock, not `now`
        if quiet_ms < self.settings.grace_s * 1000:
            return []
        return self._claim_and_post(period, now, seen=int(record[ks.REPORT_VERSION]))

    def _claim_and_post(
        self, period: Period, now: datetime, *, seen: int, on_demand: bool = False
    ) -> list[Sent]:
        status, version = self._claim_call(period.key, now, seen)
        if status == 0:
            return []
        record = self.record(period)
        fig = figures(self.redis, period)
        late = not on_demand and now - self.due(period) > LATE_AFTER
        shown = record.get(ks.REPORT_EVENT_ID, "")
        previous = None
        if version > 0 and shown:  # a correction of what was shown
            previous = (int(record[ks.REPORT_TRADES]), Decimal(record[ks.REPORT_PNL]))
        if previous is None and late and fig.trades == 0:
            sent = Sent(period.key, version, "", late=True)  # nothing missed: say nothing
            self._mark(period, version, fig, sent, now)
            return [sent]
        uptime = self.uptime(period) if self.uptime and previous is None else None
        event_id = post(
            self.publisher, period, fig, self.settings.channel,
            version=version, late=late and previous is None, previous=previous,
            uptime_pct=uptime, now=now,
        )  # fmt: skip
        sent = Sent(period.key, version, event_id, late=late, correction=previous is not None)
        log.info("reports: published %s v%d (%s)", period.key, version, event_id)
        self._pending[period.key] = _Pending(period, version, fig, sent)
        self._confirm(now, only=(period.key,))
        return [sent]

    def _confirm(self, now: datetime, only: Iterable[str] | None = None) -> None:
        """Mark posted what a flush confirms is in Redis; keep the rest's claims fresh."""
        keys = list(self._pending) if only is None else [k for k in only if k in self._pending]
        if not keys:
            return
        if not self.publisher.flush(self.flush_timeout_s):
            for key in keys:  # still ours: refreshed, not taken over (nothing to confirm)
                self._claim_call(key, now, -1, confirm=False)
            return
        for key in keys:
            item = self._pending.pop(key)
            self._mark(item.period, item.version, item.fig, item.sent, now)

    def _claim_call(
        self, period_key: str, now: datetime, seen: int, *, confirm: bool = True
    ) -> tuple[int, int]:
        """Claim (or refresh) a period's record. `confirm`: raise `NotReplicated` unless a
        replica holds the claim (or none is attached), so a claim that a dying primary
        alone took is never published on; the next tick claims again (the record is
        ours: status 2, written again) and that write's `WAIT` confirms it."""
        ttl = self.settings.retention_days * 86_400
        args: list[str | int] = [self.holder, _ms(now), self.stale_ms, seen, ttl]
        replies, _ = self._claim.run([([ks.books_report(period_key)], args)], strict=confirm)
        status, version = replies[0]
        return int(status), int(version)

    def _mark(self, period: Period, version: int, fig: Figures, sent: Sent, now: datetime) -> None:
        args: list[str | int] = [
            self.holder,
            version,
            fig.trades,
            str(fig.pnl),
            _ms(now),
            sent.event_id,
            int(sent.late),
        ]
        if not self._posted(keys=[ks.books_report(period.key)], args=args):
            log.warning(
                "reports: %s v%d was taken over before it was confirmed", period.key, version
            )

    def _books_behind(self) -> float:
        from books.service import books_lag  # the service imports this module

        return books_lag(self.redis).seconds(int(self.wall() * 1000))


def run_reporter(
    client: redis.Redis,
    settings: ReportSettings,
    redis_url: str,
    stop: threading.Event,
    ready: threading.Event | None = None,
) -> None:
    """The reporter as `herald books` runs it, in a thread beside the consumer, with its
    own Publisher (source `herald-books`), until `stop` is set. With `ready`, it starts
    once that is set (the consumer has counted what was published before it started), so
    a restart never reports a period from figures still missing its backlog."""
    from producer import Publisher

    while ready is not None and not ready.wait(0.2):
        if stop.is_set():
            return
    with Publisher(redis_url, source=SOURCE) as publisher:
        reporter(client, settings, publisher).run(stop)


def reporter(client: redis.Redis, settings: ReportSettings, publisher: Publishes) -> Reporter:
    """A reporter with the monitor's uptime for daily reports: what `herald books`, `herald
    report --post` and the demo use."""
    return Reporter(client, settings, publisher, uptime=lambda p: report_uptime(client, p))


def _decode(raw: object) -> dict[str, str]:
    assert isinstance(raw, dict)
    return {k.decode(): v.decode() for k, v in raw.items()}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
