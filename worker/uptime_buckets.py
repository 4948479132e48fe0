"""The monitor's uptime buckets: one rule for the monitor that writes them and the books
that read them for a report's uptime.

Each check has a hash (`keyspace.monitor_uptime`) with, per five-minute bucket (epoch
seconds // `BUCKET_S`), `<bucket>:n` (results) and `<bucket>:ok` (passing results). The
monitor keeps a day of them (`WINDOW_S`); uptime over any run of buckets is the share of
passing results among all results of every check, None when there are none.
"""

import math
from collections.abc import Iterable, Mapping
from typing import Final

import redis

from ground import keyspace

BUCKET_S: Final = 300
WINDOW_S: Final = 86_400
KEPT: Final = WINDOW_S // BUCKET_S
"""Buckets kept per check: a bucket this many older than the newest is forgotten."""
RESULTS: Final = "n"
PASSED: Final = "ok"


def bucket_of(at: float) -> int:
    return int(at // BUCKET_S)


def field(bucket: int, part: str) -> str:
    """`<bucket>:n` or `<bucket>:ok`."""
    return f"{bucket}:{part}"


def bucket_in(name: bytes | str) -> int:
    """The bucket a field belongs to."""
    text = name.decode() if isinstance(name, bytes) else name
    return int(text.split(":", 1)[0])


def count(
    hashes: Iterable[Mapping[bytes, bytes]], first: int, stop: int | None = None
) -> tuple[int, int]:
    """(passed, results) over buckets `first` <= bucket < `stop` (None: no end) of the
    hashes of every check."""
    passed = total = 0
    for buckets in hashes:
        for name, value in buckets.items():
            bucket_text, _, part = name.decode().partition(":")
            bucket = int(bucket_text)
            if bucket < first or (stop is not None and bucket >= stop):
                continue
            if part == PASSED:
                passed += int(value)
            elif part == RESULTS:
                total += int(value)
    return passed, total


def share(passed: int, total: int) -> float | None:
    return None if total == 0 else 100.0 * passed / total


def window_start(now: float) -> int:
    """The oldest bucket of the day ending at `now` (older ones are being forgotten)."""
    return bucket_of(now) - KEPT + 1


def uptime_between(client: redis.Redis, start: float, end: float) -> tuple[float | None, float]:
    """Uptime of every check the monitor reports (`keyspace.MONITOR_CHECKS`) over the
    buckets of [start, end) (epoch seconds) it still keeps, and from when those buckets
    start: (None, end) when it has no result in that span."""
    names = [n.decode() for n in client.hkeys(keyspace.MONITOR_CHECKS)]  # type: ignore[union-attr]
    if not names:
        return None, end
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(keyspace.monitor_uptime(name))
    hashes: list[Mapping[bytes, bytes]] = pipe.execute()
    first, stop = bucket_of(start), math.ceil(end / BUCKET_S)
    passed, total = count(hashes, first, stop)
    seen = [bucket_in(n) for h in hashes for n in h if first <= bucket_in(n) < stop]
    since = max(start, min(seen) * BUCKET_S) if seen else end
    return share(passed, total), since
