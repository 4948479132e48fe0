"""One batch of events -> the arguments of the apply script (books/script.py).

Python adds up the batch exactly (integers of 1e-8, see books/money.py) per day and scope
(everything, each pair, each strategy); the script then checks the batch's event ids
against those already counted and merges the sums into Redis, all in one step. Days are
in the reporting zone; each day's P&L curve is kept in fixed buckets (`BUCKET_S`), each a
summary of its trades in the order they arrived: (sum, highest and lowest running sum,
largest fall), from which any run of buckets gives its max drawdown exactly.
"""

import functools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from books.money import latency_us, notional_units, units
from books.periods import day_bounds
from books.rows import ROW_ENCODER, TradeRow
from books.settings import ReportSettings
from ground import keyspace
from schemas.envelope import Envelope
from schemas.ids import event_id_millis
from schemas.trading import PnlUpdate, SignalGenerated, TradeExecuted
from schemas.types import Side

BUCKET_S: Final = 300
"""The daily P&L curve's resolution: 5 minutes (at most 300 buckets in a 25-hour day)."""
CURVE_SEGMENT: Final = 24
"""Buckets per curve hash (2 hours): 96 fields, under Redis's listpack limit of 128."""
CURVE_SEGMENTS: Final = math.ceil(25 * 3600 / BUCKET_S / CURVE_SEGMENT)
"""Segments in the longest (25-hour) day."""
_DAY_S: Final = 86_400


@dataclass(slots=True)
class Tally:
    """What one batch adds to one day in one scope."""

    n: int = 0
    wins: int = 0
    losses: int = 0
    volume: int = 0
    notional: int = 0
    pnl: int = 0
    latency: int = 0
    signals: int = 0
    latency_max: int | None = None
    best: int | None = None
    worst: int | None = None
    buckets: dict[int, list[int]] = field(default_factory=dict)
    """bucket -> [sum, highest running sum, lowest running sum, largest fall], from 0."""

    def add_trade(self, bucket: int, amount: int, notional: int, pnl: int, lat: int) -> None:
        self.n += 1
        self.wins += pnl > 0
        self.losses += pnl < 0
        self.volume += amount
        self.notional += notional
        self.pnl += pnl
        self.latency += lat
        self.latency_max = lat if self.latency_max is None else max(self.latency_max, lat)
        self.best = pnl if self.best is None else max(self.best, pnl)
        self.worst = pnl if self.worst is None else min(self.worst, pnl)
        b = self.buckets.setdefault(bucket, [0, 0, 0, 0])
        b[0] += pnl
        b[3] = max(b[3], b[1] - b[0])
        b[1] = max(b[1], b[0])
        b[2] = min(b[2], b[0])


