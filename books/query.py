"""Reading the books: any period's figures, the positions, the recent trades.

Everything comes from the per-day aggregates (a week is 7 days of them, a month up to
31), never from the trades, so a month over a million trades costs the same few
pipelined reads as a quiet one. Sync redis-py: the bot and the CLI call these.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import redis

from books.money import decimal
from books.periods import Period
from books.rows import ROW_DECODER, PnlSnapshot, Position, TradeRow
from books.tally import BUCKET_S, CURVE_SEGMENTS
from ground import keyspace as ks

_JSON = msgspec.json.Encoder(decimal_format="number")


class Breakdown(msgspec.Struct, kw_only=True):
    """One pair's or strategy's share of a period."""

    trades: int = 0
    wins: int = 0
    losses: int = 0
    win_rate: float = 0.0
    """Percent of trades with pnl > 0."""
    volume: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    pnl: Decimal = Decimal(0)
    avg_latency_ms: float = 0.0
    max_latency_ms: float = 0.0
    best_pnl: Decimal | None = None
    worst_pnl: Decimal | None = None
    signals: int = 0


class Figures(Breakdown, kw_only=True):
    """A period's figures (for one pair or strategy when asked)."""

    period: str = ""
    """`daily:2026-12-01`."""
    start: datetime | None = None
    end: datetime | None = None
    pair: str | None = None
    strategy: str | None = None
    max_drawdown: Decimal = Decimal(0)
    """The largest fall of the cumulative P&L from an earlier high within the period (a
    positive amount; 0 when it never fell). Starts from 0 at the period's start."""
    series: list[tuple[str, Decimal]] = msgspec.field(default_factory=list)
    """Daily: (bucket end, cumulative P&L) every 5 minutes up to the last trade. Weekly
    and monthly: (day, that day's P&L) for every day of the period."""
    by_pair: dict[str, Breakdown] = msgspec.field(default_factory=dict)
    by_strategy: dict[str, Breakdown] = msgspec.field(default_factory=dict)
    updated_ms: int = 0
    """When the books last changed this period (epoch ms; 0: never)."""

    def to_json(self) -> bytes:
        """Numbers as JSON numbers (exact decimals), `win_rate` in percent."""
        return _JSON.encode(self)

    def to_dict(self) -> dict[str, Any]:
        return msgspec.json.decode(self.to_json())  # type: ignore[no-any-return]


class _Sums:
    """Adds up days' totals hashes exactly (Python integers)."""

    FIELDS = (
        ks.BOOKS_TRADES, ks.BOOKS_WINS, ks.BOOKS_LOSSES, ks.BOOKS_VOLUME,
        ks.BOOKS_NOTIONAL, ks.BOOKS_PNL_SUM, ks.BOOKS_LATENCY_SUM, ks.BOOKS_SIGNALS,
    )  # fmt: skip

    def __init__(self) -> None:
        self.sums = dict.fromkeys(self.FIELDS, 0)
        self.latency_max: int | None = None
        self.best: int | None = None
        self.worst: int | None = None
        self.updated = 0

    def add(self, raw: dict[bytes, bytes]) -> None:
        got = {k.decode(): int(v) for k, v in raw.items()}
        for name in self.FIELDS:
            self.sums[name] += got.get(name, 0)
        self.latency_max = _pick(max, self.latency_max, got.get(ks.BOOKS_LATENCY_MAX))
        self.best = _pick(max, self.best, got.get(ks.BOOKS_BEST))
        self.worst = _pick(min, self.worst, got.get(ks.BOOKS_WORST))
        self.updated = max(self.updated, got.get(ks.BOOKS_UPDATED, 0))

    def fill(self, into: Breakdown) -> None:
        s = self.sums
        n = s[ks.BOOKS_TRADES]
        into.trades, into.wins, into.losses = n, s[ks.BOOKS_WINS], s[ks.BOOKS_LOSSES]
        into.win_rate = 100.0 * into.wins / n if n else 0.0
        into.volume, into.notional = decimal(s[ks.BOOKS_VOLUME]), decimal(s[ks.BOOKS_NOTIONAL])
        into.pnl = decimal(s[ks.BOOKS_PNL_SUM])
        into.avg_latency_ms = s[ks.BOOKS_LATENCY_SUM] / n / 1000 if n else 0.0
        into.max_latency_ms = (self.latency_max or 0) / 1000
        into.best_pnl = None if self.best is None else decimal(self.best)
        into.worst_pnl = None if self.worst is None else decimal(self.worst)
        into.signals = s[ks.BOOKS_SIGNALS]


def figures(
    client: redis.Redis, period: Period, *, pair: str | None = None, strategy: str | None = None
) -> Figures:
    """The figures of `period`, everything or one pair or one strategy."""
    if pair is not None and strategy is not None:
        raise ValueError("ask for one pair or one strategy, not both")
    scope = f"pair:{pair}" if pair else f"strategy:{strategy}" if strategy else ks.BOOKS_SCOPE_ALL
    days = [d.isoformat() for d in period.days()]
    pipe = client.pipeline(transaction=False)
    for day in days:
        pipe.hgetall(ks.books_totals(day, scope))
        pipe.smembers(ks.books_scopes(day))
        for segment in range(CURVE_SEGMENTS):
            pipe.hgetall(ks.books_curve(day, segment, scope))
    replies: list[Any] = pipe.execute()
    per_day = 2 + CURVE_SEGMENTS
    totals, scopes = replies[0::per_day], replies[1::per_day]
    curves = [
        {k: v for part in replies[i + 2 : i + per_day] for k, v in part.items()}
        for i in range(0, len(replies), per_day)
    ]
    sums = _Sums()
    for raw in totals:
        sums.add(raw)
    out = Figures(period=period.key, start=period.start, end=period.end, pair=pair)
    out.strategy = strategy
    sums.fill(out)
    out.updated_ms = sums.updated
    out.max_drawdown, out.series = _curve(period, days, totals, curves)
    if scope == ks.BOOKS_SCOPE_ALL:
        names = sorted({s.decode() for day_scopes in scopes for s in day_scopes})
        out.by_pair, out.by_strategy = _breakdowns(client, days, names)
    return out


