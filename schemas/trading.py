"""Trading events: trades, signals, P&L and risk, as the trading system reports them."""

from decimal import Decimal
from typing import ClassVar

from schemas.base import Event, Severity
from schemas.types import (
    Action,
    Count,
    Millis,
    Name,
    Pair,
    Probability,
    Ratio,
    Side,
    Text,
    UtcDatetime,
)


class TradeExecuted(Event, frozen=True):
    positive: ClassVar[tuple[str, ...]] = ("amount", "price")

    pair: Pair
    side: Side
    amount: Decimal
    price: Decimal
    pnl: Decimal
    latency_ms: Millis
    strategy: Name
    executed_at: UtcDatetime | None = None


class SignalGenerated(Event, frozen=True):
    positive: ClassVar[tuple[str, ...]] = ("target_price", "stop_loss")

    pair: Pair
    signal: Name
    confidence: Probability
    action: Action
    target_price: Decimal
    stop_loss: Decimal
    risk_reward: Ratio
    strategy: Name


class RiskAlert(Event, frozen=True):
    default_severity: ClassVar[Severity] = Severity.CRITICAL

    type: Name
    """Which limit: `max_drawdown`, `position_size`, `exposure`, ..."""
    threshold: Decimal
    current: Decimal
    action: Text
    unit: Name | None = None
    """How to read threshold/current: `%`, `USD`, `XRP`."""


class PnlUpdate(Event, frozen=True):
    unsigned: ClassVar[tuple[str, ...]] = ("exposure",)

    daily_pnl: Decimal
    total_pnl: Decimal
    open_positions: Count
    exposure: Decimal
