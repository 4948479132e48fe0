"""A hand-computed day (and week) of trades, counted by the real consumer against a real
redis-server, read back through books.query: every figure exact."""

import json
import shutil
from decimal import Decimal

import pytest
import redis

from books.periods import period_for_date
from books.query import figures, latest_pnl, positions, recent_trades
from books.settings import DEFAULT
from herald.redis_server import RedisServer
from schemas import Side
from tests.books.helpers import drain, pnl_update, publish, settings, signal, trade, utc

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

D = Decimal


def day_of_trades() -> list:
    """2026-12-01 (UTC). Running P&L: 10, 6, 8.5, 0.5, 0.5, 6.5 -> high 10, low after it
    0.5: max drawdown 9.5.
    volume 100+50+0.5+200+100+0.25 = 450.75; notional 50+30+20000+110+58+10250 = 30498;
    latency (5+15+10+20+50+2.5)/6 = 17.083.. ms, max 50."""
    return [
        trade(utc(2026, 12, 1, 0, 10), "10", amount="100", price="0.50", latency=5),
        trade(utc(2026, 12, 1, 1, 0), "-4", amount="50", price="0.60", latency=15, side=Side.SELL),
        trade(utc(2026, 12, 1, 2, 0), "2.5", amount="0.5", price="40000", latency=10,
              pair="BTC/USD", strategy="meanrev"),
        trade(utc(2026, 12, 1, 3, 0), "-8", amount="200", price="0.55", latency=20,
              strategy="meanrev"),
        trade(utc(2026, 12, 1, 4, 0), "0", amount="100", price="0.58", latency=50, side=Side.SELL),
        trade(utc(2026, 12, 1, 5, 0), "6", amount="0.25", price="41000", latency=2.5,
              pair="BTC/USD", strategy="meanrev", side=Side.SELL),
    ]  # fmt: skip


