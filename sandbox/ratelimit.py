"""Sliding-window rate limits per webhook, per channel and global, with Discord's headers.

A window remembers when each of its last `limit` requests was admitted, so a slot
frees exactly `period` seconds after it was used. `Reset-After` is the time until the
next slot frees: the moment a client that sees `Remaining: 0` may send again.
Checks peek every applicable window first and consume only if all admit, so a 429
never uses up a slot (Discord does not count rejected requests against a bucket).
"""

import hashlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ground.rates import Rate

SCOPE_USER, SCOPE_SHARED, SCOPE_GLOBAL = "user", "shared", "global"


@dataclass(frozen=True)
class Verdict:
    """What one window says about a request: the numbers behind the X-RateLimit headers."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    bucket: str
    scope: str

    def headers(self, now_epoch: float) -> dict[str, str]:
        """Times are rounded *up* to the ms: sleeping exactly `Reset-After` must be enough."""
        reset_after = math.ceil(self.reset_after * 1000) / 1000
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{math.ceil((now_epoch + reset_after) * 1000) / 1000:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": self.bucket,
        }


class Window:
    """The admission times of the last `rate.limit` requests for one key."""

    __slots__ = ("bucket", "rate", "scope", "stamps")

    def __init__(self, rate: Rate, bucket: str, scope: str) -> None:
        self.rate, self.bucket, self.scope = rate, bucket, scope
        self.stamps: deque[float] = deque()

    def _expire(self, now: float) -> None:
        horizon = now - self.rate.period
        while self.stamps and self.stamps[0] <= horizon:
            self.stamps.popleft()

    def peek(self, now: float) -> Verdict:
        """Would a request now be admitted? Reports the state *after* admitting it."""
        self._expire(now)
        used = len(self.stamps)
        allowed = used < self.rate.limit
        remaining = self.rate.limit - used - 1 if allowed else 0
        first = self.stamps[0] if self.stamps else now
        # After admission the oldest stamp decides when the next slot frees.
        reset_after = max(0.0, first + self.rate.period - now)
        return Verdict(allowed, self.rate.limit, remaining, reset_after, self.bucket, self.scope)

    def consume(self, now: float) -> None:
        self.stamps.append(now)


def bucket_hash(key: str) -> str:
    """An opaque, stable bucket id like Discord's (which never reveals the route)."""
    return hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:32]


class RateLimiter:
    """All windows of a sandbox; `None` rates switch a limit off."""

    def __init__(
        self,
        webhook: Rate | None,
        channel: Rate | None,
        global_: Rate | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.webhook_rate, self.channel_rate, self.global_rate = webhook, channel, global_
        self.clock = clock
        self._windows: dict[str, Window] = {}

    def reset(self) -> None:
        self._windows.clear()

    def _window(self, key: str, rate: Rate, scope: str) -> Window:
        window = self._windows.get(key)
        if window is None or window.rate != rate:
            window = self._windows[key] = Window(rate, bucket_hash(key), scope)
        return window

    def windows_for(self, webhook_id: str, channel_id: str | None) -> list[Window]:
        """Global first (it is the harshest answer), then the webhook, then its channel."""
        found: list[Window] = []
        if self.global_rate is not None:
            found.append(self._window("global", self.global_rate, SCOPE_GLOBAL))
        if self.webhook_rate is not None:
            found.append(self._window(f"webhook:{webhook_id}", self.webhook_rate, SCOPE_USER))
        if self.channel_rate is not None and channel_id is not None:
            found.append(self._window(f"channel:{channel_id}", self.channel_rate, SCOPE_SHARED))
        return found

    def admit(
        self, webhook_id: str, channel_id: str | None
    ) -> tuple[Verdict | None, Verdict | None]:
        """Return (blocking verdict or None, verdict to report in headers) and consume if admitted.

        The reported verdict on success is the webhook's own bucket, as Discord reports
        the route bucket; a channel limit can therefore 429 while `Remaining > 0`.
        """
        now = self.clock()
        verdicts = [w.peek(now) for w in self.windows_for(webhook_id, channel_id)]
        blocked = next((v for v in verdicts if not v.allowed), None)
        if blocked is not None:
            return blocked, blocked
        for window in self.windows_for(webhook_id, channel_id):
            window.consume(now)
        shown = next((v for v in verdicts if v.scope == SCOPE_USER), None)
        return None, shown or (verdicts[0] if verdicts else None)
