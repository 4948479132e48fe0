"""Uptime over the last 24 hours, from every check result, in bounded memory.

Each result is counted in a five-minute bucket of its check's hash (`<bucket>:n`, and
`<bucket>:ok` when it passed); buckets older than a day are dropped as new ones open, so
a check costs at most 2 × 288 small fields however often it runs. The bucket rule lives
in `worker.uptime_buckets`, shared with the books (a daily report's uptime).
"""

from collections.abc import Iterable
from typing import cast

from redis.asyncio import Redis

from ground import keyspace
from worker.uptime_buckets import (
    BUCKET_S,
    PASSED,
    RESULTS,
    WINDOW_S,
    bucket_in,
    bucket_of,
    count,
    field,
    share,
    window_start,
)

__all__ = ["BUCKET_S", "WINDOW_S", "bucket_of", "record", "uptime_pct"]


async def record(client: Redis, check: str, ok: bool, at: float) -> None:
    """Count one result; on the first result of a new bucket, forget day-old buckets."""
    key, bucket = keyspace.monitor_uptime(check), bucket_of(at)
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(key, field(bucket, RESULTS), 1)
    if ok:
        pipe.hincrby(key, field(bucket, PASSED), 1)
    pipe.expire(key, 2 * WINDOW_S)
    first_in_bucket = (await pipe.execute())[0] == 1
    if first_in_bucket:
        await _forget_old(client, key, bucket)


async def _forget_old(client: Redis, key: str, bucket: int) -> None:
    oldest = window_start(bucket * BUCKET_S)
    names = cast(list[bytes], await client.hkeys(key))
    fields = [f for f in names if bucket_in(f) < oldest]
    if fields:
        await client.hdel(key, *fields)


async def uptime_pct(client: Redis, checks: Iterable[str], now: float) -> float | None:
    """Share of passing results over the last 24 h, all checks together (None: no data)."""
    names = list(checks)
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(keyspace.monitor_uptime(name))
    return share(*count(await pipe.execute(), window_start(now)))
