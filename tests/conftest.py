"""Shared fixtures: a real redis-server per test (free port, temp dir, AOF on), and a lock
for the tests that need port 6379."""

import fcntl
import tempfile
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


@pytest.fixture
def port_6379() -> Iterator[None]:
    """For a test that runs `herald up`, which takes 127.0.0.1:6379 when it is free (or
    needs 6379 free or held by itself): one such test at a time on this machine, across
    the pytest processes of the test command (pytest-xdist) and across runs."""
    with (Path(tempfile.gettempdir()) / "herald-tests-port-6379.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield
