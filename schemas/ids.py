"""Event ids: UUIDv7 strings, so ids sort by creation time and parse with `uuid.UUID`.

Layout (RFC 9562): 48-bit Unix milliseconds, version 7, a 12-bit per-process counter
(keeps ids from one process ordered within a millisecond), variant, 62 random bits
(keeps ids from different processes apart). Built with integer arithmetic because it
runs on the trading hot path: about half a microsecond a call.
"""

import itertools
import random
import re
import time

EVENT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z"
_EVENT_ID_RE = re.compile(EVENT_ID_PATTERN)

_counter = itertools.count()
_VERSION_AND_VARIANT = (0x7 << 76) | (0x2 << 62)


def new_event_id(now_ns: int | None = None) -> str:
    ms = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    n = (
        (ms << 80)
        | _VERSION_AND_VARIANT
        | ((next(_counter) & 0xFFF) << 64)
        | random.getrandbits(62)
    )
    h = n.to_bytes(16, "big").hex()  # a third faster than f"{n:032x}" (bench/publish_bench.py)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def event_id_millis(event_id: str) -> int:
    """The creation time (Unix ms) encoded in an event id."""
    return int(event_id[:8] + event_id[9:13], 16)


def is_event_id(value: str) -> bool:
    return _EVENT_ID_RE.match(value) is not None