def _curve(
    period: Period, days: list[str], totals: list[Any], curves: list[dict[bytes, bytes]]
) -> tuple[Decimal, list[tuple[str, Decimal]]]:
    """Max drawdown over every bucket in time order, and the chart's series."""
    cum = peak = fall = 0
    series: list[tuple[str, Decimal]] = []
    for raw in curves:
        buckets: dict[int, dict[str, int]] = {}
        for field, value in raw.items():
            bucket, part = field.decode().split(":")
            buckets.setdefault(int(bucket), {})[part] = int(value)
        s_, h_, l_, d_ = ks.BOOKS_CURVE_PARTS
        for index in sorted(buckets):
            b = buckets[index]
            fall = max(fall, b.get(d_, 0), peak - (cum + b.get(l_, 0)))
            peak = max(peak, cum + b.get(h_, 0))
            cum += b.get(s_, 0)
        if period.kind == "daily" and buckets:
            series = _daily_series(period, buckets, s_)
    if period.kind != "daily":
        series = [
            (day, decimal(int(t.get(ks.BOOKS_PNL_SUM.encode(), 0))))
            for day, t in zip(days, totals, strict=True)
        ]
    return decimal(fall), series


def _daily_series(
    period: Period, buckets: dict[int, dict[str, int]], sum_part: str
) -> list[tuple[str, Decimal]]:
    start = period.start.astimezone(UTC)
    cum, points = 0, []
    for index in range(max(buckets) + 1):
        cum += buckets.get(index, {}).get(sum_part, 0)
        at = min(start + timedelta(seconds=BUCKET_S * (index + 1)), period.end.astimezone(UTC))
        points.append((at.astimezone(period.zone).isoformat(), decimal(cum)))
    return points


def _breakdowns(
    client: redis.Redis, days: list[str], scopes: list[str]
) -> tuple[dict[str, Breakdown], dict[str, Breakdown]]:
    pipe = client.pipeline(transaction=False)
    for scope in scopes:
        for day in days:
            pipe.hgetall(ks.books_totals(day, scope))
    replies: list[Any] = pipe.execute()
    by_pair: dict[str, Breakdown] = {}
    by_strategy: dict[str, Breakdown] = {}
    for i, scope in enumerate(scopes):
        kind, _, name = scope.partition(":")
        if kind not in ("pair", "strategy"):
            continue
        sums = _Sums()
        for raw in replies[i * len(days) : (i + 1) * len(days)]:
            sums.add(raw)
        entry = Breakdown()
        sums.fill(entry)
        (by_pair if kind == "pair" else by_strategy)[name] = entry
    return by_pair, by_strategy


def positions(client: redis.Redis, *, open_only: bool = False) -> list[Position]:
    """Every pair traded (or only those not flat), by pair."""
    raw: dict[bytes, bytes] = client.hgetall(ks.BOOKS_POSITIONS)  # type: ignore[assignment]
    fields = {k.decode(): int(v) for k, v in raw.items()}
    pairs = sorted(k[len(ks.BOOKS_POS_NET) :] for k in fields if k.startswith(ks.BOOKS_POS_NET))
    out = []
    for pair in pairs:
        net = fields[ks.BOOKS_POS_NET + pair]
        if open_only and net == 0:
            continue
        cost = fields.get(ks.BOOKS_POS_COST + pair, 0)
        avg = None if net == 0 else (Decimal(cost) / Decimal(net)).quantize(Decimal("1e-8"))
        out.append(
            Position(
                pair=pair,
                net_amount=decimal(net),
                avg_entry=None if avg is None else avg.normalize(),
                last_price=decimal(fields.get(ks.BOOKS_POS_PRICE + pair, 0)),
                updated_at=_at(fields.get(ks.BOOKS_POS_AT + pair, 0)),
            )
        )
    return out


def latest_pnl(client: redis.Redis) -> PnlSnapshot | None:
    """The last `pnl_update` (by when it was published): open positions and exposure."""
    raw: dict[bytes, bytes] = client.hgetall(ks.BOOKS_PNL)  # type: ignore[assignment]
    if not raw:
        return None
    got = {k.decode(): v.decode() for k, v in raw.items()}
    return PnlSnapshot(
        at=_at(int(got["at"])),
        event_id=got["id"],
        daily_pnl=Decimal(got["daily_pnl"]),
        total_pnl=Decimal(got["total_pnl"]),
        open_positions=int(got["open_positions"]),
        exposure=Decimal(got["exposure"]),
    )


def recent_trades(client: redis.Redis, count: int = 10, pair: str | None = None) -> list[TradeRow]:
    """The last `count` trades counted (of `pair`), newest first."""
    key = ks.books_recent(pair) if pair else ks.BOOKS_RECENT
    rows: list[bytes] = client.lrange(key, 0, max(count, 1) - 1)  # type: ignore[assignment]
    return [ROW_DECODER.decode(row) for row in rows]


def _pick(how: Any, current: int | None, new: int | None) -> int | None:
    if new is None:
        return current
    return new if current is None else int(how(current, new))


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
