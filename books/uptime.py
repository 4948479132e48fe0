"""A daily report's uptime, from the monitor's five-minute buckets (`worker.uptime_buckets`).

The monitor keeps a day of buckets, so only a daily report can have an uptime, and only
when the buckets it still holds cover most of the day (`MIN_COVERAGE` of it, up to now for
a day still running): a figure over a few hours would read as the day's. No monitor, or
too little of the day left in its buckets: None, and the card leaves the field out.
"""

import time
from typing import Final

import redis

from books.periods import Period
from worker.uptime_buckets import uptime_between

MIN_COVERAGE: Final = 0.9
"""Share of the day the monitor's kept results must span for the report to show uptime."""


def report_uptime(client: redis.Redis, period: Period, now: float | None = None) -> float | None:
    if period.kind != "daily":
        return None
    start = period.start.timestamp()
    end = min(period.end.timestamp(), time.time() if now is None else now)
    if end <= start:
        return None
    pct, since = uptime_between(client, start, end)
    if pct is None or (end - since) < MIN_COVERAGE * (end - start):
        return None
    return pct
