"""Engine bugs found by the chaos suite, pinned as tests (they fail until fixed)."""

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ground import keyspace
from ground.proc import wait_until
from herald.redis_server import RedisServer
from sandbox.testing import SandboxHandle, run_sandbox
from schemas.codec import encode
from schemas.envelope import wrap
from tests.engine.conftest import engine_env
from tests.factories import sample
from worker import dlq
from worker.channels import MAINTENANCE
from worker.config import Settings, load
from worker.dlq import DeadLetterQueue
from worker.engine import Engine
from worker.flush import Flush

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[tuple[redis.Redis, Settings, SandboxHandle]]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        with run_sandbox() as sandbox:
            settings = load(env=engine_env(server.url, sandbox))
            yield redis.Redis(port=server.port), settings, sandbox
    finally:
        server.stop()


def test_a_replay_during_a_bury_is_not_dead_lettered_again(engine, monkeypatch) -> None:
    """A flush job that saw the channel dead buries the WHOLE outbox, batch after batch,
    without checking that the channel is still dead. An operator's `herald dlq replay`
    landing meanwhile (the webhook was fixed) clears `dead` and pushes the entries back,
    and the running job dead-letters them again (the chaos runner replays the outage
    channel a second time at the end of its drain for this reason)."""
    client, settings, sandbox = engine
    raw = encode(wrap(sample("maintenance_scheduled"), source="chaos", now_ns=time.time_ns()))
    DeadLetterQueue(client).add(
        [dlq.dead_letter(raw, "webhook gone: HTTP 404 10015", channel=MAINTENANCE)]
    )
    client.hset(keyspace.channel_state(MAINTENANCE), "dead", "webhook gone: HTTP 404 10015")
    original = Flush._bury_all

    def bury_after_operator_replays(self: Flush, reason: str, outcome=None) -> None:
        queue = DeadLetterQueue(self.engine.redis)
        assert queue.replay(list(queue.entries())) == 1  # lands after the job read `dead`
        original(self, reason, outcome)

    monkeypatch.setattr(Flush, "_bury_all", bury_after_operator_replays)
    Flush(Engine.create(client, settings), MAINTENANCE).run()
    assert len(DeadLetterQueue(client)) == 0, "the replayed event was dead-lettered again"
    assert client.llen(keyspace.outbox(MAINTENANCE)) == 1 or sandbox.messages(MAINTENANCE)


def test_backlog_is_zero_after_a_redis_restart_when_everything_was_read(tmp_path) -> None:
    """Redis 7.0 does not write a consumer group's entries-read to the AOF on XREADGROUP,
    so after an AOF rewrite, more reads and a restart, XINFO GROUPS reports `lag` > 0 for
    a stream whose every entry was read and acknowledged. `Dispatcher.backlog()` (and so
    `herald dispatch --drain`, `herald status` and `herald_stream_lag`) trusts `lag`:
    drain never ends and status shows a phantom backlog. Seen in the 30-minute chaos run:
    lag 75,916 on the bulk lane with last-delivered-id == last-generated-id, pending 0."""
    from ground.keyspace import PAYLOAD_FIELD
    from producer.streams import stream_key
    from schemas.base import Lane
    from worker.dispatcher import Dispatcher

    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        client = server.client()
        settings = load(env={"HERALD_REDIS_URL": server.url})
        Dispatcher(client, settings).ensure_groups()
        stream = stream_key(Lane.BULK)
        raw = encode(wrap(sample("price_alert"), source="chaos", now_ns=time.time_ns()))

        def publish_and_dispatch(n: int) -> None:
            for _ in range(n):
                client.xadd(stream, {PAYLOAD_FIELD: raw})
            dispatcher = Dispatcher(client, settings, name="d")
            while dispatcher.step(block=False):
                pass

        publish_and_dispatch(30)
        client.bgrewriteaof()
        wait_until(
            lambda: (
                client.info("persistence")["aof_rewrite_in_progress"] == 0
                and client.info("persistence")["aof_rewrite_scheduled"] == 0
            ),
            30,
            "the AOF rewrite",
        )
        publish_and_dispatch(20)
        assert Dispatcher(client, settings).backlog() == 0
        server.stop()
        server.start()
        client = server.client()
        assert Dispatcher(client, settings).backlog() == 0
    finally:
        server.stop()
