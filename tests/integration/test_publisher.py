"""The Publisher against a real redis-server: delivery, outages, spool replay, drops."""

import asyncio
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from ground import keyspace
from ground.errors import InvalidEvent
from ground.keyspace import PAYLOAD_FIELD
from ground.proc import free_port, wait_until
from herald.redis_server import RedisServer
from producer import Publisher, stream_key
from producer.spool import Spool
from schemas import (
    Lane,
    PriceAlert,
    ServiceDown,
    ServiceRecovered,
    Severity,
    Side,
    TradeExecuted,
    decode,
)
from worker.config import load
from worker.dispatcher import Dispatcher

TRADE = TradeExecuted(
    pair="XRP/USD",
    side=Side.BUY,
    amount=Decimal("1500.0000"),
    price=Decimal("0.523456"),
    pnl=Decimal("-12.50"),
    latency_ms=1.25,
    strategy="momentum",
)


def stream_ids(server: RedisServer, lane: Lane = Lane.NORMAL) -> list[str]:
    entries = server.client().xrange(stream_key(lane))
    return [decode(fields[PAYLOAD_FIELD]).id for _, fields in entries]


def make_publisher(server_url: str, tmp_path: Path, **kw: object) -> Publisher:
    return Publisher(server_url, source="test", spool_path=tmp_path / "spool" / "test.spool", **kw)  # type: ignore[arg-type]


def test_published_event_reaches_the_stream_and_decodes_identically(redis_server, tmp_path):
    with make_publisher(redis_server.url, tmp_path) as pub:
        event_id = pub.publish(TRADE)
        assert pub.flush(5)
    [(_, fields)] = redis_server.client().xrange(stream_key(Lane.NORMAL))
    envelope = decode(fields[PAYLOAD_FIELD])
    assert envelope.id == event_id
    assert envelope.event == TRADE
    assert envelope.source == "test"
    assert envelope.severity is Severity.INFO
    assert envelope.created_at.tzinfo is not None


def test_lanes_keep_critical_and_bulk_apart(redis_server, tmp_path):
    down = ServiceDown(
        service="api", server="srv-1", duration=timedelta(seconds=30), impact="no quotes"
    )
    tick = PriceAlert(
        pair="XRP/USD",
        price=Decimal("0.51"),
        previous_price=Decimal("0.50"),
        change_pct=Decimal("2.0"),
        window=timedelta(minutes=1),
    )
    with make_publisher(redis_server.url, tmp_path) as pub:
        ids = (
            pub.publish(down),
            pub.publish(tick),
            pub.publish(TRADE),
            pub.publish(TRADE, severity=Severity.CRITICAL),
        )
        assert pub.flush(5)
    assert stream_ids(redis_server, Lane.CRITICAL) == [ids[0], ids[3]]
    assert stream_ids(redis_server, Lane.BULK) == [ids[1]]
    assert stream_ids(redis_server, Lane.NORMAL) == [ids[2]]


def test_outage_spools_without_blocking_and_replays_in_order(redis_server, tmp_path):
    pub = make_publisher(redis_server.url, tmp_path, socket_timeout=1.0)
    try:
        assert pub.flush(5)
        redis_server.stop()

        ids, slowest = [], 0.0
        for _ in range(10_000):
            t0 = time.perf_counter()
            ids.append(pub.publish(TRADE))
            slowest = max(slowest, time.perf_counter() - t0)
        # A call that waited on Redis would take at least the 1 s socket timeout.
        assert slowest < 0.5
        assert not pub.flush(0.5)  # not in Redis yet
        wait_until(lambda: pub.stats().spooled == 10_000, 15, "10,000 events in the spool")
        assert pub.stats().dropped == 0

        redis_server.start()
        assert pub.flush(30)
        assert stream_ids(redis_server) == ids
        stats = pub.stats()
        assert (stats.published, stats.flushed, stats.dropped) == (10_000, 10_000, 0)
    finally:
        pub.close()


def test_close_delivers_everything_buffered(redis_server, tmp_path):
    pub = make_publisher(redis_server.url, tmp_path)
    ids = [pub.publish(TRADE) for _ in range(5_000)]
    pub.close()
    assert stream_ids(redis_server) == ids


