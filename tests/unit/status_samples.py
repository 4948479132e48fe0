"""Hand-made `Status` snapshots for the verdict and view tests: healthy defaults, so each
test states only what it is about."""

import time
from typing import Any

from worker.status_model import (
    ChannelStatus,
    CheckStatus,
    RateWindow,
    Status,
    Totals,
)

NOW = time.time()


def totals() -> Totals:
    return Totals(
        events_in={}, duplicates=0, folded=0, delivered=0, digested=0, dead_lettered=0,
        rate_limited={}, retries=0, messages=0, requests=0, replayed=0, unrouted=0,
    )  # fmt: skip


def channel(name: str = "trading-alerts", **kw: Any) -> ChannelStatus:
    fields: dict[str, Any] = dict(
        name=name, webhook="configured", dead_reason=None, published=0, queued=0,
        delivered=0, digested=0, folded=0, dead_lettered=0, messages=0, requests=0,
        rate_limited=0, retries=0, retry_at=None, next_send_in_s=None,
        oldest_undelivered_age_s=None, in_flight=False, last_error=None, attempts=0,
        last_delivered_at=None, digest=False,
    )  # fmt: skip
    fields.update(kw)
    return ChannelStatus(**fields)


def check(name: str = "api", **kw: Any) -> CheckStatus:
    fields: dict[str, Any] = dict(
        name=name, kind="http", state="up", since=NOW - 3600, last_latency_ms=12.5,
        last_detail="HTTP 200", last_at=NOW - 5, server="web-1", interval_s=30.0,
    )  # fmt: skip
    fields.update(kw)
    made = CheckStatus(**fields)
    made.stale = made.is_stale(NOW)
    return made


def status(**kw: Any) -> Status:
    fields: dict[str, Any] = dict(
        time=NOW, redis="redis://127.0.0.1:6379/0", healthy=True, problems=[],
        max_lag_s=60.0,
        rate_windows=[RateWindow(messages=5, seconds=2.0), RateWindow(messages=30, seconds=60.0)],
        channels=[], lanes=[], workers_alive=6, workers=[f"w{i}" for i in range(6)],
        dispatchers_alive=1, dispatchers=["dispatch-0"], producers=[], dlq_size=0,
        dlq_newest=[], totals=totals(),
    )  # fmt: skip
    fields.update(kw)
    return Status(**fields)
