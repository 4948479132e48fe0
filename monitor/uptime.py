"""Uptime over the last 24 hours, from every check result, in bounded memory.

Each result is counted in a five-minute bucket of its check's hash (`<bucket>:n`, and
`<bucket>:ok` when it passed); buckets older than a day are dropped as new ones open, so
a check costs at most 2 × 288 small fields however often it runs.
"""

from collections.abc import Iterable
from typing import Final, cast

from redis.asyncio import Redis

from ground import keyspace

BUCKET_S: Final = 300
WINDOW_S: Final = 86_400


def bucket_of(at: float) -> int:
    return int(at // BUCKET_S)


async def record(client: Redis, check: str, ok: bool, at: float) -> None:
    """Count one result; on the first result of a new bucket, forget day-old buckets."""
    key, bucket = keyspace.monitor_uptime(check), bucket_of(at)
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(key, f"{bucket}:n", 1)
    if ok:
        pipe.hincrby(key, f"{bucket}:ok", 1)
    pipe.expire(key, 2 * WINDOW_S)
    first_in_bucket = (await pipe.execute())[0] == 1
    if first_in_bucket:
        await _forget_old(client, key, bucket)


async def _forget_old(client: Redis, key: str, bucket: int) -> None:
    oldest = bucket - WINDOW_S // BUCKET_S
    names = cast(list[bytes], await client.hkeys(key))
    fields = [f for f in names if int(f.split(b":")[0]) <= oldest]
    if fields:
        await client.hdel(key, *fields)


async def uptime_pct(client: Redis, checks: Iterable[str], now: float) -> float | None:
    """Share of passing results over the last 24 h, all checks together (None: no data)."""
    oldest = bucket_of(now) - WINDOW_S // BUCKET_S
    names = list(checks)
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(keyspace.monitor_uptime(name))
    passed = total = 0
    for buckets in await pipe.execute():
        for field, value in buckets.items():
            bucket, what = field.split(b":")
            if int(bucket) > oldest:
                if what == b"ok":
                    passed += int(value)
                else:
                    total += int(value)
    return None if total == 0 else 100.0 * passed / total