@pytest.fixture
def client(redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


def test_a_day_of_trades_gives_the_exact_figures(client: redis.Redis) -> None:
    publish(client, day_of_trades())
    drain(client)
    day = period_for_date("daily", utc(2026, 12, 1).date(), DEFAULT)
    f = figures(client, day)
    assert (f.trades, f.wins, f.losses, f.win_rate) == (6, 3, 2, 50.0)
    assert (f.volume, f.notional, f.pnl) == (D("450.75"), D("30498"), D("6.5"))
    assert f.avg_latency_ms == pytest.approx(102.5 / 6, abs=1e-9)
    assert f.max_latency_ms == 50.0
    assert (f.best_pnl, f.worst_pnl, f.max_drawdown) == (D(10), D(-8), D("9.5"))
    assert set(f.by_pair) == {"XRP/USD", "BTC/USD"}
    assert (f.by_pair["BTC/USD"].trades, f.by_pair["BTC/USD"].pnl) == (2, D("8.5"))
    assert f.by_pair["XRP/USD"].notional == D("248")
    assert (f.by_strategy["meanrev"].trades, f.by_strategy["meanrev"].pnl) == (3, D("0.5"))
    assert f.by_strategy["momentum"].win_rate == pytest.approx(100 / 3)


def test_the_json_has_numbers_and_a_percentage(client: redis.Redis) -> None:
    publish(client, day_of_trades())
    drain(client)
    f = figures(client, period_for_date("daily", utc(2026, 12, 1).date(), DEFAULT))
    data = json.loads(f.to_json())
    for key in ("trades", "wins", "losses", "win_rate", "volume", "notional", "pnl"):
        assert isinstance(data[key], int | float), key
    assert (data["win_rate"], data["pnl"], data["max_drawdown"]) == (50.0, 6.5, 9.5)
    assert data["volume"] == 450.75
    assert data["avg_latency_ms"] == pytest.approx(17.0833333)
    assert f.to_dict() == data


def test_one_pair_has_its_own_drawdown_and_curve(client: redis.Redis) -> None:
    publish(client, day_of_trades())
    drain(client)
    day = period_for_date("daily", utc(2026, 12, 1).date(), DEFAULT)
    xrp = figures(client, day, pair="XRP/USD")  # running: 10, 6, -2, -2
    assert (xrp.trades, xrp.pnl, xrp.max_drawdown, xrp.worst_pnl) == (4, D(-2), D(12), D(-8))
    assert xrp.by_pair == {}
    assert xrp.pair == "XRP/USD"
    momentum = figures(client, day, strategy="momentum")  # 10, 6, 6
    assert (momentum.trades, momentum.max_drawdown) == (3, D(4))


def test_the_daily_series_is_the_cumulative_pnl_every_five_minutes(client: redis.Redis) -> None:
    publish(client, day_of_trades())
    drain(client)
    f = figures(client, period_for_date("daily", utc(2026, 12, 1).date(), DEFAULT))
    # the last trade is at 05:00, in the bucket 05:00-05:05
    assert len(f.series) == 5 * 12 + 1
    assert f.series[0] == ("2026-12-01T00:05:00+00:00", D(0))
    assert f.series[2] == ("2026-12-01T00:15:00+00:00", D(10))
    assert f.series[12] == ("2026-12-01T01:05:00+00:00", D(6))
    assert f.series[-1] == ("2026-12-01T05:05:00+00:00", D("6.5"))


def test_trades_arriving_out_of_order_are_placed_by_their_time(client: redis.Redis) -> None:
    trades = day_of_trades()
    publish(client, [trades[3], trades[5]])  # late ones first, counted in a batch of their own
    drain(client)
    publish(client, [trades[0], trades[1], trades[2], trades[4]])
    drain(client)
    f = figures(client, period_for_date("daily", utc(2026, 12, 1).date(), DEFAULT))
    assert (f.trades, f.pnl, f.max_drawdown) == (6, D("6.5"), D("9.5"))


def test_a_week_adds_up_its_days(client: redis.Redis) -> None:
    later = trade(utc(2026, 12, 3, 9, 0), "-10", amount="10", price="0.5", latency=1)
    next_week = trade(utc(2026, 12, 7, 0, 0), "100")
    publish(client, [*day_of_trades(), later, next_week])
    drain(client)
    week = period_for_date("weekly", utc(2026, 12, 2).date(), DEFAULT)
    assert week.key == "weekly:2026-11-30"
    f = figures(client, week)  # running: ..., 6.5, -3.5: from the high 10 down to -3.5
    assert (f.trades, f.pnl, f.max_drawdown, f.worst_pnl) == (7, D("-3.5"), D("13.5"), D(-10))
    assert f.series == [
        ("2026-11-30", D(0)), ("2026-12-01", D("6.5")), ("2026-12-02", D(0)),
        ("2026-12-03", D(-10)), ("2026-12-04", D(0)), ("2026-12-05", D(0)), ("2026-12-06", D(0)),
    ]  # fmt: skip
    month = figures(client, period_for_date("monthly", utc(2026, 12, 20).date(), DEFAULT))
    assert (month.trades, month.pnl, len(month.series)) == (8, D("96.5"), 31)


def test_positions_average_in_and_keep_their_cost_when_reduced(client: redis.Redis) -> None:
    publish(client, day_of_trades())
    drain(client)
    by_pair = {p.pair: p for p in positions(client)}
    # XRP: +100 @0.50, -50 (avg stays 0.50), +200 @0.55 -> 250 at 0.54, -100 -> 150 at 0.54
    assert (by_pair["XRP/USD"].net_amount, by_pair["XRP/USD"].avg_entry) == (D(150), D("0.54"))
    assert by_pair["XRP/USD"].last_price == D("0.58")
    assert (by_pair["BTC/USD"].net_amount, by_pair["BTC/USD"].avg_entry) == (D("0.25"), D(40000))


def test_a_position_through_zero_starts_at_that_price(client: redis.Redis) -> None:
    publish(client, [
        trade(utc(2026, 12, 1, 1), "0", amount="10", price="2"),
        trade(utc(2026, 12, 1, 2), "0", amount="30", price="3", side=Side.SELL),
        trade(utc(2026, 12, 1, 3), "0", amount="5", price="4", side=Side.SELL),
        trade(utc(2026, 12, 1, 4), "0", amount="1", price="9", pair="ETH/USD"),
        trade(utc(2026, 12, 1, 5), "0", amount="1", price="9", pair="ETH/USD", side=Side.SELL),
    ])  # fmt: skip
    drain(client)
    # -20 @3, then 5 more @4: (60 + 20) / 25 = 3.2
    by_pair = {p.pair: p for p in positions(client)}
    assert (by_pair["XRP/USD"].net_amount, by_pair["XRP/USD"].avg_entry) == (D(-25), D("3.2"))
    assert (by_pair["ETH/USD"].net_amount, by_pair["ETH/USD"].avg_entry) == (D(0), None)
    assert [p.pair for p in positions(client, open_only=True)] == ["XRP/USD"]


def test_the_latest_pnl_update_and_signals_are_kept(client: redis.Redis) -> None:
    publish(client, [
        pnl_update(utc(2026, 12, 1, 2), "5", "100", 2, "1500"),
        pnl_update(utc(2026, 12, 1, 1), "4", "99", 1, "700"),  # older, arriving later
        signal(utc(2026, 12, 1, 3)),
        signal(utc(2026, 12, 1, 4), pair="BTC/USD", strategy="meanrev"),
    ])  # fmt: skip
    drain(client)
    snap = latest_pnl(client)
    assert snap is not None
    assert (snap.daily_pnl, snap.open_positions, snap.exposure) == (D(5), 2, D(1500))
    f = figures(client, period_for_date("daily", utc(2026, 12, 1).date(), DEFAULT))
    assert (f.signals, f.trades, f.by_strategy["meanrev"].signals) == (2, 0, 1)


def test_recent_trades_are_bounded_and_newest_first(client: redis.Redis) -> None:
    s = settings(recent_trades=5)
    publish(client, [trade(utc(2026, 12, 1, 0, i), str(i)) for i in range(12)])
    publish(client, [trade(utc(2026, 12, 1, 1, 0), "99", pair="BTC/USD")])
    drain(client, s)
    rows = recent_trades(client, count=10)
    assert [r.pnl for r in rows] == [D(99), D(11), D(10), D(9), D(8)]
    assert client.llen("herald:books:recent") == 5
    assert [r.pnl for r in recent_trades(client, count=3, pair="XRP/USD")] == [D(11), D(10), D(9)]
    assert [r.pair for r in recent_trades(client, pair="BTC/USD")] == ["BTC/USD"]


def test_a_trade_without_executed_at_counts_on_its_publish_day(client: redis.Redis) -> None:
    publish(client, [trade(None, "3", published=utc(2026, 12, 2, 0, 0, 1))])
    drain(client)
    assert figures(client, period_for_date("daily", utc(2026, 12, 2).date(), DEFAULT)).trades == 1
    assert figures(client, period_for_date("daily", utc(2026, 12, 1).date(), DEFAULT)).trades == 0
