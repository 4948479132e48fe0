"""The kicker queues one flush job per channel, its marker and job in one MULTI."""

import fakeredis
import redis
from rq import Queue

from ground import keyspace
from ground.channels import webhook_env
from worker.config import load
from worker.kicker import QUEUE_DEFAULT, QUEUED_TTL_S, Kicker

CHANNEL = "trading-alerts"
ENV = {
    "HERALD_REDIS_URL": "redis://127.0.0.1:1/0",
    webhook_env(CHANNEL): "https://discord.com/api/webhooks/1/token",
}


def kicker(client: redis.Redis, tmp_path) -> Kicker:
    config = tmp_path / "herald.toml"
    config.write_text("")
    return Kicker(client, load(path=config, env=ENV))


def test_one_job_and_its_marker_and_no_second(tmp_path) -> None:
    client = fakeredis.FakeRedis()
    assert kicker(client, tmp_path).kick([CHANNEL]) == 1
    assert kicker(client, tmp_path).kick([CHANNEL]) == 0  # another dispatcher: the marker is set
    assert Queue(QUEUE_DEFAULT, connection=client).count == 1
    assert 0 < client.ttl(keyspace.flush_queued(CHANNEL)) <= QUEUED_TTL_S


def test_a_marker_set_between_watch_and_exec_queues_nothing(tmp_path) -> None:
    client = fakeredis.FakeRedis()
    k = kicker(client, tmp_path)
    real_exists = redis.client.Pipeline.exists

    def exists_then_race(pipe, *names):  # type: ignore[no-untyped-def]
        found = real_exists(pipe, *names)
        if names == (keyspace.flush_queued(CHANNEL),):  # after WATCH: another dispatcher
            client.set(keyspace.flush_queued(CHANNEL), 1)  # sets it before our EXEC
        return found

    redis.client.Pipeline.exists = exists_then_race  # type: ignore[method-assign]
    try:
        assert k.kick([CHANNEL]) == 0
    finally:
        redis.client.Pipeline.exists = real_exists  # type: ignore[method-assign]
    assert Queue(QUEUE_DEFAULT, connection=client).count == 0
