"""Stream names: the contract between the producer and the dispatcher."""

from typing import Final

from schemas.base import Lane

DEFAULT_PREFIX: Final = "herald:events"
LANES: Final[tuple[Lane, ...]] = (Lane.CRITICAL, Lane.NORMAL, Lane.BULK)
"""In the order the dispatcher serves them."""
PAYLOAD_FIELD: Final = b"e"
"""Each stream entry holds one msgpack-encoded Envelope under this field."""
PRODUCER_STATS_PREFIX: Final = "herald:producers:"


def stream_key(lane: Lane, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}:{lane.value}"


XADD_MANY: Final = """
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[i])
end
return #ARGV - 1
"""
"""Append every ARGV[2..] to stream KEYS[1] (approximate MAXLEN ARGV[1]) in one call."""
