"""`herald status` against a real engine: healthy, backlog, dead webhook, DLQ, no Redis."""

import json
import subprocess
import sys
from datetime import timedelta
from typing import Any

from ground import keyspace
from ground.keyspace import PAYLOAD_FIELD
from ground.proc import free_port, wait_until
from schemas import BuildSuccess
from tests.engine.test_delivery import trade

TOKEN = "sandbox-token"


def status(engine, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any, str]:
    done = subprocess.run(
        [sys.executable, "-m", "herald.cli", "status", *args],
        env=env or engine.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert TOKEN not in out
    assert "webhooks/" not in out
    data = json.loads(done.stdout) if "--json" in args and done.stdout else None
    return done.returncode, data, out


def channel(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in snapshot["channels"] if c["name"] == name)


def lag_config(engine, tmp_path) -> None:
    config = tmp_path / "herald.toml"
    config.write_text('[delivery]\nmax_lag = "1s"\n')
    engine.env["HERALD_CONFIG"] = str(config)


def test_healthy_after_deliveries_with_counts_that_match(engine):
    engine.start_dispatcher()
    engine.start_worker()
    r = engine.redis
    with engine.publisher() as pub:
        for i in range(5):
            pub.publish(trade(i))
        for i in range(2):
            pub.publish(BuildSuccess(repository="org/repo", commit=f"{i:07x}",
                                     duration=timedelta(seconds=i)))  # fmt: skip
        engine.wait_delivered({"trading-alerts": 5, "system-status": 2}, timeout=60)
        wait_until(
            lambda: r.hget(keyspace.STATS, keyspace.DELIVERED) == b"7", 10, "7 delivered settled"
        )
        wait_until(
            lambda: any(
                r.hget(k, "flushed") == b"7" for k in r.scan_iter(keyspace.PRODUCERS + "*")
            ),
            10,
            "the producer's counters in Redis",
        )
        code, snap, out = status(engine, "--json")
    assert code == 0, out
    assert snap["healthy"] is True
    assert snap["problems"] == []
    trading = channel(snap, "trading-alerts")
    assert trading["webhook"] == "configured"
    assert (trading["published"], trading["delivered"], trading["queued"]) == (5, 5, 0)
    assert trading["messages"] == len(engine.sandbox.messages("trading-alerts"))
    assert trading["oldest_undelivered_age_s"] is None
    assert channel(snap, "system-status")["delivered"] == 2
    assert snap["totals"]["events_in"] == {"trade_executed": 5, "build_success": 2}
    assert snap["totals"]["messages"] == engine.sandbox.stats()["messages"]
    assert snap["dispatchers"] == ["dispatch-0"]
    assert snap["workers_alive"] == 1
    assert snap["dlq_size"] == 0
    [producer] = [p for p in snap["producers"] if p["source"] == "test"]
    assert (producer["published"], producer["flushed"], producer["dropped"]) == (7, 7, 0)
    assert all(lane["lag"] == 0 and lane["pending"] == 0 for lane in snap["lanes"])
    code, _, text = status(engine)  # the human view
    assert code == 0
    assert "healthy" in text
    assert "#trading-alerts" in text
    # From a shell without the engine's webhooks (e.g. beside `herald up`), the running
    # dispatcher's word counts: no false "no webhook" alarm.
    bare = {k: v for k, v in engine.env.items() if not k.startswith("HERALD_WEBHOOK_")}
    code, snap, out = status(engine, "--json", env=bare)
    assert code == 0, out
    assert channel(snap, "trading-alerts")["webhook"] == "configured"


def test_backlog_without_workers_is_degraded(engine, tmp_path):
    lag_config(engine, tmp_path)
    engine.start_dispatcher()
    with engine.publisher() as pub:
        for i in range(3):
            pub.publish(trade(i))
    wait_until(lambda: engine.redis.llen(keyspace.outbox("trading-alerts")) == 3, 20, "outbox")
    found: dict[str, Any] = {}

    def degraded() -> bool:
        code, snap, _ = status(engine, "--json")
        found.update(snap)
        return code == 1 and any("backlog" in p for p in snap["problems"])

    wait_until(degraded, 30, "status to report the backlog", interval=0.2)
    trading = channel(found, "trading-alerts")
    assert trading["queued"] == 3
    assert trading["oldest_undelivered_age_s"] > 1.0
    assert found["workers_alive"] == 0
    assert found["dispatchers_alive"] == 1
    problems = "\n".join(found["problems"])
    assert "#trading-alerts: backlog of 3 events" in problems
    assert "No delivery worker is running" in problems
    engine.start_worker()  # and it recovers
    engine.wait_delivered({"trading-alerts": 3}, timeout=30)
    wait_until(lambda: status(engine, "--json")[0] == 0, 30, "healthy again", interval=0.2)


def test_undispatched_stream_without_a_dispatcher_is_degraded(engine, tmp_path):
    lag_config(engine, tmp_path)
    with engine.publisher() as pub:
        pub.publish(trade(1))
    found: dict[str, Any] = {}

    def degraded() -> bool:
        code, snap, _ = status(engine, "--json")
        found.update(snap)
        return code == 1 and any("normal stream" in p for p in snap["problems"])

    wait_until(degraded, 30, "status to report the stream backlog", interval=0.2)
    normal = next(lane for lane in found["lanes"] if lane["name"] == "normal")
    assert normal["lag"] == 1
    assert normal["oldest_age_s"] > 1.0
    assert any(p.startswith("No dispatcher is running") for p in found["problems"])


def test_dead_webhook_names_the_channel_and_the_fix(engine):
    engine.sandbox.delete_webhook("trading-alerts")
    engine.start_dispatcher()
    engine.start_worker()
    with engine.publisher() as pub:
        for i in range(2):
            pub.publish(trade(i))
    wait_until(lambda: engine.redis.zcard(keyspace.DLQ_INDEX) == 2, 30, "2 dead letters")
    code, snap, out = status(engine, "--json")
    assert code == 1, out
    trading = channel(snap, "trading-alerts")
    assert trading["webhook"] == "dead"
    assert "404" in trading["dead_reason"]
    assert trading["dead_lettered"] == 2
    assert trading["next_send_in_s"] is None
    [dead] = [p for p in snap["problems"] if p.startswith("#trading-alerts")]
    assert "webhook is gone" in dead
    assert "herald dlq replay --channel trading-alerts" in dead
    assert "HERALD_WEBHOOK_TRADING_ALERTS" in dead


def test_dead_letters_make_status_degraded_and_are_listed(engine):
    engine.start_dispatcher()
    engine.redis.xadd(keyspace.stream("normal"), {PAYLOAD_FIELD: b"\x93not an envelope"})
    wait_until(lambda: engine.redis.zcard(keyspace.DLQ_INDEX) == 1, 20, "a dead letter")
    code, snap, out = status(engine, "--json")
    assert code == 1, out
    assert snap["dlq_size"] == 1
    [entry] = snap["dlq_newest"]
    assert entry["channel"] is None
    assert entry["kind"] is None
    assert entry["reason"]
    assert any("1 event in the dead-letter queue" in p for p in snap["problems"])
    code, _, text = status(engine)
    assert code == 1
    assert entry["id"] in text
    assert "DEGRADED" in text


def test_unreachable_redis_exits_2_with_a_redacted_url(engine):
    env = dict(engine.env, HERALD_REDIS_URL=f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    code, _, out = status(engine, "--json", env=env)
    assert code == 2
    assert "cannot reach Redis at redis://:***@127.0.0.1" in out
    assert "hunter2" not in out
    assert len(out.strip().splitlines()) == 1
