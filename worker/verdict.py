"""The verdict of `herald status`: each problem in a snapshot, saying what is wrong, where
and what to do about it (none: healthy), and notes on what looks wrong but is not.

A backlog older than `max_lag` is not by itself a problem: Discord allows a channel 30
messages a minute, so a burst of thousands of events takes minutes however healthy the
engine is. It is a problem when it is stalled (no worker, nothing delivered lately, or
requests failing); while it drains at the configured rate it is a note with the expected
drain time. Each problem has a stable key, so the monitor can page when one appears and
when it clears.
"""

from dataclasses import dataclass

from ground import keyspace
from ground.channels import webhook_env
from worker import drain
from worker.limits import EMBEDS
from worker.status_model import STALE_INTERVALS, ChannelStatus, LaneStatus, Status

RECENT_FLOOR_S = 60.0
"""A channel that delivered within max(this, 2 × its longest rate window) is draining."""


@dataclass(frozen=True, slots=True)
class Problem:
    key: str
    """Stable while the problem lasts: `stalled:<channel>`, `lane-behind:<lane>`, `dlq`..."""
    text: str
    channel: str | None = None


def diagnose(status: Status) -> list[str]:
    """Every problem of `status` as a sentence (an empty list: healthy)."""
    return [p.text for p in problems(status)]


def problems(status: Status) -> list[Problem]:
    """Channels first, then streams, the DLQ, processes and the monitor."""
    found = [p for c in status.channels if (p := _channel_problem(c, status)) is not None]
    found += [
        _lane_problem(lane) for lane in status.lanes if (lane.oldest_age_s or 0) > status.max_lag_s
    ]
    if status.dlq_size:
        found.append(_dlq_problem(status))
    found += _process_problems(status)
    if status.checks and all(check.stale for check in status.checks):
        found.append(_monitor_silent(status))
    return found


def notes(status: Status) -> list[str]:
    """Backlogs draining at Discord's limit, and monitor checks gone stale."""
    out = [_draining_note(c, status) for c in status.channels if _draining(c, status)]
    stale = [check for check in status.checks if check.stale]
    if stale and len(stale) < len(status.checks):
        listed = ", ".join(
            f"{check.name} (last {format_age(max(0.0, status.time - check.last_at))} ago)"
            for check in stale
        )
        out.append(
            f"Monitor checks not run for over {STALE_INTERVALS} of their intervals (stale): "
            f"{listed}. Is `herald monitor` running them?"
        )
    return out


# -- channels -------------------------------------------------------------------------------


def _channel_problem(c: ChannelStatus, status: Status) -> Problem | None:
    env = webhook_env(c.name)
    if c.webhook == "dead":
        return Problem(
            f"webhook-dead:{c.name}",
            f"#{c.name}: Discord says its webhook is gone ({c.dead_reason}); its events "
            f"go to the dead-letter queue. Create a new webhook, set it in {env} (or "
            f"herald.toml), restart Herald, then run "
            f"`herald dlq replay --channel {c.name}`.",
            c.name,
        )
    if c.webhook == "none" and c.queued:
        return Problem(
            f"no-webhook:{c.name}",
            f"#{c.name}: {_n(c.queued, 'event')} waiting but no webhook is configured. "
            f"Set {env} (or channels.{c.name}.webhook in herald.toml) and restart the "
            "workers, or route those events elsewhere.",
            c.name,
        )
    if _late(c, status) and not _draining(c, status):
        return Problem(f"stalled:{c.name}", _stalled(c, status), c.name)
    return None


def _late(c: ChannelStatus, status: Status) -> bool:
    return (c.oldest_undelivered_age_s or 0) > status.max_lag_s


def _failing(c: ChannelStatus) -> bool:
    return bool(c.attempts and c.last_error)


def _draining(c: ChannelStatus, status: Status) -> bool:
    """A late backlog that Discord's limits explain: a live worker sends it at its rate,
    or it only waits for its rate-limit slot."""
    if not _late(c, status) or c.webhook != "configured" or not status.workers_alive:
        return False
    if _failing(c):
        return False
    return _delivered_lately(c, status) or bool(c.next_send_in_s)


def _delivered_lately(c: ChannelStatus, status: Status) -> bool:
    recent = max(RECENT_FLOOR_S, 2 * drain.longest_window_s(_windows(status)))
    return c.last_delivered_at is not None and status.time - c.last_delivered_at <= recent


def _stalled(c: ChannelStatus, status: Status) -> str:
    age, limit = format_age(c.oldest_undelivered_age_s), format_age(status.max_lag_s)
    if c.last_delivered_at is None:
        last = "nothing delivered yet"
    else:
        last = f"last delivery {format_age(status.time - c.last_delivered_at)} ago"
    wait = f"; next send in {format_age(c.next_send_in_s)}" if c.next_send_in_s else ""
    if _failing(c):
        why = f"; attempt {c.attempts} failed: {c.last_error}"
        todo = (
            "Look at that error and at `herald worker`'s log; after delivery.max_attempts "
            "the events go to the dead-letter queue."
        )
    else:
        why = f"; last error: {c.last_error}" if c.last_error else ""
        todo = "Check that `herald worker` is running and look at its log."
    return (
        f"#{c.name}: backlog of {_n(c.queued, 'event')}, the oldest waiting {age} "
        f"(limit {limit}), {last}{wait}{why}. {todo}"
    )