class Calendar:
    """Which day (label, bucket, expiry) an instant falls in; remembers the last day, since
    nearly every event of a batch falls in the same one."""

    def __init__(self, settings: ReportSettings) -> None:
        self.settings = settings
        self._day: tuple[float, float, str, int] | None = None

    def locate(self, at: datetime) -> tuple[str, int, int]:
        """(day label, bucket in the day, when its keys expire: epoch s)."""
        ts = at.timestamp()
        day = self._day
        if day is None or not day[0] <= ts < day[1]:
            day = self._day = self._find(at)
        return day[2], int((ts - day[0]) // BUCKET_S), day[3]

    def _find(self, at: datetime) -> tuple[float, float, str, int]:
        s = self.settings
        local = at.astimezone(s.timezone).date()
        for label in (local, local + timedelta(days=1)):
            start, end = day_bounds(label, s.timezone, s.day_ends)
            if start.timestamp() <= at.timestamp() < end.timestamp():
                expire = int(end.timestamp()) + s.retention_days * _DAY_S
                return start.timestamp(), end.timestamp(), label.isoformat(), expire
        raise AssertionError(f"no day holds {at}")  # day_bounds tiles the timeline


@dataclass
class Batch:
    """The apply script's payload for one batch (lists of strings and bytes)."""

    ids: list[str] = field(default_factory=list)
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    expiry: dict[str, int] = field(default_factory=dict)
    seen: dict[str, list[bytes]] = field(default_factory=dict)
    seen_expiry: dict[str, int] = field(default_factory=dict)
    positions: dict[str, list[Any]] = field(default_factory=dict)
    recent: list[bytes] = field(default_factory=list)
    recent_by_pair: dict[str, list[bytes]] = field(default_factory=dict)
    pnl: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.ids and not self.pnl


def tally(envelopes: list[Envelope], calendar: Calendar, skip: set[str]) -> Batch:
    """Add up `envelopes` (first of each id only, none in `skip`) into one payload."""
    batch = Batch()
    counted: set[str] = set(skip)
    for env in envelopes:
        event = env.event
        if isinstance(event, PnlUpdate):
            _pnl(batch, env, event)
            continue
        if env.id in counted or not isinstance(event, TradeExecuted | SignalGenerated):
            continue
        counted.add(env.id)
        _remember(batch, env.id)
        if isinstance(event, TradeExecuted):
            _trade(batch, calendar, env, event)
        else:
            day, _, expire = calendar.locate(env.created_at)
            for scope in _scopes(event.pair, event.strategy):
                _tally(batch, day, scope, expire).signals += 1
    return batch


def _remember(batch: Batch, event_id: str) -> None:
    """Its seen-hash: the minute of the id's time (a batch's ids share one or two, so the
    script touches few keys; 100,000 ids a day make ~70 a minute, a small listpack). The
    raw 16 bytes of the id are the field."""
    batch.ids.append(event_id)
    seconds = event_id_millis(event_id) // 1000
    utc_day = seconds // _DAY_S
    key = keyspace.books_seen(_utc_label(utc_day), str(seconds % _DAY_S // 60))
    batch.seen.setdefault(key, []).append(bytes.fromhex(event_id.replace("-", "")))
    batch.seen_expiry[key] = (utc_day + 1 + keyspace.BOOKS_SEEN_DAYS) * _DAY_S


@functools.lru_cache(maxsize=64)
def _utc_label(utc_day: int) -> str:
    return datetime.fromtimestamp(utc_day * _DAY_S, UTC).strftime("%Y%m%d")


def _trade(batch: Batch, calendar: Calendar, env: Envelope, trade: TradeExecuted) -> None:
    at = trade.executed_at or env.created_at
    day, bucket, expire = calendar.locate(at)
    amount, price, pnl = units(trade.amount), units(trade.price), units(trade.pnl)
    notional = notional_units(trade.amount, trade.price)
    lat = latency_us(trade.latency_ms)
    for scope in _scopes(trade.pair, trade.strategy):
        _tally(batch, day, scope, expire).add_trade(bucket, amount, notional, pnl, lat)
    sign = 1 if trade.side == Side.BUY else -1
    at_ms = str(int(at.timestamp() * 1000))
    position = batch.positions.setdefault(trade.pair, [trade.pair, 0, "", ""])
    position[1] += sign * amount
    position[2], position[3] = str(price), at_ms
    position.extend((str(sign * amount), str(sign * notional), str(price)))
    trade_row = TradeRow(
        id=env.id, at=at, pair=trade.pair, side=trade.side.value, amount=trade.amount,
        price=trade.price, pnl=trade.pnl, strategy=trade.strategy, latency_ms=trade.latency_ms,
    )  # fmt: skip
    row = ROW_ENCODER.encode(trade_row)
    batch.recent.append(row)
    batch.recent_by_pair.setdefault(trade.pair, []).append(row)


def _pnl(batch: Batch, env: Envelope, update: PnlUpdate) -> None:
    at_ms = str(int(env.created_at.timestamp() * 1000))
    if batch.pnl and int(batch.pnl[0]) > int(at_ms):
        return
    batch.pnl = [
        at_ms, env.id, str(update.daily_pnl), str(update.total_pnl),
        str(update.open_positions), str(update.exposure),
    ]  # fmt: skip


def _scopes(pair: str, strategy: str) -> tuple[str, str, str]:
    return keyspace.BOOKS_SCOPE_ALL, f"pair:{pair}", f"strategy:{strategy}"


def _tally(batch: Batch, day: str, scope: str, expire: int) -> Tally:
    found = batch.tallies.get((day, scope))
    if found is None:
        found = batch.tallies[(day, scope)] = Tally()
        batch.expiry[day] = expire
    return found
