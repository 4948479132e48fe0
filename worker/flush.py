"""The flush job: drain one channel's outbox into its webhook, one request at a time.

A job holds the channel's lock lease, so the whole pool sends at most one request per
webhook at a time and per-channel order holds. It reads the head of the outbox, renders
and coalesces it (up to 10 embeds / 6000 characters; a digest when the backlog is more
than the channel can deliver within `max_lag`), asks the shared rate budget for a slot,
posts, and settles the result atomically (settle.lua). It never sleeps long holding a
worker: a long wait becomes the channel's `retry_at`, and the kicker queues a new job.
"""

import enum
import logging
import threading
import time
import uuid
from typing import Any, Final, cast

from ground import keyspace
from ground.backoff import backoff
from ground.channels import CRITICAL_ALERTS
from ground.connect import sync_client
from ground.logs import fields
from ground.redact import redact
from ground.settings import Channel, budget_key
from worker import dlq, metrics
from worker.batch import pack
from worker.digest import digest_embeds
from worker.discord import Outcome, OutcomeKind
from worker.drain import collapses
from worker.engine import Engine, raise_alert
from worker.head import Head, Reasons, Request
from worker.payload import build_payload
from worker.settling import Settler

log = logging.getLogger("herald.flush")

LOOKAHEAD: Final = 50
"""Outbox items rendered per request: enough to fill 10 embeds after dropping bad ones."""
DIGEST_MAX: Final = 20_000
MAX_RUN_S: Final = 20.0
SHORT_WAIT_S: Final = 2.5
LEASE_MS: Final = 10_000
CLOUDFLARE_PAUSE_S: Final = 60.0
"""A Cloudflare 429 bans the IP: every webhook waits at least this long."""
RETRY_BASE_S: Final = 1.0
RETRY_CAP_S: Final = 3600.0

stop_requested = threading.Event()
"""Set by the worker on SIGTERM: finish the request in flight, then return."""


class Result(enum.StrEnum):
    """What a request or a whole job came to (RQ keeps the job's as its result)."""

    SENT = "sent"
    LIMITED = "limited"
    """A 429: nothing used up; the budget now knows, so the next try waits."""
    NEXT = "next"
    """Handled without a delivery (dead-lettered, or isolating a bad embed): go on."""
    RETRY = "retry"
    DEAD = "dead"
    THROTTLED = "throttled"
    BUSY = "busy"
    STOPPED = "stopped"
    TIMESLICE = "timeslice"
    LOST_LOCK = "lost-lock"
    BACKOFF = "backoff"
    NO_WEBHOOK = "no-webhook"
    EMPTY = "empty"


GO_ON: Final = frozenset({Result.SENT, Result.LIMITED, Result.NEXT})
"""Results after which the same job sends the next request."""


_engine: Engine | None = None


def install(engine: Engine) -> None:
    """Set the process-wide engine (the worker does this at start-up)."""
    global _engine  # noqa: PLW0603 - one engine per worker process, by design
    _engine = engine


def flush_channel(channel: str) -> str:
    """The RQ job."""
    if _engine is None:
        from worker.config import load

        settings = load()
        install(Engine.create(sync_client(settings.redis_url), settings))
    assert _engine is not None
    return str(Flush(_engine, channel).run())


