"""Every probe kind against a real target: an HTTP server, a TCP listener, redis-server,
child processes, real commands; each failure a Sample with a clear detail, never past
its timeout."""

import asyncio
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
import redis.asyncio as aioredis

from ground import keyspace
from ground.proc import free_port, wait_until
from herald.redis_server import RedisServer
from monitor.local_probes import NO_SYSTEMCTL
from monitor.probes import HERALD_REDIS_DOWN, Prober, blames_herald, json_at
from monitor.sample import Sample
from monitor.settings import CheckSpec, monitor_settings

NOBODY = f"redis://127.0.0.1:{free_port()}/0"
"""Herald's Redis for tests that never read it (nothing listens there)."""


def spec(kind: str, name: str = "target", **fields: object) -> CheckSpec:
    """Validated as herald.toml's `[monitor]` would be."""
    check = {"name": name, "kind": kind, "timeout": "3s", **fields}
    return monitor_settings({"interval": "30s", "checks": [check]}).checks[0]


def probe_all(
    *checks: CheckSpec, herald: str = NOBODY, now: Callable[[], float] = time.time
) -> list[Sample]:
    async def run() -> list[Sample]:
        client = aioredis.Redis.from_url(herald, socket_timeout=2, socket_connect_timeout=2)
        prober = Prober(client, now=now)
        try:
            return list(await asyncio.gather(*(prober.probe(c) for c in checks)))
        finally:
            await prober.aclose()
            await client.aclose()

    return asyncio.run(run())


def probe(check: CheckSpec, **kw: object) -> Sample:
    return probe_all(check, **kw)[0]  # type: ignore[arg-type]


# -- http ---------------------------------------------------------------------------------

DOC = {"checks": {"db": {"status": "down"}, "cache": {"status": "up"}}, "items": [1, {"v": True}]}


class Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def do_GET(self) -> None:
        if self.path == "/hang":
            self.release.wait(30)  # a hung target, freed when the test ends
        code, body = {
            "/ok": (200, b"all ok"),
            "/down": (503, b"maintenance"),
            "/json": (200, json.dumps(DOC).encode()),
            "/hang": (200, b"late"),
        }.get(self.path, (404, b"no such page"))
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    release = threading.Event()
    handler = type("H", (Handler,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_http_status_decides(web: str) -> None:
    up = probe(spec("http", url=f"{web}/ok"))
    assert (up.ok, up.detail) == (True, "HTTP 200")
    assert up.latency_ms is not None
    assert up.latency_ms > 0
    down = probe(spec("http", url=f"{web}/down"))
    assert (down.ok, down.detail) == (False, "HTTP 503")
    assert probe(spec("http", url=f"{web}/down", expect_status=[200, 503])).ok
    assert probe(spec("http", url=f"{web}/ok", expect_status=204)).detail == "HTTP 200"


def test_http_body_must_contain(web: str) -> None:
    assert probe(spec("http", url=f"{web}/ok", body_contains="ok")).ok
    missing = probe(spec("http", url=f"{web}/ok", body_contains="healthy"))
    assert (missing.ok, missing.detail) == (False, "body lacks 'healthy'")


@pytest.mark.parametrize(
    ("path", "equals", "ok", "detail"),
    [
        ("checks.cache.status", "up", True, "HTTP 200"),
        ("checks.db.status", "up", False, "checks.db.status = 'down', expected 'up'"),
        ("items.1.v", True, True, "HTTP 200"),
        ("items.0", True, False, "items.0 = 1, expected True"),  # JSON true is not 1
        ("checks.queue.status", "up", False, "checks.queue.status: no 'queue' in the body"),
        ("items.7", 1, False, "items.7: no '7' in the body"),
    ],
)
def test_http_json_path(web: str, path: str, equals: object, ok: bool, detail: str) -> None:
    sample = probe(spec("http", url=f"{web}/json", json_path=path, json_equals=equals))
    assert (sample.ok, sample.detail) == (ok, detail)


def test_http_body_that_is_not_json(web: str) -> None:
    sample = probe(spec("http", url=f"{web}/ok", json_path="status", json_equals="up"))
    assert (sample.ok, sample.detail) == (False, "body is not JSON")


def test_json_at_indexes_lists_and_names_the_missing_segment() -> None:
    assert json_at({"a": [{"b": 3}]}, "a.0.b") == 3
    assert json_at([10, 20], "-1") == 20
    with pytest.raises(LookupError, match="x"):
        json_at({"a": {"b": 1}}, "a.x")


def test_a_hung_target_times_out_without_delaying_another_probe(web: str) -> None:
    hung = spec("http", name="hung", url=f"{web}/hang", timeout="1s")
    fast = spec("http", name="fast", url=f"{web}/ok", timeout="1s")

    async def run() -> list[tuple[Sample, float]]:
        client = aioredis.Redis.from_url(NOBODY)
        prober = Prober(client)
        started = time.perf_counter()

        async def finish(check: CheckSpec) -> tuple[Sample, float]:
            sample = await prober.probe(check)
            return sample, time.perf_counter() - started

        try:
            return list(await asyncio.gather(finish(hung), finish(fast)))
        finally:
            await prober.aclose()
            await client.aclose()

    (slow_sample, slow_done), (fast_sample, fast_done) = asyncio.run(run())
    assert (slow_sample.ok, slow_sample.detail) == (False, "timed out after 1s")
    assert slow_sample.latency_ms is None
    assert 1.0 <= slow_done < 2.0  # stopped at its timeout (the handler hangs 30 s)
    assert fast_sample.ok
    assert fast_done < 0.3  # done long before the hung probe gave up


def test_refused_connections_say_so_and_hide_url_secrets() -> None:
    port = free_port()
    http = probe(spec("http", url=f"http://user:hunter2@127.0.0.1:{port}/?token=abc"))
    assert (http.ok, http.detail, http.latency_ms) == (False, "connection refused", None)
    tcp = probe(spec("tcp", host="127.0.0.1", port=port))
    assert (tcp.ok, tcp.detail) == (False, "connection refused")


def test_tcp_connects_to_a_listener() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        sample = probe(spec("tcp", host="127.0.0.1", port=port))
    assert (sample.ok, sample.detail) == (True, f"port {port} open")


# -- redis and heartbeats -----------------------------------------------------------------


def test_redis_ping_refused_and_hung(redis_server: RedisServer) -> None:
    assert probe(spec("redis", redis_url=redis_server.url)).detail == "PONG"
    down = probe(spec("redis", redis_url=f"redis://:hunter2@127.0.0.1:{free_port()}/0"))
    assert (down.ok, down.detail) == (False, "connection refused")
    redis_server.pause()
    try:
        started = time.perf_counter()
        hung = probe(spec("redis", redis_url=redis_server.url, timeout="0.5s"))
        assert time.perf_counter() - started < 2
    finally:
        redis_server.resume()
    assert (hung.ok, hung.detail) == (False, "timed out after 0.5s")


def test_heartbeat_age_decides(redis_server: RedisServer) -> None:
    now = 1_700_000_000.0
    r = redis_server.client()
    r.set(keyspace.heartbeat("fresh"), int((now - 42) * 1000))
    r.set(keyspace.heartbeat("stale"), int((now - 100) * 1000))
    fresh, stale, never = probe_all(
        spec("heartbeat", name="fresh", interval="1m"),
        spec("heartbeat", name="stale", interval="1m"),
        spec("heartbeat", name="never"),
        herald=redis_server.url,
        now=lambda: now,
    )
    assert (fresh.ok, fresh.detail, fresh.latency_ms) == (True, "last heartbeat 42s ago", None)
    assert (stale.ok, stale.detail) == (False, "last heartbeat 1m 40s ago")
    assert (never.ok, never.detail) == (False, "no heartbeat yet")
    assert fresh.at == now


def test_heartbeat_with_herald_redis_down_blames_herald() -> None:
    check = spec("heartbeat", name="feed")
    sample = probe(check, herald=f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    assert not sample.ok
    assert sample.detail == HERALD_REDIS_DOWN + "connection refused"
    assert blames_herald(check, sample)
    assert not blames_herald(spec("tcp", host="h", port=1), sample)


# -- processes ------------------------------------------------------------------------------


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`sleep 60` under a name of its own (a symlink), so no other process matches it."""
    name = f"hs{os.getpid() % 100_000}{threading.get_ident() % 1000}"[:15]
    link = tmp_path / name
    link.symlink_to(shutil.which("sleep") or "/bin/sleep")
    child = subprocess.Popen([str(link), "60"])
    wait_until(lambda: psutil.Process(child.pid).name() == name, 5, "the sleeper to exec")
    try:
        yield child, name
    finally:
        child.kill()
        child.wait()


def test_process_by_pid_file(tmp_path: Path, sleeper: tuple[subprocess.Popen[bytes], str]) -> None:
    child, name = sleeper
    pid_file = tmp_path / "app.pid"
    pid_file.write_text(f"{child.pid}\n")
    by_pid = spec("process", pid_file=str(pid_file))
    assert (probe(by_pid).ok, probe(by_pid).detail) == (True, f"pid {child.pid}")
    assert probe(spec("process", pid_file=str(pid_file), process_name=name)).ok
    reused = probe(spec("process", pid_file=str(pid_file), process_name="nginx"))
    assert (reused.ok, reused.detail) == (
        False,
        f"pid {child.pid} (from {pid_file}) is {name}, not nginx",
    )
    child.kill()
    wait_until(lambda: gone(child.pid), 5, "the sleeper to die")
    zombie = probe(by_pid)  # dead, not yet reaped by its parent (this test)
    assert (zombie.ok, zombie.detail) == (
        False,
        f"pid {child.pid} is a zombie (exited, not reaped)",
    )
    child.wait()
    dead = probe(by_pid)
    assert (dead.ok, dead.detail) == (False, f"pid {child.pid} (from {pid_file}) is not running")


def test_pid_file_missing_or_garbage(tmp_path: Path) -> None:
    missing = probe(spec("process", pid_file=str(tmp_path / "none.pid")))
    assert (missing.ok, missing.detail) == (False, f"no pid file {tmp_path / 'none.pid'}")
    (tmp_path / "bad.pid").write_text("running\n")
    bad = probe(spec("process", pid_file=str(tmp_path / "bad.pid")))
    assert (bad.ok, bad.detail) == (False, f"{tmp_path / 'bad.pid'} holds 'running', not a pid")


def test_process_by_name(sleeper: tuple[subprocess.Popen[bytes], str]) -> None:
    child, name = sleeper
    sample = probe(spec("process", process_name=name))
    assert (sample.ok, sample.detail) == (True, f"pid {child.pid}")
    child.kill()
    child.wait()
    after = probe(spec("process", process_name=name))
    assert (after.ok, after.detail) == (False, f"no process named {name}")


# -- commands and systemd -------------------------------------------------------------------


def test_command_exit_codes() -> None:
    passed = probe(spec("command", argv=["true"]))
    assert (passed.ok, passed.detail) == (True, "exit 0")
    failed = probe(spec("command", argv=["false"]))
    assert (failed.ok, failed.detail) == (False, "exit 1, expected 0")
    assert probe(spec("command", argv="false", expect_exit=1)).ok
    missing = probe(spec("command", argv=["herald-no-such-command", "--now"]))
    assert (missing.ok, missing.detail) == (False, "command not found: herald-no-such-command")


def test_command_detail_is_the_last_line_redacted_and_short() -> None:
    script = "echo starting; echo 'redis://:hunter2@db:6379 refused' >&2; exit 3"
    sample = probe(spec("command", argv=["sh", "-c", script]))
    assert sample.detail == "exit 3, expected 0: redis://:***@db:6379 refused"
    chatty = probe(spec("command", argv=["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"]))
    assert chatty.ok
    assert chatty.detail.startswith("exit 0: xxx")
    assert len(chatty.detail) <= 200


def test_a_hung_command_is_killed_with_its_children(tmp_path: Path) -> None:
    script = f"sleep 30 & echo $! > {tmp_path}/child.pid; echo waiting for the lock; wait"
    started = time.perf_counter()
    sample = probe(spec("command", argv=["sh", "-c", script], timeout="0.5s"))
    assert time.perf_counter() - started < 2.5
    assert (sample.ok, sample.detail) == (False, "killed after 0.5s: waiting for the lock")
    assert sample.latency_ms is None
    grandchild = int((tmp_path / "child.pid").read_text())
    wait_until(lambda: gone(grandchild), 5, "the command's child to be killed too")


def test_a_hung_sleep_is_gone_after_the_kill(tmp_path: Path) -> None:
    own = tmp_path / "hung-sleep"  # a path of its own, to find exactly this process
    own.symlink_to(shutil.which("sleep") or "/bin/sleep")
    sample = probe(spec("command", argv=[str(own), "30"], timeout="0.5s"))
    assert (sample.ok, sample.detail) == (False, "killed after 0.5s")

    def ours_gone() -> bool:
        return not any(
            p.info["cmdline"] and p.info["cmdline"][0] == str(own)
            for p in psutil.process_iter(["cmdline"])
        )

    wait_until(ours_gone, 5, "the killed sleep to disappear")


def test_systemd_without_systemctl_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no systemctl here
    sample = probe(spec("systemd", unit="nginx.service"))
    assert (sample.ok, sample.detail) == (False, NO_SYSTEMCTL)


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="needs systemctl")
def test_systemd_unknown_unit_is_not_ok() -> None:
    sample = probe(spec("systemd", unit="herald-no-such-unit.service"))
    assert not sample.ok
    # With systemd: `... is inactive`; in a container without it, systemctl says why.
    assert sample.detail.startswith(("herald-no-such-unit.service is ", "systemctl: "))
