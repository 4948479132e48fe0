"""The hot-path side of Herald: `Publisher` puts events on Redis streams, never blocking.

from producer import Publisher
with Publisher(source="trade-server") as pub:   # Redis: see ground.settings.redis_location
    pub.publish(TradeExecuted(...))
"""

from producer.publisher import Publisher, PublisherStats
from producer.streams import LANES, stream_key

__all__ = ["LANES", "Publisher", "PublisherStats", "stream_key"]
