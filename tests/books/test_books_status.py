"""`herald status` shows how far the books are behind (read by the engine's status from
the books' consumer group, no import of the books), and `herald books --metrics-port`
serves the same lag to Prometheus."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from books.metrics import BooksCollector
from books.service import Books
from books.settings import DEFAULT
from ground.proc import free_port, wait_until
from herald.redis_server import RedisServer
from tests.books.helpers import drain, publish, trade, utc
from worker.config import load
from worker.status import collect
from worker.status_view import render

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

HERALD = str(Path(sys.executable).with_name("herald"))


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}


def shown(status: object) -> str:
    console = Console(width=120, record=True)
    console.print(render(status))  # type: ignore[arg-type]
    return console.export_text()


def test_status_shows_the_books_lag_and_then_caught_up(redis_server: RedisServer) -> None:
    client = redis_server.client()
    settings = load(env={"HERALD_REDIS_URL": redis_server.url})
    publish(client, [trade(utc(2026, 11, 2, 9), "1")])
    assert collect(client, settings).books is None, "no books ever ran: no line"
    assert "Books:" not in shown(collect(client, settings))
    Books(client, DEFAULT).ensure_groups()  # started, nothing counted yet
    publish(client, [trade(utc(2026, 11, 2, 10), "2"), trade(utc(2026, 11, 2, 11), "3")])
    behind = collect(client, settings).books
    assert behind is not None
    assert (behind.unread, behind.pending) == (3, 0)
    assert behind.behind_s >= 0
    assert "Books: 3 unread, 0 pending" in shown(collect(client, settings))
    drain(client)
    caught_up = collect(client, settings).books
    assert caught_up is not None
    assert (caught_up.unread, caught_up.pending, caught_up.behind_s) == (0, 0, 0.0)
    assert "Books: caught up" in shown(collect(client, settings))
    done = subprocess.run(
        [HERALD, "status", "--json", "--redis-url", redis_server.url],
        env=clean_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert json.loads(done.stdout)["books"] == {"unread": 0, "pending": 0, "behind_s": 0.0}


def test_the_books_metrics_give_the_lag(redis_server: RedisServer) -> None:
    client = redis_server.client()
    books = Books(client, DEFAULT, name="m")
    books.ensure_groups()
    publish(client, [trade(utc(2026, 11, 2, 9), "1")])
    metrics = {m.name: m.samples[0].value for m in BooksCollector(books).collect()}
    assert metrics["herald_books_unread"] == 1
    assert metrics["herald_books_lag_seconds"] >= 0
    books.step(block=False)
    metrics = {m.name: m.samples[0].value for m in BooksCollector(books).collect()}
    assert metrics["herald_books_unread"] == 0
    assert metrics["herald_books_lag_seconds"] == 0
    assert metrics["herald_books_counted"] == 1


def test_herald_books_serves_its_metrics(redis_server: RedisServer, tmp_path: Path) -> None:
    port = free_port()
    env = {**clean_env(), "HERALD_REDIS_URL": redis_server.url, "HERALD_METRICS_ADDR": "127.0.0.1"}
    log = open(tmp_path / "books.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [HERALD, "books", "--name", "mp", "--metrics-port", str(port)],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:

        def scraped() -> str:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                return ""

        wait_until(lambda: "herald_books_lag_seconds 0.0" in scraped(), 30, "the metrics")
        assert "herald_books_unread 0.0" in scraped()
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    assert proc.returncode == 0, (tmp_path / "books.log").read_text()
