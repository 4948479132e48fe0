"""Herald watches itself: no dispatcher, a growing DLQ and a dead #critical-alerts
webhook page (the last through #system-status), confirmed before they page."""

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground import keyspace
from ground.channels import CRITICAL_ALERTS, SYSTEM_STATUS
from herald.redis_server import RedisServer
from monitor.selfwatch import SelfWatch
from schemas import ServiceDown, ServiceRecovered
from schemas.codec import encode
from schemas.envelope import wrap
from tests.factories import sample
from worker import dlq
from worker.config import load
from worker.dlq import DeadLetterQueue

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
WEBHOOK = "https://discord.com/api/webhooks/1/token-{}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path / "redis")
    srv.start()
    yield srv
    srv.stop()


class Sent:
    def __init__(self) -> None:
        self.calls: list[tuple[object, tuple[str, ...] | None]] = []

    def __call__(self, event: object, *, channels: tuple[str, ...] | None = None) -> str:
        self.calls.append((event, channels))
        return "id"


def watch(server: RedisServer, sent: Sent) -> SelfWatch:
    env = {"HERALD_REDIS_URL": server.url}
    env |= {f"HERALD_WEBHOOK_{c}": WEBHOOK.format(c) for c in ("CRITICAL_ALERTS", "SYSTEM_STATUS")}
    return SelfWatch(server.client(), load(env=env), sent)


def test_no_dispatcher_pages_on_the_second_read_and_recovers_when_it_is_back(server):
    sent, client = Sent(), server.client()
    envelope = wrap(sample("trade_executed"), source="t", now_ns=time.time_ns())
    client.xadd(keyspace.stream("normal"), {keyspace.PAYLOAD_FIELD: encode(envelope)})
    selfwatch = watch(server, sent)
    asyncio.run(selfwatch.check(100.0))
    assert sent.calls == []  # seen once: a deploy restarting the dispatcher is not a page
    asyncio.run(selfwatch.check(130.0))
    ((page, channels),) = sent.calls
    assert isinstance(page, ServiceDown)
    assert page.service == "herald no-dispatcher"
    assert channels is None
    client.set(keyspace.dispatcher_heartbeat("d1"), 1, ex=60)
    asyncio.run(selfwatch.check(160.0))
    recovered, _ = sent.calls[-1]
    assert isinstance(recovered, ServiceRecovered)
    assert recovered.down_for.total_seconds() == 30.0


def test_the_dlq_pages_when_it_grows_not_for_what_was_there(server):
    sent, queue = Sent(), DeadLetterQueue(server.client())
    queue.add([dlq.dead_letter(b"old", "known")])
    selfwatch = watch(server, sent)
    for now in (1.0, 2.0, 3.0):
        asyncio.run(selfwatch.check(now))
    assert sent.calls == []
    queue.add([dlq.dead_letter(b"new", "fresh trouble")])
    asyncio.run(selfwatch.check(4.0))
    queue.add([dlq.dead_letter(b"newer", "more trouble")])
    asyncio.run(selfwatch.check(5.0))
    ((page, _),) = sent.calls
    assert page.service == "herald dlq"
    assert "1 new dead letters (3 in all)" in page.impact


def test_a_dead_critical_webhook_is_reported_through_system_status(server):
    sent, client = Sent(), server.client()
    client.hset(keyspace.channel_state(CRITICAL_ALERTS), keyspace.STATE_DEAD, "404 Unknown Webhook")
    selfwatch = watch(server, sent)
    asyncio.run(selfwatch.check(1.0))
    asyncio.run(selfwatch.check(2.0))
    pages = [(e, ch) for e, ch in sent.calls if isinstance(e, ServiceDown)]
    assert [(e.service, ch) for e, ch in pages] == [
        ("discord webhook #critical-alerts", (SYSTEM_STATUS,))
    ]
