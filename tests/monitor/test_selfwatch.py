"""Herald watches itself: no dispatcher, a growing DLQ and a dead #critical-alerts
webhook page (the last through #system-status), confirmed before they page."""

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground import keyspace
from ground.channels import CRITICAL_ALERTS, SYSTEM_STATUS
from herald.redis_server import RedisServer
from monitor.selfwatch import SelfWatch
from schemas import ServiceDown, ServiceRecovered
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

    def __call__(self, event: object, channels: tuple[str, ...] | None = None) -> str:
        self.calls.append((event, channels))
        return "id"

    def about(self, service: str) -> list[tuple[object, tuple[str, ...] | None]]:
        return [(e, ch) for e, ch in self.calls if getattr(e, "service", None) == service]


def watch(server: RedisServer, sent: Sent, direct: Sent | None = None) -> SelfWatch:
    env = {"HERALD_REDIS_URL": server.url}
    env |= {f"HERALD_WEBHOOK_{c}": WEBHOOK.format(c) for c in ("CRITICAL_ALERTS", "SYSTEM_STATUS")}
    return SelfWatch(server.client(), load(env=env), sent, direct)


def test_no_dispatcher_pages_once_confirmed_and_a_new_leader_sends_the_recovery(server):
    sent, client = Sent(), server.client()
    selfwatch = watch(server, sent)
    asyncio.run(selfwatch.check(100.0))
    asyncio.run(selfwatch.check(110.0))
    assert sent.calls == []  # two reads, but 10 s: a deploy restarting things is not a page
    asyncio.run(selfwatch.check(130.0))
    ((page, channels),) = sent.about("herald no-dispatcher")
    assert isinstance(page, ServiceDown)
    assert channels is None
    client.set(keyspace.dispatcher_heartbeat("d1"), 1, ex=60)
    successor = watch(server, sent)  # the leader changed: what was paged is in Redis
    asyncio.run(successor.check(160.0))
    recovered, _ = sent.about("herald no-dispatcher")[-1]
    assert isinstance(recovered, ServiceRecovered)
    assert recovered.down_for.total_seconds() == 60.0
    assert len(sent.about("herald no-worker")) == 1  # still no worker: paged once, not again


def test_pages_about_the_engine_itself_go_around_it(server):
    sent, direct = Sent(), Sent()
    selfwatch = watch(server, sent, direct)
    for now in (1.0, 30.0):
        asyncio.run(selfwatch.check(now))
    assert {e.service for e, _ in direct.calls} == {"herald no-dispatcher", "herald no-worker"}
    assert sent.calls == []


def test_a_dlq_burst_pages_at_once_and_only_growth_past_it_pages_again(server):
    sent, queue = Sent(), DeadLetterQueue(server.client())
    queue.add([dlq.dead_letter(b"old", "known")])
    selfwatch = watch(server, sent)
    for now in (1.0, 2.0):
        asyncio.run(selfwatch.check(now))
    assert sent.about("herald dlq") == []  # what was there before is known
    queue.add([dlq.dead_letter(b"a", "burst"), dlq.dead_letter(b"b", "burst")])
    for now in (3.0, 4.0, 5.0):
        asyncio.run(selfwatch.check(now))
    queue.add([dlq.dead_letter(b"c", "more")])
    asyncio.run(selfwatch.check(6.0))
    impacts = [e.impact for e, _ in sent.about("herald dlq")]
    assert [i.split(".")[0] for i in impacts] == [
        "2 new dead letters (3 in all)",
        "1 new dead letters (4 in all)",
    ]


def test_a_dead_critical_webhook_is_reported_through_system_status(server):
    sent, client = Sent(), server.client()
    client.hset(keyspace.channel_state(CRITICAL_ALERTS), keyspace.STATE_DEAD, "404 Unknown Webhook")
    selfwatch = watch(server, sent)
    asyncio.run(selfwatch.check(1.0))
    asyncio.run(selfwatch.check(31.0))
    pages = sent.about(f"herald webhook-dead:{CRITICAL_ALERTS}")
    assert [(type(e), ch) for e, ch in pages] == [(ServiceDown, (SYSTEM_STATUS,))]