def _draining_note(c: ChannelStatus, status: Status) -> str:
    windows, max_lag = _windows(status), status.max_lag_s
    messages, seconds = drain.slowest(windows)
    rate = f"Discord's limit ({_per(messages, seconds)}, up to {EMBEDS} events each)"
    oldest = format_age(c.oldest_undelivered_age_s)
    head = f"#{c.name}: {_n(c.queued, 'event')} queued, the oldest for {oldest}"
    wait = c.next_send_in_s or 0.0
    if drain.collapses(c.queued, windows, max_lag_s=max_lag, digest=c.digest):
        return (
            f"{head}: more than it can send within {format_age(max_lag)} at {rate}, so "
            f"they collapse into one digest, sent {_within(wait)}."
        )
    left = wait + drain.drain_seconds(c.queued, windows, max_lag_s=max_lag, digest=c.digest)
    threshold = drain.digest_threshold(windows, max_lag)
    digest = f"; a backlog over {threshold:,} events collapses into a digest" if c.digest else ""
    return f"{head}, sending at {rate}: drained {_within(left)}{digest}."


def _windows(status: Status) -> list[tuple[int, float]]:
    return [(w.messages, w.seconds) for w in status.rate_windows]


# -- streams, the DLQ, processes, the monitor ------------------------------------------------


def _lane_problem(lane: LaneStatus) -> Problem:
    return Problem(
        f"lane-behind:{lane.name}",
        f"The {lane.name} stream has {_n(lane.lag, 'event')} not yet dispatched, the oldest "
        f"{format_age(lane.oldest_age_s)} old. "
        "Check that `herald dispatch` is running and look at its log.",
    )


def _dlq_problem(status: Status) -> Problem:
    newest = status.dlq_newest[0] if status.dlq_newest else None
    latest = f" (newest: {newest.channel or 'no channel'}: {newest.reason})" if newest else ""
    return Problem(
        "dlq",
        f"{_n(status.dlq_size, 'event')} in the dead-letter queue{latest}. Inspect them with "
        "`herald dlq ls`, fix the cause, then `herald dlq replay` (or `herald dlq drop`).",
    )


def _process_problems(status: Status) -> list[Problem]:
    """A dispatcher or delivery worker missing while there is work for it."""
    found = []
    deliverable = sum(c.queued for c in status.channels if c.webhook == "configured")
    undispatched = sum(lane.lag + lane.pending for lane in status.lanes)
    if not status.dispatchers_alive and (undispatched or deliverable):
        found.append(
            Problem(
                "no-dispatcher",
                f"No dispatcher is running, with {_n(undispatched, 'event')} waiting in the "
                f"streams and {deliverable:,} in outboxes. Start `herald dispatch` (or check "
                "supervisord).",
            )
        )
    if not status.workers_alive and deliverable:
        found.append(
            Problem(
                "no-worker",
                f"No delivery worker is running, with {_n(deliverable, 'event')} waiting to be "
                "sent. Start `herald worker` (or check supervisord).",
            )
        )
    return found


def _monitor_silent(status: Status) -> Problem:
    last = max(check.last_at for check in status.checks)
    return Problem(
        "monitor-stale",
        f"The monitor has run none of its {_n(len(status.checks), 'check')} for over "
        f"{STALE_INTERVALS} of their intervals (the last ran {format_age(status.time - last)} "
        "ago). Check that `herald monitor` is running and look at its log (if it is retired, "
        f"delete the Redis key {keyspace.MONITOR_CHECKS}).",
    )


# -- words ----------------------------------------------------------------------------------


def format_age(seconds: float | None) -> str:
    """`4.2s`, `42s`, `3m 07s`, `2h 05m`."""
    s = round(seconds or 0.0)
    if s < 60:
        return f"{seconds or 0:.1f}s" if s < 10 else f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def _within(seconds: float) -> str:
    """`in under a minute`, `in about 6 min`, `in about 2.5 h`."""
    if seconds < 60:
        return "in under a minute"
    if seconds < 90 * 60:
        return f"in about {round(seconds / 60)} min"
    return f"in about {seconds / 3600:.1f} h"


def _per(messages: int, seconds: float) -> str:
    """`30 messages/min`, `5 messages/2s`."""
    unit = {1.0: "s", 60.0: "min", 3600.0: "h"}.get(seconds, f"{seconds:g}s")
    return f"{messages} {'message' if messages == 1 else 'messages'}/{unit}"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
