"""A bot for a test: a real redis-server, real Ed25519 signatures, the aiohttp app served
on a loopback port, Discord's follow-up endpoint replaced by a recording transport."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from nacl.signing import SigningKey
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.app import Bot, make_app
from bot.audit import Audit
from bot.settings import BotSettings, bot_settings
from ground.settings import ConfigFile
from herald.redis_server import RedisServer
from schemas.catalog import AnyEvent
from worker.config import load

APP_ID = "111111111111111111"
GUILD = "222222222222222222"
OPERATOR_ROLE = "333333333333333333"
BOT_TOKEN = "bot-token-SECRET-0123456789"
INTERACTION_TOKEN = "interaction-token-SECRET-abcdef"


def make_settings(key: SigningKey, bot: dict[str, Any] | None = None, **extra: Any) -> BotSettings:
    table: dict[str, Any] = {
        "public_key": key.verify_key.encode().hex(),
        "application_id": APP_ID,
        "token": BOT_TOKEN,
        "api_base": "http://discord.test/api/v10",
        "services": ["api", "pricer"],
        "permissions": {"restart": [OPERATOR_ROLE], "deploy": [OPERATOR_ROLE]},
        "actions": {"restart": {"command": ["true", "{service}"], "timeout": "5s"}},
    }
    table.update(bot or {})
    return bot_settings(ConfigFile(bot=table, **extra), env={})


@dataclass
class Harness:
    key: SigningKey
    client: TestClient[Any, Any]
    bot: Bot
    audit: list[AnyEvent]
    edits: list[tuple[str, dict[str, Any]]]
    redis: redis.Redis
    counter: int = 0

    def interaction(
        self,
        kind: int,
        data: dict[str, Any] | None = None,
        *,
        user: str = "444",
        roles: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        self.counter += 1
        body: dict[str, Any] = {
            "id": f"{time.time_ns()}{self.counter}",
            "type": kind,
            "application_id": APP_ID,
            "token": INTERACTION_TOKEN,
            "guild_id": GUILD,
            "member": {"user": {"id": user, "username": f"user{user}"}, "roles": list(roles)},
        }
        if data is not None:
            body["data"] = data
        return body

    def command(self, name: str, options: list[dict[str, Any]] | None = None, **kw: Any) -> Any:
        return self.interaction(2, {"name": name, "type": 1, "options": options or []}, **kw)

    def click(self, custom_id: str, **kw: Any) -> Any:
        return self.interaction(3, {"custom_id": custom_id, "component_type": 2}, **kw)

    def signed(self, body: bytes, ts: float | None = None) -> dict[str, str]:
        stamp = str(int(time.time() if ts is None else ts))
        signature = self.key.sign(stamp.encode() + body).signature.hex()
        return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": stamp}

    async def post(self, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = self.signed(body) if headers is None else headers
        response = await self.client.post("/interactions", data=body, headers=sent)
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text

    async def ask(self, payload: Any) -> Any:
        status, answer = await self.post(payload)
        assert status == 200, answer
        return answer


Scenario = Callable[[Harness], Awaitable[None]]


@dataclass
class Runner:
    server: RedisServer
    key: SigningKey = field(default_factory=SigningKey.generate)

    def run(self, scenario: Scenario, settings: BotSettings | None = None) -> Harness:
        return asyncio.run(self._run(scenario, settings or make_settings(self.key)))

    async def _run(self, scenario: Scenario, settings: BotSettings) -> Harness:
        audit: list[AnyEvent] = []
        edits: list[tuple[str, dict[str, Any]]] = []

        def discord(request: httpx.Request) -> httpx.Response:
            edits.append((str(request.url), json.loads(request.content)))
            return httpx.Response(200, json={"id": "1"})

        engine = load(env={}, redis=self.server.url)
        bot = Bot(
            settings,
            engine,
            aredis=aioredis.Redis.from_url(
                self.server.url, socket_timeout=1, retry=Retry(NoBackoff(), 0)
            ),
            sync=redis.Redis.from_url(self.server.url, socket_timeout=1),
            audit=Audit(audit.append),
            http=httpx.AsyncClient(transport=httpx.MockTransport(discord)),
        )
        client = TestClient(TestServer(make_app(bot)))
        await client.start_server()
        harness = Harness(self.key, client, bot, audit, edits, self.server.client())
        try:
            await scenario(harness)
        finally:
            await client.close()
            await bot.close()
        return harness


async def until(predicate: Callable[[], object], timeout: float = 10) -> None:
    """Wait for a condition, with a deadline (never a bare sleep as synchronisation)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)
