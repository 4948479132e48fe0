"""settle.lua pops only the items a request was made of: a job that read the outbox on
one primary and settles on another (a failover between the two) must not pop items it
never sent; they would be marked seen and never delivered."""

from pathlib import Path

from ground import keyspace
from ground.channels import webhook_env
from herald.redis_server import RedisServer
from worker.config import load
from worker.engine import Engine
from worker.settling import HEAD_MOVED, Settler

CHANNEL = "trading-alerts"
TOKEN = "job-token"
ITEMS = [b"a:1", b"12:\x00\xffbinary", b"c"]  # digits and colons: the checksum's separators


def settler(redis_server: RedisServer, tmp_path: Path) -> Settler:
    config = tmp_path / "herald.toml"
    config.write_text("")
    env = {webhook_env(CHANNEL): "https://discord.com/api/webhooks/1/t"}
    settings = load(path=config, env=env, redis=redis_server.url)
    engine = Engine.create(redis_server.client(), settings)
    engine.redis.set(keyspace.flush_lock(CHANNEL), TOKEN)
    engine.redis.rpush(keyspace.outbox(CHANNEL), *ITEMS)
    return Settler(engine, CHANNEL, TOKEN, lease_ms=10_000)


def test_the_head_it_was_made_of_is_popped_and_logged(redis_server, tmp_path) -> None:
    s = settler(redis_server, tmp_path)
    assert s.settle(popped=ITEMS[:2], delivered=["e1", "e2"]) == 1
    assert s.redis.lrange(s.outbox, 0, -1) == [b"c"]
    assert s.redis.xlen(keyspace.LEDGER) == 2


def test_another_head_is_left_alone(redis_server, tmp_path) -> None:
    s = settler(redis_server, tmp_path)
    for popped in ([b"x", b"y"], ITEMS[1:], [*ITEMS, b"d"], [ITEMS[0], b"12:\x00\xff"]):
        assert s.settle(popped=popped, delivered=["e1"]) == HEAD_MOVED, popped
    assert s.redis.lrange(s.outbox, 0, -1) == ITEMS
    assert s.redis.xlen(keyspace.LEDGER) == 0
    assert s.redis.hget(keyspace.STATS, keyspace.DELIVERED) is None
