"""The first thing a new user does after `herald up`: publish, from the same folder,
with nothing configured — by the CLI and by `Publisher()` with no URL.

`herald up` takes port 6379 when it is free; when it is not, it records the port it
took in its state dir, and every command and `Publisher()` run from that folder reads
it. Both cases are run: port 6379 held by a stand-in listener, and (when this machine
has it free) port 6379 itself.
"""

import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ground.proc import free_port, port_is_free, wait_until

pytestmark = pytest.mark.usefixtures("port_6379")  # herald up takes 6379 when free

HERALD = str(Path(sys.executable).with_name("herald"))
PUBLISH = [
    HERALD, "publish", "trade-executed", "--pair", "XRP/USD", "--side", "BUY",
    "--amount", "1500", "--price", "0.5234", "--pnl", "12.5", "--latency-ms", "1.2",
    "--strategy", "momentum",
]  # fmt: skip
PUBLISHER = textwrap.dedent("""
    from decimal import Decimal
    from producer import Publisher
    from schemas import Side, TradeExecuted

    with Publisher(source="new-user") as pub:
        pub.publish(TradeExecuted(pair="XRP/EUR", side=Side.SELL, amount=Decimal(700),
                                  price=Decimal("0.48"), pnl=Decimal(-3), latency_ms=2.0,
                                  strategy="from-python"))
        assert pub.flush(10), "not flushed to Redis"
        print(pub.redis_url)
""")


def bare_env() -> dict[str, str]:
    """The environment of a fresh shell: no HERALD_* setting at all."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}


@contextmanager
def herald_up(folder: Path, sandbox_port: int) -> Iterator[subprocess.Popen[bytes]]:
    log = (folder / "up.log").open("wb")
    proc = subprocess.Popen(
        [HERALD, "up", "--no-live", "--workers", "2", "--sandbox-port", str(sandbox_port)],
        env=bare_env(), cwd=folder, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until((folder / ".herald" / "redis.url").exists, 60, "herald up's Redis")
        wait_until(lambda: "engine" in (folder / "up.log").read_text(), 60, "the engine")
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def trades_seen(sandbox_port: int) -> set[str]:
    reply = httpx.get(
        f"http://127.0.0.1:{sandbox_port}/api/messages",
        params={"channel": "trading-alerts"},
        timeout=5,
    )
    return {
        field["value"]
        for message in reply.json()
        for embed in message.get("embeds", [])
        for field in embed.get("fields", [])
        if field["name"] == "Strategy"
    }


def publish_both_ways(folder: Path, sandbox_port: int) -> str:
    """Publish with the CLI and with Publisher(); both must reach the sandbox."""
    cli = subprocess.run(PUBLISH, env=bare_env(), cwd=folder, capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    python = subprocess.run(
        [sys.executable, "-c", PUBLISHER], env=bare_env(), cwd=folder,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert python.returncode == 0, python.stderr
    wait_until(
        lambda: {"momentum", "from-python"} <= trades_seen(sandbox_port),
        60,
        "both trades in #trading-alerts",
        interval=0.2,
    )
    return python.stdout.strip()


def test_with_6379_taken_commands_and_publisher_find_the_recorded_redis(tmp_path):
    blocker = socket.socket()
    try:
        blocker.bind(("127.0.0.1", 6379))
        blocker.listen()
    except OSError:
        blocker.close()
        blocker = None  # something real holds 6379: just as taken
    try:
        sandbox_port = free_port()
        with herald_up(tmp_path, sandbox_port):
            said = (tmp_path / "up.log").read_text()
            assert "port 6379 is taken" in said, said
            recorded = (tmp_path / ".herald" / "redis.url").read_text().split()[0]
            assert not recorded.endswith(":6379/0")
            assert publish_both_ways(tmp_path, sandbox_port) == recorded
            status = subprocess.run(
                [HERALD, "status", "--json"], env=bare_env(), cwd=tmp_path,
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            assert status.returncode in (0, 1), status.stderr
    finally:
        if blocker is not None:
            blocker.close()


def test_herald_up_takes_6379_so_the_readme_example_works_anywhere(tmp_path):
    if not port_is_free(6379):
        pytest.skip("port 6379 is in use on this machine; the other test covers this case")
    sandbox_port = free_port()
    with herald_up(tmp_path, sandbox_port):
        assert "embedded on redis://127.0.0.1:6379/0" in (tmp_path / "up.log").read_text()
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()  # no .herald here: the default URL must be the one herald up took
        assert publish_both_ways(elsewhere, sandbox_port) == "redis://127.0.0.1:6379/0"
    assert port_is_free(6379)  # and gives it back


def test_a_stale_record_from_a_killed_herald_up_is_ignored(tmp_path, monkeypatch):
    from ground.settings import DEFAULT_REDIS_URL, redis_location

    state = tmp_path / ".herald"
    state.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (state / "redis.url").write_text(f"redis://127.0.0.1:1234/0\n{dead.pid}\n")
    monkeypatch.chdir(tmp_path)
    assert redis_location(env={}).url == DEFAULT_REDIS_URL
    (state / "redis.url").write_text(f"redis://127.0.0.1:1234/0\n{os.getpid()}\n")
    assert redis_location(env={}).url == "redis://127.0.0.1:1234/0"
    assert redis_location(env={"HERALD_STATE_DIR": str(tmp_path / "x")}).url == DEFAULT_REDIS_URL
