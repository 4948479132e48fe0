"""Market-data events for #market-data (the design names the channel, not its kinds).

They are the one family that arrives in floods, so they travel on the bulk lane.
"""

from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

from schemas.base import Event
from schemas.types import Name, Pair, Ratio, Text


class PriceAlert(Event, frozen=True):
    positive: ClassVar[tuple[str, ...]] = ("price", "previous_price")

    bulk: ClassVar[bool] = True

    pair: Pair
    price: Decimal
    previous_price: Decimal
    change_pct: Decimal
    window: timedelta
    reason: Text | None = None
    exchange: Name | None = None


class VolumeAlert(Event, frozen=True):
    unsigned: ClassVar[tuple[str, ...]] = ("volume", "average_volume")

    bulk: ClassVar[bool] = True

    pair: Pair
    volume: Decimal
    average_volume: Decimal
    ratio: Ratio
    window: timedelta
    exchange: Name | None = None
