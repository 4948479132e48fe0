"""Shared fixtures: a real redis-server per test (free port, temp dir, AOF on)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.redis_server import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()
