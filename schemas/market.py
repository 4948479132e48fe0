"""Market-data events for #market-data (the design names the channel, not its kinds).

They are the one family that arrives in floods, so they travel on the bulk lane.
"""

from datetime import timedelta
from decimal import Decimal
from typing import ClassVar

from schemas.base import Event
from schemas.types import Name, Pair, Ratio, Text, check_decimal


class PriceAlert(Event, frozen=True):
    bulk: ClassVar[bool] = True

    pair: Pair
    price: Decimal
    previous_price: Decimal
    change_pct: Decimal
    window: timedelta
    reason: Text | None = None
    exchange: Name | None = None

    def __post_init__(self) -> None:
        check_decimal("price", self.price, positive=True)
        check_decimal("previous_price", self.previous_price, positive=True)
        check_decimal("change_pct", self.change_pct)


class VolumeAlert(Event, frozen=True):
    bulk: ClassVar[bool] = True

    pair: Pair
    volume: Decimal
    average_volume: Decimal
    ratio: Ratio
    window: timedelta
    exchange: Name | None = None

    def __post_init__(self) -> None:
        check_decimal("volume", self.volume, signed=False)
        check_decimal("average_volume", self.average_volume, signed=False)
