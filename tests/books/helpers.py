"""Trades as the trading system publishes them, and a books consumer run to completion."""

import threading
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import redis

from books.service import Books
from books.settings import DEFAULT, ReportSettings
from ground import keyspace
from producer.streams import stream_key
from schemas import PnlUpdate, Side, SignalGenerated, TradeExecuted
from schemas.base import Lane
from schemas.codec import encode
from schemas.envelope import Envelope, wrap
from schemas.types import Action


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def trade(
    at: datetime | None,
    pnl: str,
    *,
    amount: str = "100",
    price: str = "0.5",
    latency: float = 10.0,
    pair: str = "XRP/USD",
    strategy: str = "momentum",
    side: Side = Side.BUY,
    published: datetime | None = None,
) -> Envelope:
    event = TradeExecuted(
        pair=pair,
        side=side,
        amount=Decimal(amount),
        price=Decimal(price),
        pnl=Decimal(pnl),
        latency_ms=latency,
        strategy=strategy,
        executed_at=at,
    )
    when = published or at or datetime.now(UTC)
    return wrap(event, source="trade-server", now_ns=int(when.timestamp() * 1e9))


def signal(at: datetime, pair: str = "XRP/USD", strategy: str = "momentum") -> Envelope:
    event = SignalGenerated(
        pair=pair, signal="breakout", confidence=0.8, action=Action.BUY,
        target_price=Decimal("0.6"), stop_loss=Decimal("0.4"), risk_reward=2.0,
        strategy=strategy,
    )  # fmt: skip
    return wrap(event, source="trade-server", now_ns=int(at.timestamp() * 1e9))


def pnl_update(
    at: datetime, daily: str, total: str, open_positions: int, exposure: str
) -> Envelope:
    event = PnlUpdate(
        daily_pnl=Decimal(daily), total_pnl=Decimal(total),
        open_positions=open_positions, exposure=Decimal(exposure),
    )  # fmt: skip
    return wrap(event, source="trade-server", now_ns=int(at.timestamp() * 1e9))


def publish(client: redis.Redis, envelopes: list[Envelope]) -> None:
    """XADD the real encoded envelopes to their lane, as the Publisher does."""
    pipe = client.pipeline(transaction=False)
    for env in envelopes:
        pipe.xadd(stream_key(env.lane), {keyspace.PAYLOAD_FIELD: encode(env)})
    pipe.execute()


def settings(zone: str = "UTC", day_ends: str = "00:00", **kw: object) -> ReportSettings:
    hours, minutes = (int(x) for x in day_ends.split(":"))
    from dataclasses import replace
    from datetime import time

    return replace(DEFAULT, timezone=ZoneInfo(zone), day_ends=time(hours, minutes), **kw)  # type: ignore[arg-type]


def drain(client: redis.Redis, s: ReportSettings = DEFAULT, name: str = "books-test") -> Books:
    """Run a books consumer until everything published so far is counted."""
    books = Books(client, s, name=name, block_ms=20)
    books.run(threading.Event(), drain=True)
    return books


NORMAL = stream_key(Lane.NORMAL)
