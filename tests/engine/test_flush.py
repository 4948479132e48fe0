"""The flush job against real Redis and a scripted Discord (httpx.MockTransport).

Each test queues events through the real dispatcher, then runs `Flush` in-process, so
every outcome branch is driven deterministically: 429, 5xx, dropped connections, a bad
embed in a batch, a deleted webhook, a wrong token, giving up.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis

from ground import keyspace
from ground.channels import webhook_env
from herald.redis_server import RedisServer
from producer import Publisher
from tests.discord_schema import assert_valid_payload
from tests.engine.test_delivery import trade
from worker.config import Settings, load
from worker.discord import DiscordClient
from worker.dispatcher import Dispatcher
from worker.dlq import DeadLetterQueue
from worker.engine import Engine
from worker.flush import Flush

TOKEN = "FAKE-TOKEN-abcdefghijklmnopqrstuvwxyz0123456789"
URLS = {
    "trading-alerts": f"https://discord.test/api/webhooks/111/{TOKEN}",
    "critical-alerts": f"https://discord.test/api/webhooks/222/{TOKEN}",
}
OK_HEADERS = {
    "X-RateLimit-Limit": "5",
    "X-RateLimit-Remaining": "4",
    "X-RateLimit-Reset-After": "0.4",
}


@dataclass
class FakeDiscord:
    """Answers from a script (one function per request, then 200s) and records bodies."""

    script: list[Callable[[dict[str, Any]], httpx.Response]] = field(default_factory=list)
    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert_valid_payload(body)
        self.bodies.append((request.url.path.split("/")[3], body))
        if self.script:
            return self.script.pop(0)(body)
        return httpx.Response(200, json={"id": str(len(self.bodies))}, headers=OK_HEADERS)

    def ids(self, webhook: str = "111") -> list[str]:
        return [
            e["footer"]["text"].rsplit(" · ", 1)[-1]
            for hook, body in self.bodies
            for e in body["embeds"]
            if hook == webhook
        ]


@dataclass
class Rig:
    redis: redis.Redis
    settings: Settings
    discord: FakeDiscord
    engine: Engine
    server: RedisServer

    def publish(self, events: list[Any]) -> list[str]:
        with Publisher(
            self.server.url, source="test", spool_path=self.server.data_dir / "p.spool"
        ) as pub:
            ids = [pub.publish(e) for e in events]
            assert pub.flush(10)
        dispatcher = Dispatcher(self.redis, self.settings)
        dispatcher.ensure_groups()
        while dispatcher.step(block=False):
            pass
        return ids

    def flush(self, channel: str = "trading-alerts") -> str:
        return Flush(self.engine, channel).run()

    def state(self, channel: str = "trading-alerts") -> dict[bytes, bytes]:
        return self.redis.hgetall(keyspace.channel_state(channel))

    def dlq(self) -> DeadLetterQueue:
        return DeadLetterQueue(self.redis)


@pytest.fixture
def rig(redis_server: RedisServer) -> Rig:
    env = {"HERALD_REDIS_URL": redis_server.url}
    env.update({webhook_env(c): u for c, u in URLS.items()})
    settings = load(env=env)
    client = redis_server.client()
    discord = FakeDiscord()
    engine = Engine.create(client, settings, DiscordClient(transport=httpx.MockTransport(discord)))
    return Rig(client, settings, discord, engine, redis_server)


def status(code: int, body: dict[str, Any], headers: dict[str, str] | None = None):
    return lambda _body: httpx.Response(code, json=body, headers=headers or {})


def test_coalesces_into_messages_of_ten_in_order(rig):
    ids = rig.publish([trade(i) for i in range(25)])
    assert rig.flush() == "empty"
    assert [len(b["embeds"]) for _, b in rig.discord.bodies] == [10, 10, 5]
    assert rig.discord.ids() == ids
    assert rig.redis.llen(keyspace.outbox("trading-alerts")) == 0
    assert int(rig.redis.hget(keyspace.STATS, "delivered")) == 25


def test_429_is_waited_out_without_using_an_attempt(rig):
    ids = rig.publish([trade(i) for i in range(3)])
    rig.discord.script = [
        status(429, {"message": "You are being rate limited.", "retry_after": 0.3, "global": False},
               {"Via": "1.1 google", "X-RateLimit-Scope": "user", "Retry-After": "1"}),
    ]  # fmt: skip
    started = time.monotonic()
    assert rig.flush() == "empty"
    assert time.monotonic() - started >= 0.3  # honoured retry_after (body wins over header)
    assert rig.discord.ids() == ids + ids  # the same batch again after the wait
    assert len(rig.discord.bodies) == 2
    assert b"attempts" not in rig.state()
    assert rig.redis.hget(keyspace.STATS, "429:user") == b"1"


def test_cloudflare_429_pauses_every_webhook(rig):
    rig.publish([trade(1)])
    rig.discord.script = [status(429, {"message": "blocked", "retry_after": 5})]  # no Via header
    assert rig.flush() == "throttled"
    assert rig.engine.budget.reserve("webhook:222") > 30  # another webhook waits too
    assert rig.redis.hget(keyspace.STATS, "429:cloudflare") == b"1"


@pytest.mark.parametrize(
    "failure",
    [
        status(500, {"message": "oops"}),
        status(502, {"message": "bad gateway"}),
        lambda _b: (_ for _ in ()).throw(httpx.RemoteProtocolError("Server disconnected")),
        lambda _b: (_ for _ in ()).throw(httpx.ReadTimeout("timed out")),
    ],
    ids=["500", "502", "dropped-connection", "timeout"],
)
def test_transient_failures_back_off_in_redis_then_deliver(rig, failure):
    ids = rig.publish([trade(i) for i in range(3)])
    rig.discord.script = [failure, failure]
    assert rig.flush() == "retry"
    state = rig.state()
    assert state[b"attempts"] == b"1"
    first_wait = float(state[b"retry_at"]) - time.time()
    assert 0.5 < first_wait <= 1.2  # 1 s +-20% jitter; the schedule lives in Redis
    assert rig.flush() == "backoff"  # too early: nothing sent
    assert len(rig.discord.bodies) == 1
    rig.redis.hset(keyspace.channel_state("trading-alerts"), "retry_at", 0)
    assert rig.flush() == "retry"
    assert 1.5 < float(rig.state()[b"retry_at"]) - time.time() <= 2.4  # then 2 s
    rig.redis.hset(keyspace.channel_state("trading-alerts"), "retry_at", 0)
    assert rig.flush() == "empty"
    assert rig.discord.ids()[-3:] == ids
    assert b"attempts" not in rig.state()
    assert len(rig.dlq()) == 0


def test_a_rejected_embed_is_dead_lettered_and_the_rest_delivered(rig):
    ids = rig.publish([trade(i) for i in range(10)])
    error = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {"embeds": {"3": {"fields": {"0": {"value": {"_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 1024 or fewer in length."}
        ]}}}}}},
    }  # fmt: skip
    rig.discord.script = [status(400, error)]
    assert rig.flush() == "empty"
    delivered = rig.discord.ids()[10:]
    assert delivered == ids[:3] + ids[4:]
    [entry] = rig.dlq().entries()
    assert entry.event_id == ids[3]
    assert entry.http_status == 400
    assert entry.discord_code == 50035
    assert "embeds.3.fields.0.value" in entry.reason
    assert entry.channel == "trading-alerts"


def test_a_400_without_a_path_isolates_the_culprit(rig):
    ids = rig.publish([trade(i) for i in range(4)])
    bad = {"code": 50035, "message": "Invalid Form Body", "errors": {}}

    def reject_trade_2(body):
        footers = [e["footer"]["text"] for e in body["embeds"]]
        if any(ids[2] in f for f in footers):
            return httpx.Response(400, json=bad)
        return httpx.Response(200, json={"id": "1"}, headers=OK_HEADERS)

    rig.discord.script = [reject_trade_2] * 8
    assert rig.flush() == "empty"
    [entry] = rig.dlq().entries()
    assert entry.event_id == ids[2]
    accepted = [
        e["footer"]["text"].rsplit(" · ", 1)[-1]
        for (_, body), fn in zip(rig.discord.bodies, [reject_trade_2] * 8, strict=False)
        if fn(body).status_code == 200
        for e in body["embeds"]
    ]
    assert accepted == [ids[0], ids[1], ids[3]]


@pytest.mark.parametrize(
    ("code", "body"),
    [
        (404, {"code": 10015, "message": "Unknown Webhook"}),
        (401, {"code": 50027, "message": "Invalid Webhook Token"}),
    ],
    ids=["deleted", "wrong-token"],
)
def test_a_gone_webhook_stops_sending_dead_letters_and_pages(rig, code, body):
    ids = rig.publish([trade(i) for i in range(15)])
    rig.discord.script = [status(code, body)]
    assert rig.flush() == "dead"
    assert len(rig.discord.bodies) == 1
    assert b"dead" in rig.state()
    entries = sorted(rig.dlq().entries(), key=lambda e: ids.index(e.event_id))
    assert [e.event_id for e in entries] == ids
    assert all(e.http_status == code and e.discord_code == body["code"] for e in entries)
    assert all(TOKEN not in e.reason for e in entries)
    # More events for the dead channel: no request, straight to the DLQ.
    rig.publish([trade(99)])
    rig.flush()
    assert len(rig.discord.bodies) == 1
    assert len(rig.dlq()) == 16
    # #critical-alerts hears about it.
    assert rig.flush("critical-alerts") == "empty"
    [(hook, alert)] = rig.discord.bodies[1:]
    assert hook == "222"
    assert "trading-alerts" in json.dumps(alert)
    assert "herald dlq replay --channel trading-alerts" in json.dumps(alert)
    # The operator fixes the webhook and replays: everything goes out in order.
    replayed = rig.dlq().replay(list(rig.dlq().entries()))
    assert replayed == 16
    assert rig.flush() == "empty"
    assert rig.discord.ids()[-16:] == [*ids, rig.discord.ids()[-1]]


def test_gives_up_after_max_attempts(rig):
    ids = rig.publish([trade(1)])
    for attempt in range(rig.settings.max_attempts):
        rig.discord.script = [status(503, {"message": "unavailable"})]
        rig.redis.hset(keyspace.channel_state("trading-alerts"), "retry_at", 0)
        result = rig.flush()
        if attempt < rig.settings.max_attempts - 1:
            assert result == "retry"
    [entry] = rig.dlq().entries()
    assert entry.event_id == ids[0]
    assert entry.attempts == rig.settings.max_attempts
    assert "gave up after 12 attempts" in entry.reason
    assert rig.redis.llen(keyspace.outbox("trading-alerts")) == 0


def test_channel_without_webhook_keeps_its_events(rig):
    from schemas import BuildSuccess

    rig.publish(
        [
            BuildSuccess(
                repository="o/r", commit="abcdef1", duration=__import__("datetime").timedelta(1)
            )
        ]
    )
    assert rig.flush("system-status") == "no-webhook"
    assert rig.redis.llen(keyspace.outbox("system-status")) == 1
