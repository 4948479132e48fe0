"""The dispatcher's view of the mutes: read from Redis at most once a second, applied per
event without a Redis call.

A mute is applied where events are routed, so a muted copy never reaches an outbox and
never takes a rate-limit slot. Channel mutes drop only that channel's copy; an event left
with no channel (or of a muted kind, or under a mute of everything) is muted: the commit
script records it in the ledger as `muted` and counts it, so it is still accounted for.
The audit trail (`manual_operation`, where every mute and unmute is itself recorded) is
never muted. Expiry is checked against the clock at each batch, not at the refresh, so a
mute ends on time; a new mute takes effect within one refresh.
"""

import time
from collections.abc import Callable, Sequence
from typing import Final

import redis

from ground import keyspace
from schemas import ManualOperation
from worker import mutes

REFRESH_S: Final = 1.0
NEVER_MUTED: Final = frozenset({ManualOperation.kind()})
"""Kinds no mute silences: the audit trail of who muted what (and every other control)."""

Channels = Sequence[str]
Route = Callable[[str, Channels], tuple[Channels, bool]]
"""(kind, channels) -> (the channels to send to, whether the event is muted)."""


def unmuted(_kind: str, channels: Channels) -> tuple[Channels, bool]:
    return channels, False


def router(active: Sequence[mutes.Mute]) -> Route:
    """The routing rule for a set of mutes in force."""
    targets = {m.target for m in active}
    everything = mutes.ALL in targets
    kinds = {t.removeprefix(mutes.KIND) for t in targets if t.startswith(mutes.KIND)}
    silenced = {t.removeprefix(mutes.CHANNEL) for t in targets if t.startswith(mutes.CHANNEL)}

    def route(kind: str, channels: Channels) -> tuple[Channels, bool]:
        if not channels or kind in NEVER_MUTED:
            return channels, False  # unrouted stays unrouted
        if everything or kind in kinds:
            return (), True
        sent = tuple(c for c in channels if c not in silenced)
        return sent, not sent

    return route


class MuteCache:
    def __init__(
        self,
        client: redis.Redis,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.refresh_s = refresh_s
        self.clock = clock
        self.mutes: list[mutes.Mute] = []
        self.loaded_at = 0.0
        """Clock time of the last read (0: never)."""

    def route(self) -> Route:
        """The rule for this batch: the mutes read at most `refresh_s` ago, minus the
        ones that have ended since."""
        now = self.clock()
        if not 0 <= now - self.loaded_at < self.refresh_s:  # due, or the clock stepped back
            raw = self.client.hgetall(keyspace.MUTES)
            self.mutes = mutes.decode_all(raw, now)
            self.loaded_at = now
        active = [m for m in self.mutes if m.active(now)]
        return router(active) if active else unmuted
