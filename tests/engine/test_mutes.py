"""Mutes in the engine: a muted event is not sent, but is in the ledger as `muted`.

The record and the rule (worker/mutes.py) are checked alone first, then the dispatcher's
view of them (worker/muting.py, fakeredis), then the whole loop: a real redis-server,
`herald dispatch`, `herald worker` and the sandbox."""

import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal

import fakeredis
import msgspec

from ground import keyspace
from ground.proc import wait_until
from schemas import PriceAlert
from worker import mutes
from worker.config import load
from worker.ledger import account
from worker.muting import MuteCache, router, unmuted
from worker.status import collect

NOW = 1_000_000.0


def mute(target: str, until: float = NOW + 60) -> mutes.Mute:
    return mutes.Mute(target=target, until=until, by="444", at=NOW - 1)


def test_a_kind_mute_silences_that_kind_only() -> None:
    given = [mute(mutes.kind_target("price_alert"))]
    assert mutes.is_muted(given, ["market-data"], "price_alert", NOW) == given[0]
    assert mutes.is_muted(given, ["market-data"], "volume_alert", NOW) is None


def test_a_channel_mute_needs_every_channel_of_the_event() -> None:
    given = [mute(mutes.channel_target("system-status"))]
    assert mutes.is_muted(given, ["system-status"], "build_started", NOW) == given[0]
    both = ["critical-alerts", "system-status"]
    assert mutes.is_muted(given, both, "deployment_failed", NOW) is None
    given.append(mute(mutes.channel_target("critical-alerts")))
    assert mutes.is_muted(given, both, "deployment_failed", NOW) is not None


def test_everything_and_expiry() -> None:
    where = ["maintenance"]
    assert mutes.is_muted([mute(mutes.ALL)], where, "manual_operation", NOW) is not None
    assert mutes.is_muted([mute(mutes.ALL, until=NOW)], where, "manual_operation", NOW) is None
    assert mutes.is_muted([], where, "manual_operation", NOW) is None


def test_decoding_skips_expired_and_broken_records() -> None:
    raw = {
        b"all": mutes.encode(mute(mutes.ALL, until=NOW - 1)),
        b"kind:x": mutes.encode(mute(mutes.kind_target("x"), until=NOW + 5)),
        b"kind:y": mutes.encode(mute(mutes.kind_target("y"), until=NOW + 2)),
        b"bad": b"{not json",
    }
    assert [m.target for m in mutes.decode_all(raw, NOW)] == ["kind:y", "kind:x"]


def test_a_channel_mute_drops_only_that_channels_copy() -> None:
    route = router([mute(mutes.channel_target("trading-alerts"))])
    assert route("trade_executed", ("trading-alerts",)) == ((), True)
    assert route("risk_alert", ("critical-alerts", "trading-alerts")) == (
        ("critical-alerts",),
        False,
    )
    assert route("build_success", ("system-status",)) == (("system-status",), False)
    assert route("unrouted", ()) == ((), False)


def test_kind_and_everything_mutes_silence_every_channel() -> None:
    route = router([mute(mutes.kind_target("price_alert"))])
    assert route("price_alert", ("market-data",)) == ((), True)
    assert route("volume_alert", ("market-data",)) == (("market-data",), False)
    assert router([mute(mutes.ALL)])("service_down", ("critical-alerts",)) == ((), True)
    assert unmuted("price_alert", ("market-data",)) == (("market-data",), False)


def test_the_cache_reads_redis_once_per_refresh_and_expires_on_time() -> None:
    client = fakeredis.FakeRedis()
    now = [NOW]
    cache = MuteCache(client, refresh_s=1.0, clock=lambda: now[0])
    assert cache.route() is unmuted
    target = mutes.kind_target("price_alert")
    client.hset(keyspace.MUTES, target, mutes.encode(mute(target, until=NOW + 2)))
    now[0] += 0.5
    assert cache.route() is unmuted, "read again before the refresh is due"
    now[0] += 0.5
    assert cache.route()("price_alert", ("market-data",)) == ((), True)
    client.delete(keyspace.MUTES)  # gone from Redis: still applied until the next refresh
    now[0] += 0.9
    assert cache.route()("price_alert", ("market-data",)) == ((), True)
    client.hset(keyspace.MUTES, target, mutes.encode(mute(target, until=NOW + 2)))
    now[0] += 0.2  # refreshed (the record is back), but its time is up
    assert cache.route() is unmuted


