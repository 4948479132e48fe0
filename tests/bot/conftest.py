"""Fixtures: a real redis-server and a `Runner` that serves the bot against it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.redis_server import RedisServer
from tests.bot.harness import Runner


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def runner(redis_server: RedisServer) -> Runner:
    return Runner(redis_server)
