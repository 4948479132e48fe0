"""End to end with real processes: publish -> dispatcher -> RQ workers -> sandbox."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ground import keyspace
from schemas import (
    BuildSuccess,
    MaintenanceScheduled,
    ManualOperation,
    OperationResult,
    PriceAlert,
    RiskAlert,
    Side,
    TradeExecuted,
)


def trade(i: int) -> TradeExecuted:
    return TradeExecuted(
        pair="XRP/USD", side=Side.BUY if i % 2 else Side.SELL, amount=Decimal(1000 + i),
        price=Decimal("0.5234"), pnl=Decimal(i - 50), latency_ms=1.5, strategy="momentum",
    )  # fmt: skip


def test_every_event_reaches_its_channel_once_in_order(engine):
    engine.start_dispatcher()
    for i in range(3):
        engine.start_worker(f"w{i}")
    expected: dict[str, list[str]] = {
        c: [] for c in ("trading-alerts", "system-status", "maintenance")
    }
    with engine.publisher() as pub:
        for i in range(120):
            expected["trading-alerts"].append(pub.publish(trade(i)))
            if i % 4 == 0:
                expected["system-status"].append(
                    pub.publish(
                        BuildSuccess(
                            repository="org/repo", commit=f"{i:07x}", duration=timedelta(seconds=i)
                        )
                    )
                )
            if i % 10 == 0:
                expected["maintenance"].append(
                    pub.publish(
                        MaintenanceScheduled(
                            service="api",
                            starts_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
                            duration=timedelta(hours=1),
                            description=f"window {i}",
                        )
                    )
                )
        assert pub.flush(10)
    engine.wait_delivered({c: len(ids) for c, ids in expected.items()}, timeout=90)
    for channel, ids in expected.items():
        assert engine.delivered_ids(channel) == ids, channel
    assert engine.sandbox.stats()["rate_limited"] == 0
    requests = len(engine.sandbox.messages("trading-alerts"))
    assert requests <= math.ceil(120 / 10) + 2


def test_dead_letters_undecodable_entries_and_keeps_going(engine):
    engine.start_dispatcher()
    engine.start_worker()
    engine.redis.xadd("herald:events:normal", {b"e": b"\xc1garbage"})
    engine.redis.xadd("herald:events:normal", {b"x": b"no payload"})
    with engine.publisher() as pub:
        event_id = pub.publish(trade(1))
    engine.wait_delivered({"trading-alerts": 1}, timeout=30)
    assert engine.delivered_ids("trading-alerts") == [event_id]
    entries = engine.redis.hvals(keyspace.DLQ)
    assert len(entries) == 2


def price(i: int) -> PriceAlert:
    return PriceAlert(
        pair=f"P{i % 40}/USD", price=Decimal(1) + Decimal(i) / 1000, previous_price=Decimal(1),
        change_pct=Decimal(i % 17) - 8, window=timedelta(minutes=1),
    )  # fmt: skip


def mixed(i: int):
    """Round-robin over the five channels; risk types are unique so none is folded."""
    match i % 5:
        case 0:
            return trade(i)
        case 1:
            return BuildSuccess(
                repository="org/repo", commit=f"{i:07x}", duration=timedelta(seconds=90)
            )
        case 2:
            return RiskAlert(
                type=f"limit-{i}", threshold=Decimal(5), current=Decimal(6), action="reduce"
            )
        case 3:
            return price(i)
        case _:
            return ManualOperation(operator="ops", operation=f"op {i}", service="api",
                                   result=OperationResult.SUCCESS)  # fmt: skip


def burst(engine, tmp_path, total: int) -> None:
    config = tmp_path / "herald.toml"
    config.write_text('[channels.market-data]\npolicy = "keep"\n')  # exactly-once, no digest
    engine.env["HERALD_CONFIG"] = str(config)
    engine.start_dispatcher()
    for i in range(6):
        engine.start_worker(f"w{i}")
    expected: dict[str, list[str]] = {}
    channel_of = {
        0: "trading-alerts",
        1: "system-status",
        2: "critical-alerts",
        3: "market-data",
        4: "maintenance",
    }
    with engine.publisher() as pub:
        for i in range(total):
            expected.setdefault(channel_of[i % 5], []).append(pub.publish(mixed(i)))
        assert pub.flush(30)
    engine.wait_delivered(
        {c: len(ids) for c, ids in expected.items()}, timeout=total / 5 / 10 * 2.2 + 60
    )
    for channel, ids in expected.items():
        delivered = engine.delivered_ids(channel)
        assert delivered == ids, channel  # exactly once, in publish order
        messages = len(engine.sandbox.messages(channel))
        assert messages <= math.ceil(len(ids) / 10) + 2, channel
    stats = engine.sandbox.stats()
    assert stats["rate_limited"] == 0
    assert stats["bad_request"] == 0


def test_burst_of_1000_across_five_channels(engine, tmp_path):
    burst(engine, tmp_path, 1_000)


@pytest.mark.slow
def test_burst_of_5000_across_five_channels(engine, tmp_path):
    burst(engine, tmp_path, 5_000)


def test_market_data_backlog_collapses_into_digests(engine):
    engine.start_dispatcher()
    engine.start_worker()
    with engine.publisher() as pub:
        ids = [pub.publish(price(i)) for i in range(2_000)]
        assert pub.flush(10)
    r = engine.redis

    def accounted() -> int:
        return int(r.hget(keyspace.STATS, "delivered") or 0) + int(
            r.hget(keyspace.STATS, "digested") or 0
        )

    from ground.proc import wait_until

    wait_until(lambda: accounted() == 2_000, 60, "2,000 market events delivered or digested")
    assert int(r.hget(keyspace.STATS, "digested")) >= 1_500
    messages = engine.sandbox.messages("market-data")
    assert len(messages) <= 10  # instead of 200 messages at 30 a minute
    footers = " ".join(e["footer"]["text"] for m in messages for e in m["embeds"])
    assert ids[0] in footers  # a digest names the first event id it covers
    logged = {fields[b"e"].decode() for _, fields in r.xrange(keyspace.LEDGER)}
    assert logged == set(ids)  # every event id accounted for, delivered or digested
    assert engine.sandbox.stats()["rate_limited"] == 0
