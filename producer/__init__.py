"""The hot-path side of Herald: `Publisher` puts events on Redis streams, never blocking.

from producer import Publisher
with Publisher("redis://localhost:6379/0", source="trade-server") as pub:
    pub.publish(TradeExecuted(...))
"""

from producer.publisher import DEFAULT_REDIS_URL, Publisher, PublisherStats
from producer.streams import DEFAULT_PREFIX, LANES, PAYLOAD_FIELD, stream_key

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_REDIS_URL",
    "LANES",
    "PAYLOAD_FIELD",
    "Publisher",
    "PublisherStats",
    "stream_key",
]
