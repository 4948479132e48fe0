"""The pipelined dispatcher loop (`Dispatcher.run`) against a real redis-server."""

import dataclasses
import threading
import time

import redis

from ground import keyspace
from ground.keyspace import PAYLOAD_FIELD
from producer.streams import stream_key
from schemas import Lane
from schemas.codec import decode, encode
from schemas.envelope import wrap
from tests.engine.test_delivery import trade
from worker.config import load
from worker.dispatcher import Dispatcher


def publish(client: redis.Redis, n: int) -> list[str]:
    ids = []
    for i in range(n):
        envelope = wrap(trade(i), source="t", now_ns=time.time_ns())
        client.xadd(stream_key(Lane.NORMAL), {PAYLOAD_FIELD: encode(envelope)})
        ids.append(envelope.id)
    return ids


def test_drain_hands_on_every_entry_in_order(redis_server) -> None:
    client = redis_server.client()
    ids = publish(client, 1_234)  # several batches of 500: commits overlap decoding
    settings = load(env={"HERALD_REDIS_URL": redis_server.url})
    dispatcher = Dispatcher(client, settings, batch_size=500)
    dispatcher.run(threading.Event(), drain=True)
    items = client.lrange(keyspace.outbox("trading-alerts"), 0, -1)
    assert [decode(item.split(b"|", 1)[1]).id for item in items] == ids
    assert dispatcher.backlog() == 0


def test_a_commit_that_fails_as_the_loop_stops_is_not_applied_again(redis_server, monkeypatch):
    client = redis_server.client()
    publish(client, 3)
    dispatcher = Dispatcher(client, load(env={"HERALD_REDIS_URL": redis_server.url}))
    stop = threading.Event()
    calls: list[int] = []
    real_apply = dispatcher._apply

    def flaky_apply(batch) -> None:
        calls.append(batch.count)
        real_apply(batch)  # the script ran...
        stop.set()
        raise redis.ConnectionError("reply lost")  # ...but its answer never came

    monkeypatch.setattr(dispatcher, "_apply", flaky_apply)
    dispatcher.run(stop)
    assert calls == [3]  # not applied a second time on the way out
    assert client.hget(keyspace.STATS, "in:trade_executed") == b"3"
    assert client.llen(keyspace.outbox("trading-alerts")) == 3


def test_trim_drops_what_was_handed_on_and_keeps_what_is_pending(redis_server) -> None:
    client = redis_server.client()
    stream = stream_key(Lane.NORMAL)
    publish(client, 1_000)
    settings = load(env={"HERALD_REDIS_URL": redis_server.url})
    dispatcher = Dispatcher(client, settings, name="d1")
    dispatcher.run(threading.Event(), drain=True)
    ids = publish(client, 300)
    # Another consumer reads 300 entries and dies before acknowledging them.
    client.xreadgroup(keyspace.GROUP, "dead", {stream: ">"}, count=300)
    dispatcher.trim()
    left = [entry_id for entry_id, _ in client.xrange(stream)]
    assert len(left) < 1_000  # handed-on entries are gone (whole nodes: Redis trims with ~)
    kept = {decode(fields[PAYLOAD_FIELD]).id for _, fields in client.xrange(stream)}
    assert set(ids) <= kept  # every pending entry is still there to be claimed


def test_an_id_is_remembered_for_the_seen_ttl_and_not_much_longer(redis_server, monkeypatch):
    client = redis_server.client()
    settings = load(env={"HERALD_REDIS_URL": redis_server.url})
    dispatcher = Dispatcher(client, dataclasses.replace(settings, seen_ttl_s=100.0))
    clock = [1_000_099.0]  # 1 s before a bucket boundary (buckets are 100 s)
    monkeypatch.setattr("worker.dispatcher.time.time", lambda: clock[0])
    envelope = wrap(trade(1), source="t", now_ns=time.time_ns())
    raw = encode(envelope)

    def replay() -> None:
        client.xadd(stream_key(Lane.NORMAL), {PAYLOAD_FIELD: raw})
        dispatcher.run(threading.Event(), drain=True)

    replay()
    first = keyspace.seen(10_000)
    assert 99_000 < client.pttl(first) <= 100_000  # one TTL: at most two buckets alive
    clock[0] += 98.0  # the next bucket, 99 s after the first copy: still remembered
    replay()
    assert client.llen(keyspace.outbox("trading-alerts")) == 1
    assert client.hget(keyspace.STATS, "duplicates") == b"1"
