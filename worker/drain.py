"""How fast a channel's backlog drains at Discord's limits: one rule for the flush job's
digest threshold and for `herald status`, which tells a backlog that is draining at the
configured rate from a stalled one."""

from collections.abc import Sequence

from worker.limits import EMBEDS

Windows = Sequence[tuple[int, float]]
"""`delivery.rate`: (messages, seconds) per window, as in `worker.config.Settings`."""

DIGEST_FLOOR = 50
"""A digest channel never collapses a backlog this small."""


def slowest(windows: Windows) -> tuple[int, float]:
    """The window allowing the fewest messages a second (30/60s beside 5/2s)."""
    return min(windows, key=lambda w: w[0] / w[1])


def events_per_second(windows: Windows) -> float:
    """Events a channel delivers a second at full speed: the slowest window's messages a
    second, `EMBEDS` events each."""
    messages, seconds = slowest(windows)
    return messages / seconds * EMBEDS


def digest_threshold(windows: Windows, max_lag_s: float) -> int:
    """A digest channel's backlog longer than this (what it can send within `max_lag`)
    collapses into one digest instead of being sent event by event."""
    return max(DIGEST_FLOOR, int(events_per_second(windows) * max_lag_s))


def collapses(queued: int, windows: Windows, *, max_lag_s: float, digest: bool) -> bool:
    """Whether the flush job sends this backlog as one digest message."""
    return digest and queued > digest_threshold(windows, max_lag_s)


def drain_seconds(queued: int, windows: Windows, *, max_lag_s: float, digest: bool) -> float:
    """Seconds to send `queued` events at full speed once the next slot comes (none for
    a backlog that collapses into one digest)."""
    if collapses(queued, windows, max_lag_s=max_lag_s, digest=digest):
        return 0.0
    return queued / events_per_second(windows)


def longest_window_s(windows: Windows) -> float:
    """The longest a channel sending at its limit may have to wait for its next slot."""
    return max(seconds for _, seconds in windows)
