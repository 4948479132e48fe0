"""`worker.replication`: which primary, and each replica's lag, read from real servers."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import redis

from ground.connect import sync_client
from herald.redis_server import RedisServer
from tests.ha.cluster import Sentinels
from worker import replication


def test_status_names_the_primary_and_follows_a_failover(sentinels: Sentinels) -> None:
    client = sync_client(sentinels.url, socket_timeout=2)
    client.set("k", "v")
    before = replication.read(client)
    assert before.primary == f"127.0.0.1:{sentinels.primary().port}"
    assert before.role == "master"
    assert [r.address for r in before.replicas] == [f"127.0.0.1:{sentinels.replica().port}"]
    assert before.replicas[0].state == "online"
    assert before.as_dict()["max_lag_bytes"] == before.max_lag_bytes >= 0
    old = sentinels.kill_primary()
    after, deadline = None, time.monotonic() + 10
    while after is None:  # the first command after the failover may meet the dead one
        try:
            after = replication.read(client)
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "no primary 10 s after the failover"
    assert after.primary == f"127.0.0.1:{sentinels.primary().port}" != f"127.0.0.1:{old.port}"
    assert after.replicas == ()  # the old primary is down: nothing replicates


def test_metrics_carry_the_replica_lag() -> None:
    status = replication.ReplicationStatus(
        "h:1", "master", (replication.Replica("h:2", "online", 42, 1),)
    )
    samples = {
        (s.name, tuple(s.labels.values())): s.value
        for family in replication.metrics(status)
        for s in family.samples
    }
    assert samples[("herald_redis_replicas", ("h:1",))] == 1
    assert samples[("herald_redis_replica_lag_bytes", ("h:2",))] == 42
    assert samples[("herald_redis_replica_lag_seconds", ("h:2",))] == 1


def test_a_plain_url_names_its_host_and_has_no_replicas(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", appendonly=False)
    server.start()
    try:
        status = replication.read(sync_client(server.url))
    finally:
        server.stop()
    assert status == replication.ReplicationStatus(f"127.0.0.1:{server.port}", "master", ())


def test_the_status_line_names_the_primary_and_each_replica_lag() -> None:
    replica = replication.Replica("10.0.0.2:6379", "online", 1234, 0)
    status = replication.ReplicationStatus("10.0.0.1:6379", "master", (replica,))
    assert replication.line(status) == (
        "primary 10.0.0.1:6379 · replica 10.0.0.2:6379 online, lag 1,234 B / 0 s"
    )
    alone = replication.ReplicationStatus("10.0.0.1:6379", "master", ())
    assert "no replica" in replication.line(alone)
    assert "not a primary" in replication.line(replication.ReplicationStatus("h:1", "slave"))


def test_herald_status_shows_the_primary_and_the_replica_lag(sentinels: Sentinels) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env["HERALD_REDIS_URL"] = sentinels.url
    done = subprocess.run(
        [sys.executable, "-m", "herald.cli", "status", "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    shown = json.loads(done.stdout)["replication"]
    assert shown["primary"] == f"127.0.0.1:{sentinels.primary().port}"
    assert [r["address"] for r in shown["replicas"]] == [f"127.0.0.1:{sentinels.replica().port}"]
    text = subprocess.run(
        [sys.executable, "-m", "herald.cli", "status"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    ).stdout  # fmt: skip
    assert f"primary 127.0.0.1:{sentinels.primary().port}" in text
