"""The flush job: drain one channel's outbox into its webhook, one request at a time.

A job holds the channel's lock lease, so the whole pool sends at most one request per
webhook at a time and per-channel order holds. It reads the head of the outbox, renders
and coalesces it (up to 10 embeds / 6000 characters; a digest when the backlog is more
than the channel can deliver within `max_lag`), asks the shared rate budget for a slot,
posts, and settles the result atomically (see settle.lua). It never sleeps long holding
a worker: a long wait becomes the channel's `retry_at`, and the kicker queues a new job.
"""

import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any, Final, cast

import redis
from redis import Redis

from herald.errors import InvalidEvent
from herald.logs import fields
from herald.redact import redact
from schemas.codec import decode, encode
from schemas.envelope import Envelope, wrap
from schemas.health import ServiceDown
from worker import dlq, keys, metrics
from worker.batch import pack
from worker.channels import CRITICAL_ALERTS
from worker.config import Channel, Settings, budget_key
from worker.digest import digest_embeds
from worker.discord import DiscordClient, Outcome, OutcomeKind
from worker.limits import Embed
from worker.outbox import OutboxItem, unpack
from worker.payload import build_payload
from worker.ratelimit import RateBudget, Window
from worker.render import Folded, render_embed

log = logging.getLogger("herald.flush")

SETTLE_SCRIPT: Final = files("worker").joinpath("settle.lua").read_text()
LOOKAHEAD: Final = 50
"""Outbox items rendered per request: enough to fill 10 embeds after dropping bad ones."""
DIGEST_MAX: Final = 20_000
MAX_RUN_S: Final = 20.0
SHORT_WAIT_S: Final = 2.5
LEASE_MS: Final = 10_000
CLOUDFLARE_PAUSE_S: Final = 60.0
WINDOW_MARGIN_S: Final = 0.25

stop_requested = threading.Event()
"""Set by the worker on SIGTERM: finish the request in flight, then return."""


@dataclass
class Engine:
    """What a worker process builds once and every flush job shares."""

    redis: redis.Redis
    settings: Settings
    client: DiscordClient
    budget: RateBudget
    settle: Any = field(init=False)

    def __post_init__(self) -> None:
        self.settle = self.redis.register_script(SETTLE_SCRIPT)

    @classmethod
    def create(
        cls, client: Redis, settings: Settings, discord: DiscordClient | None = None
    ) -> "Engine":
        # Each window is a little longer than Discord's: our clock starts at reserve() and
        # Discord's at arrival, so network jitter could otherwise squeeze N+1 sends into
        # Discord's window (seen as occasional 429s in the 5,000-event burst test).
        windows = [
            Window(limit, seconds + WINDOW_MARGIN_S) for limit, seconds in settings.rate_windows
        ]
        return cls(
            redis=client,
            settings=settings,
            client=discord or DiscordClient(read_timeout=settings.request_timeout_s),
            budget=RateBudget(client, windows=windows),
        )


_engine: Engine | None = None


def install(engine: Engine) -> None:
    """Set the process-wide engine (the worker does this at start-up)."""
    global _engine  # noqa: PLW0603 - one engine per worker process, by design
    _engine = engine


def flush_channel(channel: str) -> str:
    """The RQ job. Returns a one-word result for RQ's records."""
    if _engine is None:
        from worker.config import load

        settings = load()
        install(Engine.create(redis.Redis.from_url(settings.redis_url), settings))
    assert _engine is not None
    return Flush(_engine, channel).run()


@dataclass
class _Head:
    """The head of the outbox, decoded and rendered."""

    items: list[bytes]
    envelopes: dict[int, Envelope] = field(default_factory=dict)
    embeds: dict[int, Embed] = field(default_factory=dict)
    dead: dict[int, str] = field(default_factory=dict)


