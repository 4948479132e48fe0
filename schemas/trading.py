"""Trading events: the TradingEventNotifier's calls and the catalogue's section 2."""

from datetime import datetime
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
    check_decimal,
)


class TradeExecuted(Event, frozen=True):
    pair: Pair
    side: Side
    amount: Decimal
    price: Decimal
    pnl: Decimal
    latency_ms: Millis
    strategy: Name
    executed_at: datetime | None = None

    def __post_init__(self) -> None:
        check_decimal("amount", self.amount, positive=True)
        check_decimal("price", self.price, positive=True)
        check_decimal("pnl", self.pnl)


class SignalGenerated(Event, frozen=True):
    pair: Pair
    signal: Name
    confidence: Probability
    action: Action
    target_price: Decimal
    stop_loss: Decimal
    risk_reward: Ratio
    strategy: Name

    def __post_init__(self) -> None:
        check_decimal("target_price", self.target_price, positive=True)
        check_decimal("stop_loss", self.stop_loss, positive=True)


class RiskAlert(Event, frozen=True):
    default_severity: ClassVar[Severity] = Severity.CRITICAL

    type: Name
    """Which limit: `max_drawdown`, `position_size`, `exposure`, ..."""
    threshold: Decimal
    current: Decimal
    action: Text
    unit: Name | None = None
    """How to read threshold/current: `%`, `USD`, `XRP`."""

    def __post_init__(self) -> None:
        check_decimal("threshold", self.threshold)
        check_decimal("current", self.current)


class PnlUpdate(Event, frozen=True):
    daily_pnl: Decimal
    total_pnl: Decimal
    open_positions: Count
    exposure: Decimal

    def __post_init__(self) -> None:
        check_decimal("daily_pnl", self.daily_pnl)
        check_decimal("total_pnl", self.total_pnl)
        check_decimal("exposure", self.exposure, signed=False)
