"""Attachments end to end: a PNG published with an event reaches the sandbox as the
embed's image, through a 429, a 5xx retry, a dead webhook and a DLQ replay, and two
coalesced events with the same filename each keep their own picture."""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis

from ground import keyspace
from ground.channels import webhook_env
from ground.proc import wait_until
from herald.redis_server import RedisServer
from producer import Publisher
from sandbox.testing import SandboxHandle, run_sandbox
from schemas import Attachment, decode
from tests.engine.test_delivery import trade
from tests.sandbox.test_multipart import png
from worker.config import load
from worker.dispatcher import Dispatcher
from worker.dlq import DeadLetterQueue
from worker.engine import Engine
from worker.flush import Flush

CHANNEL = "trading-alerts"


def chart(width: int, name: str = "chart.png") -> Attachment:
    return Attachment(filename=name, data=png(width, 10), description=f"{width} wide")


@dataclass
class Rig:
    """Real Redis, the real dispatcher and flush job in-process, the real sandbox."""

    redis: redis.Redis
    engine: Engine
    sandbox: SandboxHandle
    server: RedisServer

    def publish(self, *events: tuple[Any, tuple[Attachment, ...]]) -> list[str]:
        spool = self.server.data_dir / "p.spool"
        with Publisher(self.server.url, source="test", spool_path=spool) as pub:
            ids = [pub.publish(event, attachments=files) for event, files in events]
            assert pub.flush(10)
        dispatcher = Dispatcher(self.redis, self.engine.settings)
        dispatcher.ensure_groups()
        while dispatcher.step(block=False):
            pass
        return ids

    def flush(self) -> str:
        return Flush(self.engine, CHANNEL).run()

    def images(self, message: dict[str, Any]) -> list[bytes]:
        """The bytes each embed of a delivered message shows, fetched from the sandbox."""
        return [httpx.get(e["image"]["url"]).content for e in message["embeds"] if "image" in e]


@pytest.fixture
def rig(redis_server: RedisServer) -> Iterator[Rig]:
    with run_sandbox(no_limits=True) as sandbox:
        env = {"HERALD_REDIS_URL": redis_server.url}
        env.update({webhook_env(c): u for c, u in sandbox.webhook_urls().items()})
        client = redis_server.client()
        yield Rig(client, Engine.create(client, load(env=env)), sandbox, redis_server)


def test_a_png_through_the_whole_engine_is_the_embeds_image(engine):
    engine.start_dispatcher()
    engine.start_worker()
    image = chart(64)
    with engine.publisher() as pub:
        event_id = pub.publish(trade(1), attachments=[image])
        plain_id = pub.publish(trade(2))
    engine.wait_delivered({CHANNEL: 2}, timeout=30)
    assert engine.delivered_ids(CHANNEL) == [event_id, plain_id]
    embeds = [e for m in engine.sandbox.messages(CHANNEL) for e in m["embeds"]]
    assert "image" not in embeds[1]
    shown = embeds[0]["image"]
    assert (shown["width"], shown["height"]) == (64, 10)
    assert httpx.get(shown["url"]).content == image.data


def test_coalesced_events_with_one_filename_each_keep_their_own_image(rig):
    ids = rig.publish((trade(1), (chart(30),)), (trade(2), ()), (trade(3), (chart(40),)))
    assert rig.flush() == "empty"
    [message] = rig.sandbox.messages(CHANNEL)
    assert [e["footer"]["text"].rsplit(" · ", 1)[-1] for e in message["embeds"]] == ids
    assert [e["image"]["url"].rsplit("/", 1)[-1] for e in message["embeds"] if "image" in e] == [
        "chart.png",
        "chart-2.png",
    ]
    assert rig.images(message) == [chart(30).data, chart(40).data]


def test_a_429_then_a_5xx_then_delivery_keeps_the_files(rig):
    ids = rig.publish((trade(1), (chart(50), chart(60, "second.png"))))
    rig.sandbox.set_faults(storm_seconds=0.5, storm_retry_after=0.2)
    rig.sandbox.set_faults(fail_rate=1.0, fail_statuses=(503,))  # after the storm: a 503
    assert rig.flush() == "retry"
    stats = rig.sandbox.stats()
    assert stats["storm_429"] >= 1
    assert stats["faults_5xx"] == 1
    assert rig.sandbox.messages(CHANNEL) == []
    assert rig.redis.llen(keyspace.outbox(CHANNEL)) == 1
    rig.sandbox.set_faults(fail_rate=0.0)
    rig.redis.hset(keyspace.channel_state(CHANNEL), keyspace.STATE_RETRY_AT, 0)
    assert rig.flush() == "empty"
    [message] = rig.sandbox.messages(CHANNEL)
    assert message["embeds"][0]["footer"]["text"].endswith(ids[0])
    assert rig.images(message) == [chart(50).data]  # the first image is the embed's
    [other] = message["attachments"]  # the second is listed with the message
    assert other["filename"] == "second.png"
    assert httpx.get(other["url"]).content == chart(60, "second.png").data


def test_a_dead_letter_keeps_its_files_and_a_replay_delivers_them(rig):
    [event_id] = rig.publish((trade(1), (chart(70),)))
    rig.sandbox.delete_webhook(CHANNEL)
    assert rig.flush() == "dead"
    dlq = DeadLetterQueue(rig.redis)
    [entry] = dlq.entries()
    assert entry.event_id == event_id
    assert entry.http_status == 404
    assert decode(entry.raw).attachments == (chart(70),)  # the bytes ride in the envelope
    rig.sandbox.restore_webhook(CHANNEL)
    assert dlq.replay([entry]) == 1
    wait_until(lambda: rig.flush() == "empty", 10, "the replay delivered")
    [message] = rig.sandbox.messages(CHANNEL)
    assert message["embeds"][0]["footer"]["text"].endswith(event_id)
    assert rig.images(message) == [chart(70).data]
    assert len(dlq) == 0


def test_herald_publish_attach_sends_the_file(rig, tmp_path):
    path = tmp_path / "pnl-day.png"
    path.write_bytes(chart(20).data)
    env = {**os.environ, "HERALD_REDIS_URL": rig.server.url}
    fields = "--pair XRP/USD --side BUY --amount 1 --price 0.5 --pnl 1 --latency-ms 2 --strategy s"
    command = [sys.executable, "-m", "herald.cli", "publish", "trade-executed", *fields.split()]
    done = subprocess.run([*command, "--attach", str(path)], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    missing = subprocess.run([*command, "--attach", str(tmp_path / "nope.png")], env=env,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert missing.returncode != 0
    assert "--attach" in missing.stderr
    rig.publish()
    assert rig.flush() == "empty"
    [message] = rig.sandbox.messages(CHANNEL)
    assert message["embeds"][0]["footer"]["text"].endswith(done.stdout.strip())
    assert message["embeds"][0]["image"]["url"].endswith("/pnl-day.png")
    assert rig.images(message) == [chart(20).data]
