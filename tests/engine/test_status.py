"""`herald status` against a real engine: healthy, backlog (draining or stalled), dead
webhook, DLQ, the monitor's checks, no Redis."""

import json
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import msgspec

from ground import keyspace
from ground.keyspace import PAYLOAD_FIELD
from ground.proc import free_port, wait_until
from schemas import BuildSuccess
from tests.engine.test_delivery import trade
from worker.status_model import CheckStatus

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


def lag_config(engine, tmp_path, extra: str = "") -> None:
    config = tmp_path / "herald.toml"
    config.write_text('[delivery]\nmax_lag = "1s"\n' + extra)
    engine.env["HERALD_CONFIG"] = str(config)


def wait_for_status(engine, what: str, predicate, timeout: float = 30) -> dict[str, Any]:
    """Poll `herald status --json` until `predicate(code, snapshot)`; the last snapshot,
    with its exit code under "code"."""
    found: dict[str, Any] = {}

    def done() -> bool:
        code, snap, out = status(engine, "--json")
        assert snap is not None, f"herald status --json printed no JSON (exit {code}):\n{out}"
        found.clear()
        found.update(snap, code=code)
        return bool(predicate(code, snap))

    wait_until(done, timeout, what, interval=0.2)
    return found


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


def test_a_backlog_draining_at_the_rate_limit_is_healthy_with_a_note(engine, tmp_path):
    # One message every 2 s (10 events each): 100 events take ~20 s, steadily.
    lag_config(engine, tmp_path, 'rate = ["1/2s"]\n')
    engine.start_dispatcher()
    engine.start_worker()
    with engine.publisher() as pub:
        for i in range(100):
            pub.publish(trade(i))

    def draining(code: int, snap: dict[str, Any]) -> bool:
        trading = channel(snap, "trading-alerts")
        return trading["delivered"] > 0 and (trading["oldest_undelivered_age_s"] or 0) > 1.0

    found = wait_for_status(engine, "a late backlog being delivered", draining)
    assert found["code"] == 0, found["problems"]
    assert found["healthy"] is True
    assert found["problems"] == []
    trading = channel(found, "trading-alerts")
    assert 0 < trading["queued"] < 100
    assert trading["attempts"] == 0
    [note] = [n for n in found["notes"] if n.startswith("#trading-alerts:")]
    assert f"#trading-alerts: {trading['queued']} events queued" in note
    assert "sending at Discord's limit (1 message/2s, up to 10 events each)" in note
    assert "drained in under a minute" in note
    assert found["rate_windows"] == [{"messages": 1, "seconds": 2.0}]


def test_a_backlog_whose_sends_keep_failing_is_stalled_with_its_error(engine, tmp_path):
    lag_config(engine, tmp_path)
    engine.sandbox.set_faults(fail_rate=1.0, fail_statuses=(503,))
    engine.start_dispatcher()
    engine.start_worker()
    with engine.publisher() as pub:
        for i in range(3):
            pub.publish(trade(i))

    seen: list[dict[str, Any]] = []

    def fourth_attempt(code: int, snap: dict[str, Any]) -> bool:
        trading = channel(snap, "trading-alerts")
        if trading["attempts"] and (trading["oldest_undelivered_age_s"] or 0) > 1.0:
            seen.append(dict(snap, code=code))
        return trading["attempts"] >= 4

    wait_for_status(engine, "four failed attempts", fourth_attempt, timeout=60)
    # Between attempts the channel waits for its backoff: the wait a rate limit would
    # excuse, but failed attempts make it a problem in every snapshot.
    assert any(channel(snap, "trading-alerts")["next_send_in_s"] for snap in seen)
    for snap in seen:
        assert snap["code"] == 1
        assert snap["workers_alive"] == 1
        trading = channel(snap, "trading-alerts")
        assert "503" in trading["last_error"]
        [problem] = [p for p in snap["problems"] if p.startswith("#trading-alerts")]
        assert problem.startswith("#trading-alerts: backlog of 3 events")
        assert f"attempt {trading['attempts']} failed: " in problem
        assert "delivery.max_attempts" in problem
        assert not any(n.startswith("#trading-alerts") for n in snap["notes"])
    engine.sandbox.set_faults(fail_rate=0.0)  # and once Discord answers again, it recovers
    engine.wait_delivered({"trading-alerts": 3}, timeout=60)


def put_check(engine, name: str, **kw: Any) -> None:
    now = time.time()
    check = CheckStatus(
        name=name, kind="http", state=kw.pop("state", "up"), since=now - 600,
        last_latency_ms=kw.pop("latency", 42.0), last_detail=kw.pop("detail", "HTTP 200"),
        last_at=now - kw.pop("ago", 1.0), server="web-1", interval_s=30.0,
    )  # fmt: skip
    engine.redis.hset(keyspace.MONITOR_CHECKS, name, msgspec.json.encode(check))


def test_monitor_checks_are_shown_and_only_a_silent_monitor_degrades(engine):
    put_check(engine, "web", detail="redis://:hunter2@db:6379 refused")
    put_check(engine, "api", state="down", latency=None, detail="HTTP 502")
    put_check(engine, "queue", ago=200.0)  # 200 s > 3 × 30 s: stale
    engine.redis.hset(keyspace.MONITOR_CHECKS, "junk", b"{not json")
    engine.redis.hset(keyspace.MONITOR_CHECKS, "older", b'{"name": "older", "state": "up"}')
    code, snap, out = status(engine, "--json")
    assert code == 0, out  # a down check is the monitor's to page
    assert snap["problems"] == []
    assert [(c["name"], c["state"], c["stale"]) for c in snap["checks"]] == [
        ("api", "down", False),
        ("queue", "up", True),
        ("web", "up", False),
    ]
    assert snap["checks"][0]["last_latency_ms"] is None
    assert snap["checks"][2]["last_detail"] == "redis://:***@db:6379 refused"
    assert "hunter2" not in out
    [note] = snap["notes"]
    assert "(stale): queue (last 3m 20s ago)" in note
    code, _, text = status(engine)
    assert code == 0
    assert "Monitor checks" in text
    assert "HTTP 502" in text
    for name in ("web", "api"):
        put_check(engine, name, ago=120.0)
    code, snap, out = status(engine, "--json")
    assert code == 1, out
    [problem] = snap["problems"]
    assert problem.startswith("The monitor has run none of its 3 checks")
    assert "herald monitor" in problem
    assert snap["notes"] == []
