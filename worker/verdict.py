"""The verdict of `herald status`: one sentence per problem in a snapshot, saying what is
wrong, where, and what to do about it (an empty list: healthy)."""

from ground.channels import webhook_env
from worker.status_model import ChannelStatus, LaneStatus, Status


def diagnose(status: Status) -> list[str]:
    """Every problem of `status`: channels first, then streams, the DLQ and processes."""
    problems = [
        problem
        for c in status.channels
        if (problem := _channel_problem(c, status.max_lag_s)) is not None
    ]
    problems += [
        _lane_problem(lane) for lane in status.lanes if (lane.oldest_age_s or 0) > status.max_lag_s
    ]
    if status.dlq_size:
        problems.append(_dlq_problem(status))
    return problems + _process_problems(status)


def _channel_problem(c: ChannelStatus, max_lag_s: float) -> str | None:
    env = webhook_env(c.name)
    if c.webhook == "dead":
        return (
            f"#{c.name}: Discord says its webhook is gone ({c.dead_reason}); its events "
            f"go to the dead-letter queue. Create a new webhook, set it in {env} (or "
            f"herald.toml), restart Herald, then run "
            f"`herald dlq replay --channel {c.name}`."
        )
    if c.webhook == "none" and c.queued:
        return (
            f"#{c.name}: {_n(c.queued, 'event')} waiting but no webhook is configured. "
            f"Set {env} (or channels.{c.name}.webhook in herald.toml) and restart the "
            "workers, or route those events elsewhere."
        )
    if (c.oldest_undelivered_age_s or 0) > max_lag_s:
        why = f"; last error: {c.last_error}" if c.last_error else ""
        wait = f"; next send in {format_age(c.next_send_in_s)}" if c.next_send_in_s else ""
        age, limit = format_age(c.oldest_undelivered_age_s), format_age(max_lag_s)
        return (
            f"#{c.name}: backlog of {_n(c.queued, 'event')}, the oldest waiting {age} "
            f"(limit {limit}){wait}{why}. Check that `herald worker` is running and "
            "look at its log."
        )
    return None


def _lane_problem(lane: LaneStatus) -> str:
    return (
        f"The {lane.name} stream has {_n(lane.lag, 'event')} not yet dispatched, the oldest "
        f"{format_age(lane.oldest_age_s)} old. "
        "Check that `herald dispatch` is running and look at its log."
    )


def _dlq_problem(status: Status) -> str:
    newest = status.dlq_newest[0] if status.dlq_newest else None
    latest = f" (newest: {newest.channel or 'no channel'}: {newest.reason})" if newest else ""
    return (
        f"{_n(status.dlq_size, 'event')} in the dead-letter queue{latest}. Inspect them with "
        "`herald dlq ls`, fix the cause, then `herald dlq replay` (or `herald dlq drop`)."
    )


def _process_problems(status: Status) -> list[str]:
    """A dispatcher or delivery worker missing while there is work for it."""
    problems = []
    deliverable = sum(c.queued for c in status.channels if c.webhook == "configured")
    undispatched = sum(lane.lag + lane.pending for lane in status.lanes)
    if not status.dispatchers_alive and (undispatched or deliverable):
        problems.append(
            f"No dispatcher is running, with {_n(undispatched, 'event')} waiting in the "
            f"streams and {deliverable} in outboxes. Start `herald dispatch` (or check "
            "supervisord)."
        )
    if not status.workers_alive and deliverable:
        problems.append(
            f"No delivery worker is running, with {_n(deliverable, 'event')} waiting to be sent. "
            "Start `herald worker` (or check supervisord)."
        )
    return problems


def format_age(seconds: float | None) -> str:
    """`4.2s`, `42s`, `3m 07s`, `2h 05m`."""
    s = round(seconds or 0.0)
    if s < 60:
        return f"{seconds or 0:.1f}s" if s < 10 else f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
