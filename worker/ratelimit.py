"""A rate budget per webhook, shared by the whole worker pool through Redis.

Discord's 429s are expensive: they count toward the 10,000-invalid-requests ban, and a
Cloudflare 429 means the whole IP is in trouble. So Herald asks before it sends:
`reserve` answers "go now" or "wait this long" from sliding windows kept in Redis, and
`observe`/`penalize`/`pause_all` fold Discord's own answers back in. Each step is one
Lua script using Redis `TIME`, so every worker shares one clock and one atomic decision.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis import Redis

from ground import keyspace
from ground.errors import RedisUnavailable
from ground.rates import CHANNEL_RATE, WEBHOOK_RATE
from ground.redact import redact
from worker.discord import RateHeaders

__all__ = [
    "DEFAULT_WINDOWS",
    "LEARNED_LIMIT_TTL",
    "MAX_BLOCK",
    "WINDOW_MARGIN_S",
    "RateBudget",
    "Window",
    "budget_windows",
]

LEARNED_LIMIT_TTL = 600.0  # Discord may raise the limit again; re-learn every 10 min
MAX_BLOCK = 24 * 3600.0  # longest block any header or caller can impose
_US = 1_000_000

# KEYS: block, global pause, learned limit, then one sorted set per window (shortest
# first). ARGV: record (1) or dry run (0), then limit and length in µs per window.
# Returns {granted, wait_us, now_us, learned (-1: none), blocked_until_us (0: none),
# sends in each window}. Integers only: Lua numbers come back truncated.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local blocked = 0
for i = 1, 2 do
  local b = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if b > blocked then blocked = b end
end
if blocked > now then wait = blocked - now else blocked = 0 end
local learned = tonumber(redis.call('GET', KEYS[3]) or '-1') or -1
local counts = {}
for i = 4, #KEYS do
  local limit = tonumber(ARGV[(i - 4) * 2 + 2])
  local span = tonumber(ARGV[(i - 4) * 2 + 3])
  if i == 4 and learned > 0 and learned < limit then limit = learned end
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
  local n = redis.call('ZCARD', KEYS[i])
  counts[#counts + 1] = n
  if n >= limit then
    -- the send that must leave the window before one more fits
    local oldest = redis.call('ZRANGE', KEYS[i], n - limit, n - limit, 'WITHSCORES')
    local w = tonumber(oldest[2]) + span - now
    if w > wait then wait = w end
  end
end
local granted = 0
if wait == 0 and ARGV[1] == '1' then
  granted = 1
  for i = 4, #KEYS do
    local span = tonumber(ARGV[(i - 4) * 2 + 3])
    redis.call('ZADD', KEYS[i], now, string.format('%d:%d', now, counts[i - 3]))
    redis.call('PEXPIRE', KEYS[i], math.ceil(span / 1000) + 1)
  end
end
local result = {granted, wait, now, learned, blocked}
for i = 1, #counts do result[#result + 1] = counts[i] end
return result
"""

# KEYS: a block key. ARGV: seconds from now in µs. Only ever extends a block.
_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local till = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if till > current then
  redis.call('SET', KEYS[1], string.format('%d', till), 'PX', math.ceil((till - now) / 1000) + 1)
  return till
end
return current
"""


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` sends in any `seconds`-long interval."""

    limit: int
    seconds: float

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"Window limit must be a positive integer, got {self.limit!r}")
        if (
            isinstance(self.seconds, bool)
            or not isinstance(self.seconds, int | float)
            or not math.isfinite(self.seconds)
            or self.seconds <= 0
        ):
            raise ValueError(f"Window seconds must be a positive number, got {self.seconds!r}")


DEFAULT_WINDOWS: tuple[Window, ...] = tuple(
    Window(rate.limit, rate.period) for rate in (WEBHOOK_RATE, CHANNEL_RATE)
)
"""Discord's observed limits: 5 requests / 2 s per webhook, 30 messages / min per channel."""

WINDOW_MARGIN_S = 0.25
"""Each window is a little longer than Discord's: our clock starts at reserve() and
Discord's at arrival, so network jitter could otherwise squeeze N+1 sends into Discord's
window (seen as occasional 429s in the 5,000-event burst test)."""


def budget_windows(rate_windows: Sequence[tuple[int, float]]) -> list[Window]:
    """The windows the engine enforces for the configured `delivery.rate`."""
    return [Window(limit, seconds + WINDOW_MARGIN_S) for limit, seconds in rate_windows]