def test_close_while_redis_is_down_keeps_events_for_the_next_process(redis_server, tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    pub = make_publisher(dead, tmp_path)
    ids = [pub.publish(TRADE) for _ in range(300)]
    pub.close()
    assert pub.stats().spooled == 300

    with make_publisher(redis_server.url, tmp_path) as successor:
        assert successor.flush(10)
    assert stream_ids(redis_server) == ids


def test_full_buffer_drops_and_counts_instead_of_blocking(redis_server, tmp_path):
    with make_publisher(redis_server.url, tmp_path, buffer_size=100, socket_timeout=5.0) as pub:
        assert pub.flush(5)
        redis_server.pause()  # the background thread now hangs in a socket read
        try:
            pub.publish(TRADE)
            wait_until(lambda: pub.stats().buffered == 0, 5, "the thread to take the first event")
            for _ in range(1_000):
                pub.publish(TRADE)
            stats = pub.stats()
            assert stats.dropped == 1_000 - 100
            assert stats.published == 1 + 100
        finally:
            redis_server.resume()
        assert pub.flush(20)
    assert len(stream_ids(redis_server)) == 101
    # Operators see the drop figure in Redis (herald status reads these hashes).
    [key] = redis_server.client().keys("herald:producers:test:*")
    wait_until(lambda: redis_server.client().hget(key, "dropped") == b"900", 5, "published stats")


def test_many_threads_and_asyncio_share_one_publisher(redis_server, tmp_path):
    with make_publisher(redis_server.url, tmp_path) as pub:
        per_thread: list[list[str]] = [[] for _ in range(8)]

        def worker(out: list[str]) -> None:
            for _ in range(2_000):
                out.append(pub.publish(TRADE))

        threads = [threading.Thread(target=worker, args=(out,)) for out in per_thread]
        for t in threads:
            t.start()

        async def produce() -> list[str]:
            return [pub.publish(TRADE) for _ in range(1_000)]

        from_async = asyncio.run(produce())
        for t in threads:
            t.join()
        assert pub.flush(10)
    in_stream = stream_ids(redis_server)
    assert len(in_stream) == len(set(in_stream)) == 8 * 2_000 + 1_000
    position = {event_id: i for i, event_id in enumerate(in_stream)}
    for ids in [*per_thread, from_async]:
        assert [position[i] for i in ids] == sorted(position[i] for i in ids)  # per-thread order


def test_spool_cuts_a_torn_final_frame(tmp_path):
    path = tmp_path / "x.spool"
    spool = Spool(path)
    spool.append([(Lane.NORMAL, b"one"), (Lane.BULK, b"two")])
    spool.close()
    with path.open("ab") as f:
        f.write(b"\x00\x00\x00\x09\x01tor")  # a frame header promising 9 bytes, then a crash
    spool = Spool(path)
    records, offset = spool.read(10)
    assert records == [(Lane.NORMAL, b"one"), (Lane.BULK, b"two")]
    spool.commit(offset)
    assert not spool.pending
    assert path.stat().st_size == 0
    spool.close()


def test_publish_never_raises_for_a_bad_redis_url(tmp_path):
    with pytest.raises(ValueError):
        Publisher("redis://127.0.0.1:1/0", buffer_size=0, spool_path=tmp_path / "s")
    with make_publisher("redis://127.0.0.1:1/0", tmp_path) as pub:
        assert isinstance(pub.publish(TRADE), str)


# -- through the dispatcher: per-event channels, recoveries ----------------------------------

DOWN = ServiceDown(
    service="market-feed", server="prod-02", duration=timedelta(seconds=90), impact="no quotes"
)


def dispatch(server: RedisServer) -> dict[str, list[str]]:
    """Hand everything in the streams on; then each channel's outbox as event ids."""
    client = server.client()
    Dispatcher(client, load(env={"HERALD_REDIS_URL": server.url})).run(
        threading.Event(), drain=True
    )
    return {
        channel: [
            decode(item.split(b"|", 1)[1]).id
            for item in client.lrange(keyspace.outbox(channel), 0, -1)
        ]
        for channel in ("critical-alerts", "system-status")
    }


def test_an_event_goes_to_the_channels_it_names_instead_of_its_route(redis_server, tmp_path):
    with make_publisher(redis_server.url, tmp_path) as pub:
        routed = pub.publish(DOWN)
        redirected = pub.publish(
            msgspec.structs.replace(DOWN, service="webhook:critical-alerts"),
            channels=("system-status",),
        )
        assert pub.flush(5)
    outboxes = dispatch(redis_server)
    assert outboxes == {"critical-alerts": [routed], "system-status": [redirected]}


def test_an_unknown_channel_fails_at_the_call_not_in_the_background(redis_server, tmp_path):
    with make_publisher(redis_server.url, tmp_path) as pub:
        with pytest.raises(InvalidEvent, match="unknown channel 'critical'; channels are"):
            pub.publish(DOWN, channels=["critical"])
        assert pub.stats().published == 0
        pub.publish(TRADE)  # the background thread is alive and well
        assert pub.flush(5)
    assert len(stream_ids(redis_server)) == 1


def test_a_recovery_closes_the_fold_window_so_the_next_failure_pages(redis_server, tmp_path):
    recovered = ServiceRecovered(
        service="market-feed", server="prod-02", down_for=timedelta(minutes=3)
    )
    with make_publisher(redis_server.url, tmp_path) as pub:
        first = pub.publish(DOWN)
        pub.publish(DOWN)  # a repeat within the window: folded
        assert pub.flush(5)
        dispatch(redis_server)  # the down lane is read before the recovery's: keep order
        back = pub.publish(recovered)
        assert pub.flush(5)
        dispatch(redis_server)
        again = pub.publish(DOWN)
        assert pub.flush(5)
    assert dispatch(redis_server)["critical-alerts"] == [first, back, again]
    assert redis_server.client().hget(keyspace.STATS, keyspace.FOLDED) == b"1"


# -- heartbeats ---------------------------------------------------------------------------


def beat_of(server: RedisServer, name: str) -> int | None:
    raw = server.client().get(keyspace.heartbeat(name))
    return None if raw is None else int(raw)


def test_heartbeat_sets_the_key_to_the_moment_of_the_call_with_a_ttl(redis_server, tmp_path):
    with make_publisher(redis_server.url, tmp_path) as pub:
        before = time.time_ns() // 1_000_000
        pub.heartbeat("trade-server")
        after = time.time_ns() // 1_000_000
        assert pub.flush(5)
        beat = beat_of(redis_server, "trade-server")
        assert beat is not None
        assert before <= beat <= after
        ttl = redis_server.client().ttl(keyspace.heartbeat("trade-server"))
        assert keyspace.HEARTBEAT_TTL_S - 60 < ttl <= keyspace.HEARTBEAT_TTL_S
        assert pub.stats().published == 0  # not an event
    assert stream_ids(redis_server) == []


def test_heartbeats_of_one_name_coalesce_into_one_set(redis_server, tmp_path):
    client = redis_server.client()
    with make_publisher(redis_server.url, tmp_path, socket_timeout=5.0) as pub:
        assert pub.flush(5)
        redis_server.pause()  # the background thread now hangs in a socket read
        try:
            pub.publish(TRADE)
            wait_until(lambda: pub.stats().buffered == 0, 5, "the thread to take the event")
            for _ in range(1_000):
                pub.heartbeat("a")
            pub.heartbeat("b")
            newest = time.time_ns() // 1_000_000
            pub.heartbeat("a")
        finally:
            redis_server.resume()
        assert pub.flush(20)
        sets = client.info("commandstats").get("cmdstat_set", {}).get("calls", 0)
    assert sets == 2  # one SET per name for the whole batch
    beat = beat_of(redis_server, "a")
    assert beat is not None
    assert beat >= newest  # the newest beat won
    assert beat_of(redis_server, "b") is not None


def test_heartbeat_never_blocks_or_raises_while_redis_is_away(redis_server, tmp_path):
    pub = make_publisher(redis_server.url, tmp_path, socket_timeout=1.0)
    try:
        assert pub.flush(5)
        redis_server.stop()
        slowest = 0.0
        for _ in range(1_000):
            t0 = time.perf_counter()
            pub.heartbeat("trade-server")
            slowest = max(slowest, time.perf_counter() - t0)
        assert slowest < 0.5  # a call that waited on Redis would take the 1 s timeout
        assert not pub.flush(0.5)  # kept, not in Redis
        redis_server.start()
        assert pub.flush(30)  # set once Redis answers
        assert beat_of(redis_server, "trade-server") is not None
    finally:
        pub.close()


def test_a_bad_heartbeat_name_is_a_value_error_naming_the_rule(tmp_path):
    with make_publisher("redis://127.0.0.1:1/0", tmp_path) as pub:
        for bad in ("", "two words", "-x", "x" * 101, "api\n"):
            with pytest.raises(ValueError, match=re.escape("letters, digits and . _ - : @ / +")):
                pub.heartbeat(bad)
    pub.heartbeat("after-close")  # a closed publisher ignores it, like publish drops
