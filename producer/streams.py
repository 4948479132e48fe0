"""The lanes' streams: the contract between the producer and the dispatcher."""

from typing import Final

from ground import keyspace
from schemas.base import Lane

LANES: Final[tuple[Lane, ...]] = (Lane.CRITICAL, Lane.NORMAL, Lane.BULK)
"""In the order the dispatcher serves them."""


def stream_key(lane: Lane, prefix: str = keyspace.STREAM_PREFIX) -> str:
    return keyspace.stream(lane.value, prefix)


XADD_MANY: Final = keyspace.lua("""
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', '${PAYLOAD_FIELD}', ARGV[i])
end
return #ARGV - 1
""")
"""Append every ARGV[2..] to stream KEYS[1] (approximate MAXLEN ARGV[1]) in one call."""
