"""The records the books keep per trade and per position, as the bot and reports read them."""

from datetime import datetime
from decimal import Decimal

import msgspec


class TradeRow(msgspec.Struct, frozen=True, kw_only=True):
    """One trade in the recent-trades lists."""

    id: str
    at: datetime
    """executed_at, else when it was published."""
    pair: str
    side: str
    amount: Decimal
    price: Decimal
    pnl: Decimal
    strategy: str
    latency_ms: float


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """A pair's open position, from the trades: BUY adds, SELL subtracts."""

    pair: str
    net_amount: Decimal
    avg_entry: Decimal | None
    """Average cost of the open amount (None: flat). Adding to a position averages the
    price in; reducing keeps it; going through zero starts again at that trade's price."""
    last_price: Decimal
    updated_at: datetime


class PnlSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The latest `pnl_update` the trading system sent."""

    at: datetime
    event_id: str
    daily_pnl: Decimal
    total_pnl: Decimal
    open_positions: int
    exposure: Decimal


ROW_ENCODER = msgspec.msgpack.Encoder()
ROW_DECODER = msgspec.msgpack.Decoder(TradeRow)