class Flush:
    def __init__(self, engine: Engine, channel: str) -> None:
        self.e = engine
        self.channel: Channel = engine.settings.channels[channel]
        self.name = channel
        self.token = uuid.uuid4().hex
        self.outbox = keys.outbox(channel)
        self.lock = keys.flush_lock(channel)
        self.state_key = keys.channel_state(channel)
        self.webhook_key = budget_key(self.channel)
        self.solo = 0
        """Requests left to send one embed each, isolating an unexplained 400."""

    def run(self) -> str:
        r = self.e.redis
        r.delete(keys.flush_queued(self.name))
        if not r.set(self.lock, self.token, nx=True, px=LEASE_MS):
            return "busy"
        result = "stopped"
        try:
            result = self._loop(time.monotonic() + MAX_RUN_S)
        finally:
            self._release()
            if result in {"stopped", "timeslice"} and r.llen(self.outbox):
                from worker.kicker import Kicker

                Kicker(r, self.e.settings).kick([self.name])
        return result

    def _loop(self, deadline: float) -> str:  # noqa: PLR0911 - one exit per channel state
        r = self.e.redis
        while time.monotonic() < deadline:
            if stop_requested.is_set():
                return "stopped"
            if not r.pexpire(self.lock, LEASE_MS) or r.get(self.lock) != self.token.encode():
                return "lost-lock"
            state: dict[bytes, bytes] = r.hgetall(self.state_key)  # type: ignore[assignment]
            if state.get(b"dead"):
                self._bury_all(state[b"dead"].decode())
                return "dead"
            if float(state.get(b"retry_at") or 0) > time.time():
                return "backoff"
            self.solo = int(state.get(b"solo") or 0)
            if self.channel.webhook_url is None:
                return "no-webhook"
            if self.channel.digest and r.llen(self.outbox) > self._digest_threshold():
                outcome = self._send_digest()
            else:
                outcome = self._send_head()
            if outcome is None:
                return "empty"
            if outcome in {"retry", "dead", "throttled"}:
                return outcome
        return "timeslice"

    # -- one request ----------------------------------------------------------------------

    def _send_head(self) -> str | None:
        items = _bytes_list(self.e.redis.lrange(self.outbox, 0, LOOKAHEAD - 1))
        if not items:
            return None
        head = self._prepare(items)
        order = sorted(head.embeds)
        if not order:  # every item in the lookahead is undeliverable
            self._settle(pop=len(items), dead=self._dead_letters(head, head.dead))
            return "next"
        messages = pack([head.embeds[i] for i in order])
        sent = order[: 1 if self.solo else len(messages[0])]
        pop = sent[-1] + 1  # also consumes undeliverable items in between
        dead_now = {i: why for i, why in head.dead.items() if i < pop}
        embeds = [head.embeds[i] for i in sent]
        return self._post(head, sent, pop, embeds, dead_now, digest=False)

    def _send_digest(self) -> str | None:
        items = _bytes_list(self.e.redis.lrange(self.outbox, 0, DIGEST_MAX - 1))
        if not items:
            return None
        head = self._prepare(items, render=False)
        envelopes = [head.envelopes[i] for i in sorted(head.envelopes)]
        embeds = digest_embeds(envelopes)
        message = pack(embeds)[0] if embeds else []
        log.info("channel %s: backlog of %d collapsed into a digest", self.name, len(items))
        return self._post(head, sorted(head.envelopes), len(items), message, head.dead, digest=True)

    def _post(
        self,
        head: _Head,
        sent: list[int],
        pop: int,
        embeds: list[Embed],
        dead: dict[int, str],
        *,
        digest: bool,
    ) -> str:
        if not self._wait_for_slot():
            return "throttled"
        payload = build_payload(
            embeds, username=self.channel.username, ping_role_id=self._ping(head, sent)
        )
        started = time.monotonic()
        outcome = self.e.client.execute(self.channel.webhook_url or "", payload)
        self._report(outcome, head, sent, len(embeds), started, digest=digest)
        self._count("requests")
        if outcome.rate is not None:
            self.e.budget.observe(self.webhook_key, outcome.rate)
        kind = outcome.kind
        if kind is OutcomeKind.DELIVERED:
            ids = [head.envelopes[i].id for i in sent]
            self._settle(
                pop=pop,
                dead=self._dead_letters(head, dead),
                delivered=ids,
                message_id=outcome.message_id,
                digest=digest,
            )
            if self.e.redis.hdel(self.state_key, "attempts", "first_failed_ms", "last_error"):
                log.info(
                    "channel %s: delivering again after failed attempts",
                    self.name,
                    extra=fields(event="recovered", channel=self.name),
                )
            return "sent"
        if kind is OutcomeKind.RATE_LIMITED:
            self._rate_limited(outcome)
            return "limited"
        if kind is OutcomeKind.INVALID:
            return self._invalid(head, sent, pop, dead, outcome)
        if kind is OutcomeKind.GONE:
            self._gone(outcome)
            return "dead"
        return self._retry(head, sent, pop, dead, outcome)

    def _wait_for_slot(self) -> bool:
        while True:
            wait = self.e.budget.reserve(self.webhook_key)
            if wait <= 0:
                return True
            if wait > SHORT_WAIT_S or stop_requested.is_set():
                self.e.redis.hset(self.state_key, "retry_at", time.time() + wait)
                return False
            time.sleep(wait)  # a short, budgeted wait; the lease outlives it
            self.e.redis.pexpire(self.lock, LEASE_MS)

    # -- outcomes -------------------------------------------------------------------------

    def _rate_limited(self, outcome: Outcome) -> None:
        retry_after = outcome.retry_after if outcome.retry_after is not None else 1.0
        if outcome.cloudflare:
            scope = "cloudflare"
            self.e.budget.pause_all(max(retry_after, CLOUDFLARE_PAUSE_S))
        elif outcome.is_global:
            scope = "global"
            self.e.budget.pause_all(retry_after)
        else:
            scope = outcome.scope or "user"
            self.e.budget.penalize(self.webhook_key, retry_after)
        self._count(f"429:{scope}")
        log.warning(
            "channel %s: 429 (%s), waiting %.2fs; no attempt used",
            self.name,
            scope,
            retry_after,
            extra=fields(event="rate_limited", channel=self.name, scope=scope, wait_s=retry_after),
        )

    def _invalid(
        self, head: _Head, sent: list[int], pop: int, dead: dict[int, str], outcome: Outcome
    ) -> str:
        self._count("400")
        why = (
            f"Discord rejected the message: {outcome.status} "
            f"{outcome.error_code} {outcome.error_message}"
        )
        bad = {sent[i] for i in outcome.bad_embeds if i < len(sent)}
        if not bad and len(sent) > 1:
            # Not pinned to an embed: send these one at a time to find the culprit.
            self.e.redis.hset(self.state_key, "solo", len(sent))
            return "next"
        bad = bad or set(sent)
        paths = ", ".join(outcome.error_paths) or "no path given"
        dead = {**dead, **{i: f"{why} (at {paths})" for i in bad}}
        keep = [head.items[i] for i in range(pop) if i not in dead]
        self._settle(pop=pop, keep=keep, dead=self._dead_letters(head, dead, outcome))
        return "next"

    def _gone(self, outcome: Outcome) -> None:
        code, message = outcome.error_code or "", outcome.error_message or ""
        reason = f"webhook gone: HTTP {outcome.status} {code} {message}".strip()
        self.e.redis.hset(
            self.state_key, mapping={"dead": reason, "dead_at_ms": int(time.time() * 1000)}
        )
        self._count("gone")
        log.error(
            "channel %s: %s; stopped sending, dead-lettering its queue",
            self.name,
            reason,
            extra=fields(event="webhook_dead", channel=self.name, status=outcome.status),
        )
        self._bury_all(reason, outcome)
        if self.name != CRITICAL_ALERTS:
            raise_alert(self.e.redis, self.name, reason)

    def _retry(
        self, head: _Head, sent: list[int], pop: int, dead: dict[int, str], outcome: Outcome
    ) -> str:
        r = self.e.redis
        attempts = int(r.hincrby(self.state_key, "attempts", 1))
        now_ms = int(time.time() * 1000)
        r.hsetnx(self.state_key, "first_failed_ms", now_ms)
        detail = outcome.detail or f"HTTP {outcome.status}"
        r.hset(self.state_key, "last_error", redact(detail)[:300])
        self._count("retries")
        oldest_ms = min(
            (h.queued_ms for h in (unpack(head.items[i]) for i in sent) if h.queued_ms),
            default=now_ms,
        )
        too_old = now_ms - oldest_ms > self.e.settings.max_age_s * 1000
        if attempts >= self.e.settings.max_attempts or too_old:
            why = (
                f"gave up after {attempts} attempts"
                if not too_old
                else "older than delivery.max_age"
            )
            dead = {**dead, **{i: f"{why}; last error: {detail}" for i in sent}}
            self._settle(pop=pop, dead=self._dead_letters(head, dead, outcome, attempts=attempts))
            r.hdel(self.state_key, "attempts", "first_failed_ms")
            return "next"
        delay = min(2.0 ** (attempts - 1), 3600.0) * random.uniform(0.8, 1.2)
        r.hset(self.state_key, "retry_at", time.time() + delay)
        log.warning(
            "channel %s: attempt %d failed (%s); retrying in %.1fs",
            self.name,
            attempts,
            redact(detail),
            delay,
            extra=fields(event="backoff", channel=self.name, attempt=attempts, wait_s=delay),
        )
        return "retry"

    # -- helpers --------------------------------------------------------------------------

    def _prepare(self, items: list[bytes], *, render: bool = True) -> _Head:
        head = _Head(items)
        for i, packed in enumerate(items):
            item = unpack(packed)
            try:
                envelope = decode(item.raw)
            except InvalidEvent as exc:
                head.dead[i] = str(exc)
                continue
            head.envelopes[i] = envelope
            if not render:
                continue
            try:
                head.embeds[i] = render_embed(envelope, folded=_folded(item))
            except Exception as exc:  # a renderer bug must not wedge the channel
                log.exception("cannot render event %s", envelope.id)
                head.dead[i] = f"cannot render: {type(exc).__name__}: {exc}"
                del head.envelopes[i]
        return head

    def _dead_letters(
        self, head: _Head, dead: dict[int, str], outcome: Outcome | None = None, attempts: int = 0
    ) -> list[dlq.DeadLetter]:
        return [
            dlq.dead_letter(
                unpack(head.items[i]).raw,
                reason,
                channel=self.name,
                http_status=outcome.status if outcome else None,
                discord_code=outcome.error_code if outcome else None,
                discord_message=outcome.error_message if outcome else None,
                attempts=attempts,
                replays=unpack(head.items[i]).replays,
            )
            for i, reason in sorted(dead.items())
        ]

    def _settle(
        self,
        *,
        pop: int,
        keep: list[bytes] = (),  # type: ignore[assignment]
        dead: list[dlq.DeadLetter] = (),  # type: ignore[assignment]
        delivered: list[str] = (),  # type: ignore[assignment]
        message_id: str | None = None,
        digest: bool = False,
        bury: bool = False,
    ) -> int:
        args: list[Any] = [
            self.token,
            int(time.time() * 1000),
            self.name,
            message_id or "",
            "1" if digest else "0",
            pop,
            len(keep),
            *keep,
            len(dead),
        ]
        for entry in dead:
            args += [entry.id, dlq.encode(entry)]
        args += [len(delivered), *delivered]
        if bury:
            args.append("bury")
        done = self.e.settle(
            keys=[
                self.outbox,
                self.lock,
                keys.DLQ,
                keys.DLQ_INDEX,
                keys.STATS,
                self.state_key,
                keys.LEDGER,
            ],
            args=args,
        )
        if self.solo and done != -1:
            self.e.redis.hincrby(self.state_key, "solo", -1)
        if done == -1:
            log.warning(
                "channel %s: lost the lock before settling; another job will resend", self.name
            )
        elif done == -2:
            log.info("channel %s: replayed by an operator; stopped dead-lettering", self.name)
        elif dead:
            metrics.dead_lettered(self.name, len(dead))
            for entry in dead:
                log.warning(
                    "dead-lettered event %s on %s: %s", entry.event_id, self.name, entry.reason
                )
        return int(done)

    def _bury_all(self, reason: str, outcome: Outcome | None = None) -> None:
        while items := _bytes_list(self.e.redis.lrange(self.outbox, 0, 999)):
            head = _Head(items)
            dead = dict.fromkeys(range(len(items)), reason)
            done = self._settle(
                pop=len(items), dead=self._dead_letters(head, dead, outcome), bury=True
            )
            if done != 1:  # replayed by an operator meanwhile (-2), or lost the lock (-1)
                return
            self.e.redis.pexpire(self.lock, LEASE_MS)

    def _ping(self, head: _Head, sent: list[int]) -> str | None:
        return self.channel.ping_role

    def _digest_threshold(self) -> int:
        """Events the channel can deliver within `max_lag` at the budget's slowest rate."""
        per_second = min(limit / seconds for limit, seconds in self.e.settings.rate_windows)
        return max(50, int(per_second * 10 * self.e.settings.max_lag_s))

    def _report(
        self,
        outcome: Outcome,
        head: _Head,
        sent: list[int],
        embeds: int,
        started: float,
        *,
        digest: bool,
    ) -> None:
        """One log line and the metrics for one request, whatever its outcome."""
        delivered = outcome.kind is OutcomeKind.DELIVERED
        ids = [head.envelopes[i].id for i in sent] if delivered else []
        result = metrics.delivery(self.name, outcome.kind.value, ids, digest=digest)
        ms = (time.monotonic() - started) * 1000
        log.info(
            "channel %s: %s %d events in %d embeds (HTTP %s, %.0f ms)",
            self.name, result, len(sent), embeds, outcome.status, ms,
            extra=fields(
                event="delivery", channel=self.name, result=result, events=len(sent),
                embeds=embeds, digest=digest, status=outcome.status,
                message_id=outcome.message_id, ms=round(ms, 1),
            ),
        )  # fmt: skip

    def _count(self, name: str) -> None:
        metrics.counted(self.name, name)
        pipe = self.e.redis.pipeline(transaction=False)
        pipe.hincrby(keys.STATS, name, 1)
        pipe.hincrby(self.state_key, name, 1)
        pipe.execute()

    def _release(self) -> None:
        r = self.e.redis
        if r.get(self.lock) == self.token.encode():
            r.delete(self.lock)


def _bytes_list(reply: object) -> list[bytes]:
    """redis-py types replies loosely; Herald's clients never decode responses."""
    return cast(list[bytes], reply)


def _folded(item: OutboxItem) -> Folded | None:
    if item.folded < 1:
        return None
    return Folded(item.folded, datetime.fromtimestamp(item.folded_since_ms / 1000, UTC))


def raise_alert(client: redis.Redis, channel: str, reason: str) -> None:
    """Tell #critical-alerts that a channel's webhook is gone (it is the operator's job now)."""
    event = ServiceDown(
        service=f"discord webhook #{channel}",
        server="herald",
        duration=timedelta(0),
        impact=f"{reason}. Its events are in the dead-letter queue: fix the webhook, then "
        f"`herald dlq replay --channel {channel}`.",
    )
    envelope = wrap(event, source="herald", now_ns=time.time_ns())
    item = OutboxItem(raw=encode(envelope), queued_ms=int(time.time() * 1000))
    client.rpush(keys.outbox(CRITICAL_ALERTS), item.pack())