class Flush:
    def __init__(self, engine: Engine, channel: str) -> None:
        self.engine = engine
        self.redis = engine.redis
        self.channel: Channel = engine.settings.channels[channel]
        self.name = channel
        self.token = uuid.uuid4().hex
        self.outbox = keyspace.outbox(channel)
        self.lock = keyspace.flush_lock(channel)
        self.state_key = keyspace.channel_state(channel)
        self.webhook_key = budget_key(self.channel)
        self.solo = 0
        """Requests left to send one embed each, isolating an unexplained 400."""
        self.settler = Settler(engine, channel, self.token, LEASE_MS)

    def run(self) -> Result:
        self.redis.delete(keyspace.flush_queued(self.name))
        if not self.redis.set(self.lock, self.token, nx=True, px=LEASE_MS):
            return Result.BUSY
        result = Result.STOPPED
        try:
            result = self._loop(time.monotonic() + MAX_RUN_S)
        finally:
            self._release()
            if result in {Result.STOPPED, Result.TIMESLICE} and self.redis.llen(self.outbox):
                from worker.kicker import Kicker

                Kicker(self.redis, self.engine.settings).kick([self.name])
        return result

    def _loop(self, deadline: float) -> Result:
        while time.monotonic() < deadline:
            blocked = self._blocked()
            if blocked is not None:
                return blocked
            settings = self.engine.settings
            digest = self.channel.digest and collapses(  # no LLEN for keep channels
                self.redis.llen(self.outbox),
                settings.rate_windows,
                max_lag_s=settings.max_lag_s,
                digest=True,
            )
            request = self._digest_request() if digest else self._head_request()
            if request is None:
                return Result.EMPTY
            result = request if isinstance(request, Result) else self._send(request)
            if result not in GO_ON:
                return result
        return Result.TIMESLICE

    def _blocked(self) -> Result | None:
        """Why the job cannot send now (stopping, lost lease, dead, backing off), or None."""
        if stop_requested.is_set():
            return Result.STOPPED
        if not self.redis.pexpire(self.lock, LEASE_MS) or self.redis.get(self.lock) != (
            self.token.encode()
        ):
            return Result.LOST_LOCK
        state = cast(dict[bytes, bytes], self.redis.hgetall(self.state_key))
        dead = state.get(keyspace.STATE_DEAD.encode())
        if dead:
            self._bury_all(dead.decode())
            return Result.DEAD
        if float(state.get(keyspace.STATE_RETRY_AT.encode()) or 0) > time.time():
            return Result.BACKOFF
        self.solo = int(state.get(keyspace.STATE_SOLO.encode()) or 0)
        if self.channel.webhook_url is None:
            return Result.NO_WEBHOOK
        return None

    # -- what one request carries ---------------------------------------------------------

    def _head_request(self) -> Request | Result | None:
        items = _bytes_list(self.redis.lrange(self.outbox, 0, LOOKAHEAD - 1))
        if not items:
            return None
        head = Head.read(items)
        order = sorted(head.embeds)
        if not order:  # every item in the lookahead is undeliverable
            self._settle(popped=items, letters=self._letters(head, head.undeliverable))
            return Result.NEXT
        sent = order[: 1 if self.solo else head.first_message(order)]
        pop = sent[-1] + 1  # also consumes undeliverable items in between
        undeliverable = {i: why for i, why in head.undeliverable.items() if i < pop}
        return head.request(sent, pop, undeliverable)

    def _digest_request(self) -> Request | None:
        items = _bytes_list(self.redis.lrange(self.outbox, 0, DIGEST_MAX - 1))
        if not items:
            return None
        head = Head.read(items, render=False)
        sent = sorted(head.envelopes)
        embeds = digest_embeds([head.envelopes[i] for i in sent])
        log.info("channel %s: backlog of %d collapsed into a digest", self.name, len(items))
        message = pack(embeds)[0] if embeds else []
        return Request(head, sent, len(items), message, head.undeliverable, digest=True)

    # -- one request and its outcome ------------------------------------------------------

    def _send(self, request: Request) -> Result:
        if not self._wait_for_slot():
            return Result.THROTTLED
        payload = build_payload(
            request.embeds,
            username=self.channel.username,
            ping_role_id=self.channel.ping_role,
            files=request.files,
        )
        started = time.monotonic()
        outcome = self.engine.client.execute(
            self.channel.webhook_url or "", payload, files=request.files
        )
        self._report(outcome, request, started)
        self._count(keyspace.REQUESTS)
        if outcome.rate is not None:
            self.engine.budget.observe(self.webhook_key, outcome.rate)
        match outcome.kind:
            case OutcomeKind.DELIVERED:
                return self._delivered(request, outcome)
            case OutcomeKind.RATE_LIMITED:
                return self._rate_limited(outcome)
            case OutcomeKind.INVALID:
                return self._invalid(request, outcome)
            case OutcomeKind.GONE:
                return self._gone(outcome)
            case _:
                return self._retry(request, outcome)

    def _wait_for_slot(self) -> bool:
        while True:
            wait = self.engine.budget.reserve(self.webhook_key)
            if wait <= 0:
                return True
            if wait > SHORT_WAIT_S or stop_requested.is_set():
                self.redis.hset(self.state_key, keyspace.STATE_RETRY_AT, time.time() + wait)
                return False
            time.sleep(wait)  # a short, budgeted wait; the lease outlives it
            self.redis.pexpire(self.lock, LEASE_MS)

    def _delivered(self, request: Request, outcome: Outcome) -> Result:
        self._settle(
            popped=request.popped,
            letters=self._letters(request.head, request.undeliverable),
            delivered=request.event_ids,
            message_id=outcome.message_id,
            digest=request.digest,
        )
        failures = (keyspace.STATE_ATTEMPTS, keyspace.STATE_FIRST_FAILED_MS)
        if self.redis.hdel(self.state_key, *failures, keyspace.STATE_LAST_ERROR):
            log.info(
                "channel %s: delivering again after failed attempts",
                self.name,
                extra=fields(event="recovered", channel=self.name),
            )
        return Result.SENT

    def _rate_limited(self, outcome: Outcome) -> Result:
        retry_after = outcome.retry_after if outcome.retry_after is not None else 1.0
        if outcome.cloudflare:
            scope = "cloudflare"
            self.engine.budget.pause_all(max(retry_after, CLOUDFLARE_PAUSE_S))
        elif outcome.is_global:
            scope = "global"
            self.engine.budget.pause_all(retry_after)
        else:
            scope = outcome.scope or "user"
            self.engine.budget.penalize(self.webhook_key, retry_after)
        self._count(keyspace.LIMITED_PREFIX + scope)
        log.warning(
            "channel %s: 429 (%s), waiting %.2fs; no attempt used",
            self.name,
            scope,
            retry_after,
            extra=fields(event="rate_limited", channel=self.name, scope=scope, wait_s=retry_after),
        )
        return Result.LIMITED

    def _invalid(self, request: Request, outcome: Outcome) -> Result:
        self._count(keyspace.BAD_REQUESTS)
        sent = request.sent
        bad = {sent[i] for i in outcome.bad_embeds if i < len(sent)}
        if not bad and len(sent) > 1:
            # Not pinned to an embed: send these one at a time to find the culprit.
            self.redis.hset(self.state_key, keyspace.STATE_SOLO, len(sent))
            return Result.NEXT
        why = (
            f"Discord rejected the message: {outcome.status} "
            f"{outcome.error_code} {outcome.error_message} "
            f"(at {', '.join(outcome.error_paths) or 'no path given'})"
        )
        undeliverable = {**request.undeliverable, **dict.fromkeys(bad or sent, why)}
        keep = [request.head.items[i] for i in range(request.pop) if i not in undeliverable]
        letters = self._letters(request.head, undeliverable, outcome)
        self._settle(popped=request.popped, keep=keep, letters=letters)
        return Result.NEXT

    def _gone(self, outcome: Outcome) -> Result:
        code, message = outcome.error_code or "", outcome.error_message or ""
        reason = f"webhook gone: HTTP {outcome.status} {code} {message}".strip()
        self.redis.hset(
            self.state_key,
            mapping={keyspace.STATE_DEAD: reason, keyspace.STATE_DEAD_AT_MS: _now_ms()},
        )
        self._count(keyspace.GONE)
        log.error(
            "channel %s: %s; stopped sending, dead-lettering its queue",
            self.name,
            reason,
            extra=fields(event="webhook_dead", channel=self.name, status=outcome.status),
        )
        self._bury_all(reason, outcome)
        if self.name != CRITICAL_ALERTS:
            raise_alert(self.redis, self.name, reason)
        return Result.DEAD

    def _retry(self, request: Request, outcome: Outcome) -> Result:
        attempts = int(self.redis.hincrby(self.state_key, keyspace.STATE_ATTEMPTS, 1))
        now_ms = _now_ms()
        detail = outcome.detail or f"HTTP {outcome.status}"
        self.redis.hsetnx(self.state_key, keyspace.STATE_FIRST_FAILED_MS, now_ms)
        self.redis.hset(self.state_key, keyspace.STATE_LAST_ERROR, redact(detail)[:300])
        self._count(keyspace.RETRIES)
        oldest_ms = request.head.oldest_queued_ms(request.sent, default=now_ms)
        too_old = now_ms - oldest_ms > self.engine.settings.max_age_s * 1000
        if attempts >= self.engine.settings.max_attempts or too_old:
            why = "older than delivery.max_age" if too_old else f"gave up after {attempts} attempts"
            reasons = dict.fromkeys(request.sent, f"{why}; last error: {detail}")
            letters = self._letters(
                request.head, {**request.undeliverable, **reasons}, outcome, attempts
            )
            if self._settle(popped=request.popped, letters=letters) == 1:
                failures = (keyspace.STATE_ATTEMPTS, keyspace.STATE_FIRST_FAILED_MS)
                self.redis.hdel(self.state_key, *failures)
            return Result.NEXT
        delay = backoff(attempts, base=RETRY_BASE_S, cap=RETRY_CAP_S)
        self.redis.hset(self.state_key, keyspace.STATE_RETRY_AT, time.time() + delay)
        log.warning(
            "channel %s: attempt %d failed (%s); retrying in %.1fs",
            self.name,
            attempts,
            redact(detail),
            delay,
            extra=fields(event="backoff", channel=self.name, attempt=attempts, wait_s=delay),
        )
        return Result.RETRY

    # -- settling -----------------------------------------------------------------------------

    def _letters(
        self, head: Head, reasons: Reasons, outcome: Outcome | None = None, attempts: int = 0
    ) -> list[dlq.DeadLetter]:
        return head.dead_letters(reasons, self.name, outcome, attempts)

    def _settle(self, **result: Any) -> int:
        return self.settler.settle(solo=bool(self.solo), **result)

    def _bury_all(self, reason: str, outcome: Outcome | None = None) -> None:
        self.settler.bury_all(reason, outcome)

    # -- bookkeeping --------------------------------------------------------------------------

    def _report(self, outcome: Outcome, request: Request, started: float) -> None:
        """One log line and the metrics for one request, whatever its outcome."""
        delivered = outcome.kind is OutcomeKind.DELIVERED
        ids = request.event_ids if delivered else []
        result = metrics.delivery(self.name, outcome.kind.value, ids, digest=request.digest)
        ms = (time.monotonic() - started) * 1000
        events, embeds = len(request.sent), len(request.embeds)
        log.info(
            "channel %s: %s %d events in %d embeds (HTTP %s, %.0f ms)",
            self.name, result, events, embeds, outcome.status, ms,
            extra=fields(
                event="delivery", channel=self.name, result=result, events=events,
                embeds=embeds, digest=request.digest, status=outcome.status,
                message_id=outcome.message_id, ms=round(ms, 1),
            ),
        )  # fmt: skip

    def _count(self, name: str) -> None:
        metrics.counted(self.name, name)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hincrby(keyspace.STATS, name, 1)
        pipe.hincrby(self.state_key, name, 1)
        pipe.execute()

    def _release(self) -> None:
        if self.redis.get(self.lock) == self.token.encode():
            self.redis.delete(self.lock)


def _bytes_list(reply: object) -> list[bytes]:
    """redis-py types replies loosely; Herald's clients never decode responses."""
    return cast(list[bytes], reply)


def _now_ms() -> int:
    return int(time.time() * 1000)