class RateBudget:
    """Per-webhook send budget in Redis; `webhook_key` is a webhook id or channel name,
    never a URL (URLs carry the token, and keys show up in `status`)."""

    def __init__(
        self,
        redis: Redis,
        *,
        windows: Sequence[Window] = DEFAULT_WINDOWS,
        prefix: str = keyspace.RATE_PREFIX,
    ) -> None:
        if not windows:
            raise ValueError("RateBudget needs at least one Window")
        for window in windows:
            if not isinstance(window, Window):
                raise ValueError(f"windows must hold Window objects, got {window!r}")
        ordered = tuple(sorted(windows, key=lambda w: w.seconds))
        spans = [_micros(w.seconds) for w in ordered]
        if len(set(spans)) != len(spans):
            raise ValueError(f"two windows have the same length: {list(windows)!r}")
        self._redis = redis
        self.windows = ordered
        self.prefix = prefix
        self._spans = spans
        self._reserve = redis.register_script(_RESERVE)
        self._block = redis.register_script(_BLOCK)

    def reserve(self, webhook_key: str) -> float:
        """0.0 if a send may go now (and it is counted), else seconds to wait (nothing
        counted: sleep that long and call again)."""
        granted, wait_us, *_ = self._check(webhook_key, record=True)
        return 0.0 if granted else wait_us / _US

    def observe(self, webhook_key: str, rate: RateHeaders) -> None:
        """Fold Discord's headers in: an exhausted bucket blocks the key until it resets,
        and a `limit` below our shortest window's becomes that window's limit for a while."""
        base = self._key(webhook_key)
        reset_after = rate.reset_after
        if reset_after is None and rate.reset is not None:
            reset_after = rate.reset - time.time()  # Discord's clock vs ours: a fallback
        if rate.remaining == 0 and reset_after is not None and reset_after > 0:
            self._extend(base + "block", reset_after)
        limit = rate.limit
        if limit is not None and limit >= 1:
            if limit < self.windows[0].limit:
                px = int(LEARNED_LIMIT_TTL * 1000)
                self._call(lambda: self._redis.set(base + "limit", limit, px=px))
            else:  # Discord raised it again: forget what we learned
                self._call(lambda: self._redis.delete(base + "limit"))

    def penalize(self, webhook_key: str, retry_after: float) -> None:
        """A 429 on this webhook: nobody sends to it for `retry_after` seconds."""
        self._extend(self._key(webhook_key) + "block", _duration(retry_after, "retry_after"))

    def pause_all(self, seconds: float) -> None:
        """A global or Cloudflare 429: every webhook waits (callers pass a long pause for
        Cloudflare, e.g. max(retry_after, 60))."""
        self._extend(self.prefix + "pause", _duration(seconds, "seconds"))

    def blocked_until(self, webhook_key: str) -> float | None:
        """Epoch seconds (Redis clock) until which the key is blocked, or None."""
        blocked = self._check(webhook_key, record=False)[4]
        return blocked / _US if blocked else None

    def state(self, webhook_key: str) -> dict[str, Any]:
        """A snapshot for `herald status` (counts nothing); times are Redis epoch seconds."""
        _, wait_us, now_us, learned, blocked, *counts = self._check(webhook_key, record=False)
        windows = [
            {
                "limit": self._limit(i, learned),
                "seconds": window.seconds,
                "sent": sent,
            }
            for i, (window, sent) in enumerate(zip(self.windows, counts, strict=True))
        ]
        return {
            "key": webhook_key,
            "now": now_us / _US,
            "windows": windows,
            "learned_limit": learned if learned > 0 else None,
            "blocked_until": blocked / _US if blocked else None,
            "next_allowed": (now_us + wait_us) / _US,
        }

    def _limit(self, index: int, learned: int) -> int:
        limit = self.windows[index].limit
        return min(limit, learned) if index == 0 and learned > 0 else limit

    def _check(self, webhook_key: str, *, record: bool) -> list[int]:
        base = self._key(webhook_key)
        keys = [base + "block", self.prefix + "pause", base + "limit"]
        keys += [f"{base}w:{span}" for span in self._spans]
        args: list[int] = [1 if record else 0]
        for window, span in zip(self.windows, self._spans, strict=True):
            args += [window.limit, span]
        result = self._call(lambda: self._reserve(keys=keys, args=args))
        return [int(v) for v in result]

    def _extend(self, key: str, seconds: float) -> None:
        # Capped: a garbled header must not silence a webhook for years.
        if seconds > 0:
            span = _micros(min(seconds, MAX_BLOCK))
            self._call(lambda: self._block(keys=[key], args=[span]))

    def _key(self, webhook_key: str) -> str:
        if not isinstance(webhook_key, str) or not webhook_key:
            raise ValueError("webhook_key must be a non-empty string (a webhook id)")
        if "://" in webhook_key or "/webhooks/" in webhook_key:
            # Do not echo the value: it is probably a URL with its token.
            raise ValueError("webhook_key looks like a URL: pass the webhook id instead")
        return f"{self.prefix}wh:{webhook_key}:"

    @staticmethod
    def _call(command: Callable[[], Any]) -> Any:
        """Translate Redis connectivity failures, in one place, into `RedisUnavailable`."""
        try:
            return command()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise RedisUnavailable(
                f"rate budget: Redis unreachable ({redact(str(exc))}); check that Redis is up"
            ) from exc


def _micros(seconds: float) -> int:
    return math.ceil(seconds * _US)


def _duration(seconds: float, name: str) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError(f"{name} must be a number of seconds, got {seconds!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {seconds!r}")
    return float(seconds)