def alert(pair: str) -> PriceAlert:
    return PriceAlert(
        pair=pair, price=Decimal("1.5"), previous_price=Decimal("1.4"),
        change_pct=Decimal("7.1"), window=timedelta(minutes=1),
    )  # fmt: skip


def outcome(engine, event_id: str) -> str | None:
    return account(engine.redis, [event_id]).outcomes.get(event_id)


def test_a_muted_channel_gets_nothing_until_the_mute_ends(engine) -> None:
    engine.start_dispatcher()
    engine.start_worker()
    client = engine.redis
    target = mutes.channel_target("market-data")
    set_at = time.time()
    record = mutes.Mute(target=target, until=set_at + 2, by="444", at=set_at)
    client.hset(keyspace.MUTES, target, mutes.encode(record))
    with engine.publisher() as pub:
        probes: list[str] = []

        def probe_muted() -> bool:  # the dispatcher reads the mutes within a second
            probes.append(pub.publish(alert(f"PRB{len(probes)}/USD")))
            assert pub.flush(5)
            wait_until(lambda: outcome(engine, probes[-1]) is not None, 10, "probe settled")
            return outcome(engine, probes[-1]) == keyspace.MUTED

        wait_until(probe_muted, 1.9, "a probe muted", interval=0.05)
        during = [pub.publish(alert(f"MUT{i}/USD")) for i in range(3)]
        assert pub.flush(5)
        snapshot = collect(client, load(env=engine.env))
        wait_until(lambda: set(account(client, during).outcomes) == set(during), 10, "settled")
        assert account(client, during).counts(during)[keyspace.MUTED] == 3
        assert [(m.target, m.by) for m in snapshot.mutes] == [("#market-data", "444")]
        assert snapshot.mutes[0].until == record.until
        wait_until(lambda: time.time() > record.until, 3, "the mute to end")
        after = pub.publish(alert("AFT/USD"))
        assert pub.flush(5)
    engine.wait_delivered({"market-data": 1}, timeout=30)
    wait_until(lambda: after in engine.delivered_ids("market-data"), 30, "after delivered")
    sent = engine.delivered_ids("market-data")
    assert not set(during) & set(sent), "a muted alert reached Discord"
    assert outcome(engine, after) == keyspace.DELIVERED
    stats = {k.decode(): int(v) for k, v in client.hgetall(keyspace.STATS).items()}
    muted = sum(1 for p in probes if outcome(engine, p) == keyspace.MUTED) + len(during)
    assert stats[keyspace.MUTED] == muted
    assert stats[keyspace.MUTED_PREFIX + "price_alert"] == muted
    assert stats[keyspace.IN_PREFIX + "price_alert"] == len(probes) + len(during) + 1
    assert collect(client, load(env=engine.env)).totals.muted == muted


def test_herald_status_lists_the_mutes_in_force(engine) -> None:
    now = time.time()
    for hours, target in enumerate((mutes.kind_target("volume_alert"), "channel:system-status")):
        record = mutes.Mute(target=target, until=now + 3600 * (hours + 1), by="555", at=now)
        engine.redis.hset(keyspace.MUTES, target, mutes.encode(record))
    gone = mutes.kind_target("trade_executed")
    engine.redis.hset(keyspace.MUTES, gone, mutes.encode(mute(gone, until=now - 1)))
    shown = subprocess.run(
        [sys.executable, "-m", "herald.cli", "status"], env=engine.env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "`volume_alert` muted until" in shown.stdout, shown.stdout + shown.stderr
    assert "#system-status muted until" in shown.stdout
    assert "trade_executed" not in shown.stdout
    raw = subprocess.run(
        [sys.executable, "-m", "herald.cli", "status", "--json"], env=engine.env,
        capture_output=True, timeout=60, check=False,
    ).stdout  # fmt: skip
    listed = msgspec.json.decode(raw)["mutes"]
    assert [m["target"] for m in listed] == ["`volume_alert`", "#system-status"]


def test_the_audit_trail_is_never_muted() -> None:
    """`/alerts off all` must not silence its own audit line in #maintenance."""
    for target in (mutes.ALL, mutes.channel_target("maintenance"), "kind:manual_operation"):
        route = router([mute(target)])
        assert route("manual_operation", ("maintenance",)) == (("maintenance",), False), target
    assert router([mute(mutes.ALL)])("maintenance_scheduled", ("maintenance",)) == ((), True)
