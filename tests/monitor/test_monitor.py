"""The monitor against a real redis-server and real targets: leadership and the summary
slots, one page for many failures, heartbeats, maintenance, and a Redis restart."""

import asyncio
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from ground import keyspace
from ground.proc import free_port
from herald.redis_server import RedisServer
from monitor.host import HostStats
from monitor.service import Monitor
from monitor.settings import monitor_settings
from schemas import (
    HealthSummary,
    MaintenanceScheduled,
    ServiceDown,
    ServiceRecovered,
    SystemHealthy,
)
from schemas.codec import encode
from schemas.envelope import wrap
from worker.config import load
from worker.dispatcher import Dispatcher

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class Host:
    def read(self) -> HostStats:
        return HostStats(memory_pct=40.0, cpu_pct=12.5, network="↓1.0 kB/s ↑1.0 kB/s")


class Sent:
    """A stand-in Publisher.publish that keeps what the monitor said."""

    def __init__(self) -> None:
        self.events: list[object] = []

    def __call__(self, event: object, **_how: object) -> str:
        self.events.append(event)
        return "id"

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    srv = RedisServer(tmp_path / "redis")
    srv.start()
    yield srv
    srv.stop()


def monitor(server, sent, *, clock=None, holder="m1", lease_s=10.0, **config) -> Monitor:
    settings = monitor_settings({"self_watch": False, **config})
    engine = load(env={"HERALD_REDIS_URL": server.url})
    client = Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)
    return Monitor(
        settings, engine, sent, client=client, host=Host(), clock=clock, holder=holder,
        lease_s=lease_s,
    )  # fmt: skip


async def until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_two_monitors_send_exactly_one_summary_per_slot_across_handover_and_restart(server):
    """a leads for slots 0-2 and dies; b takes over (slot 3 on time) and dies just after
    sending slot 6; c starts within slot 6, must not send it again, and sends slot 7."""
    every = 300.0
    base = (time.time() // every + 1) * every
    clock = Clock(base)
    sent = {name: Sent() for name in ("a", "b", "c")}

    async def lapse() -> None:
        leader = server.client()
        await until(lambda: not leader.exists(keyspace.MONITOR_LEADER), 5, "the lease to lapse")

    async def scenario() -> None:
        a, b, c = (
            monitor(server, sent[n], clock=clock, holder=n, lease_s=0.4, summary_every="5m")
            for n in ("a", "b", "c")
        )
        alive = [a, b]
        per_slot = []
        for slot in range(8):
            start, before = base + slot * every, _summaries(sent)
            if slot == 3:
                alive.remove(a)
                await lapse()
            for offset in (1, 100, 299):
                clock.now = start + offset
                for m in alive:
                    await m.step()
                if slot == 6 and offset == 1:
                    alive = [c]
                    await lapse()
            per_slot.append(_summaries(sent) - before)
        assert per_slot == [1] * 8
        for m in (a, b, c):
            await m.client.aclose()

    asyncio.run(scenario())
    assert [len(sent[n].of(HealthSummary)) for n in "abc"] == [3, 4, 1]
    first = sent["a"].of(HealthSummary)[0]
    assert (first.services_total, first.memory_pct, first.cpu_pct) == (0, 40.0, 12.5)


def _summaries(sent: dict[str, Sent]) -> int:
    return sum(len(s.of(HealthSummary)) for s in sent.values())


async def tcp_target(port: int) -> asyncio.Server:
    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", port)


def fast_checks(*names_ports, **extra):
    return [
        {"name": name, "kind": "tcp", "host": "127.0.0.1", "port": port, "interval": "0.2s",
         "timeout": "0.5s", "failure_threshold": 2, "success_threshold": 2, "server": "box-1",
         **extra}
        for name, port in names_ports
    ]  # fmt: skip


def state_of(server: RedisServer, check: str) -> str:
    raw = server.client().hget(keyspace.MONITOR_CHECKS, check)
    return "" if raw is None else raw.decode().split('"state":"')[1].split('"')[0]


def test_many_checks_failing_together_page_once_then_recover(server):
    ports = [free_port() for _ in range(3)]
    names = [("trade-server", ports[0]), ("order-gateway", ports[1]), ("market-feed", ports[2])]
    sent = Sent()

    async def scenario() -> None:
        targets = [await tcp_target(p) for p in ports]
        m = monitor(server, sent, checks=fast_checks(*names), group_within="0.5s")
        stop = asyncio.Event()
        task = asyncio.create_task(m.run(stop))
        await until(lambda: all(state_of(server, n) == "up" for n, _ in names), 10, "all up")
        for target in targets:
            target.close()
            await target.wait_closed()
        await until(lambda: sent.of(ServiceDown), 10, "the page")
        await until(lambda: all(state_of(server, n) == "down" for n, _ in names), 5, "down")
        targets = [await tcp_target(p) for p in ports]
        await until(lambda: sent.of(SystemHealthy), 10, "everything healthy again")
        stop.set()
        await task
        for target in targets:
            target.close()

    asyncio.run(scenario())
    (page,) = sent.of(ServiceDown)
    assert page.service.startswith("3 services: ")
    assert all(n in page.service for n, _ in names)
    assert page.server == "box-1"
    assert sorted(r.service for r in sent.of(ServiceRecovered)) == sorted(n for n, _ in names)


def test_a_heartbeat_that_stops_pages_and_one_that_resumes_recovers(server):
    sent = Sent()
    beat = server.client()

    def heartbeat() -> None:
        beat.set(keyspace.heartbeat("pricer"), int(time.time() * 1000))

    async def scenario() -> None:
        spec = {"name": "pricer", "kind": "heartbeat", "interval": "0.3s",
                "failure_threshold": 2, "success_threshold": 1}  # fmt: skip
        m = monitor(server, sent, checks=[spec])
        stop = asyncio.Event()
        heartbeat()
        task = asyncio.create_task(m.run(stop))
        await until(lambda: state_of(server, "pricer") == "up", 5, "the first heartbeat")
        await until(lambda: sent.of(ServiceDown), 5, "the page for a silent component")
        heartbeat()
        await until(lambda: sent.of(ServiceRecovered), 5, "the recovery")
        stop.set()
        await task

    asyncio.run(scenario())
    assert [e.service for e in sent.of(ServiceDown)] == ["pricer"]
    state = {"check": "pricer", "state": "up"}
    assert REGISTRY.get_sample_value("herald_check_state", state) == 1.0  # the Prometheus view
    assert REGISTRY.get_sample_value("herald_check_state", state | {"state": "down"}) == 0.0


def test_failing_inside_a_window_does_not_page_until_it_closes(server):
    sent = Sent()
    port = free_port()  # nothing listens: the check fails from the start
    now = datetime.now(UTC)

    async def scenario() -> None:
        window = {"start": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S"),
                  "duration": "1m5s", "checks": ["db"]}  # fmt: skip
        m = monitor(server, sent, checks=fast_checks(("db", port)), maintenance=[window])
        stop = asyncio.Event()
        task = asyncio.create_task(m.run(stop))
        await until(lambda: state_of(server, "db") == "maintenance", 5, "maintenance")
        assert not sent.of(ServiceDown)
        uptime_of_db = keyspace.monitor_uptime("db")
        assert server.client().hlen(uptime_of_db) == 0  # planned downtime is not downtime
        await until(lambda: sent.of(ServiceDown), 15, "the page once the window closes")
        assert server.client().hlen(uptime_of_db) > 0
        stop.set()
        await task

    asyncio.run(scenario())


def test_an_announced_window_covers_the_service_it_names(server):
    sent = Sent()
    port = free_port()
    announcement = MaintenanceScheduled(
        service="ledger-db", starts_at=datetime.now(UTC) - timedelta(seconds=5),
        duration=timedelta(minutes=10), description="vacuum",
    )  # fmt: skip

    async def scenario() -> None:
        envelope = wrap(announcement, source="ops", now_ns=time.time_ns())
        client = server.client()
        client.xadd(keyspace.stream("normal"), {keyspace.PAYLOAD_FIELD: encode(envelope)})
        dispatcher = Dispatcher(client, load(env={"HERALD_REDIS_URL": server.url}))
        dispatcher.ensure_groups()
        assert dispatcher.step(block=False) == 1  # routing it records the window
        m = monitor(server, sent, checks=fast_checks(("ledger-db", port)))
        stop = asyncio.Event()
        task = asyncio.create_task(m.run(stop))
        await until(lambda: state_of(server, "ledger-db") == "maintenance", 5, "maintenance")
        stop.set()
        await task

    asyncio.run(scenario())
    assert not sent.of(ServiceDown)


def test_a_redis_restart_mid_run_neither_stops_the_checks_nor_loses_the_page(server):
    sent = Sent()
    port = free_port()

    async def scenario() -> None:
        target = await tcp_target(port)
        m = monitor(server, sent, checks=fast_checks(("api", port)))
        stop = asyncio.Event()
        task = asyncio.create_task(m.run(stop))
        await until(lambda: state_of(server, "api") == "up", 5, "up")
        server.stop()
        target.close()  # the target dies while Redis is away
        await target.wait_closed()
        await until(lambda: sent.of(ServiceDown), 10, "the page, Redis or not")
        server.start()
        await until(lambda: _state_or_none(server) == "down", 10, "state written again")
        stop.set()
        await task

    asyncio.run(scenario())
    assert [e.service for e in sent.of(ServiceDown)] == ["api"]


def _state_or_none(server: RedisServer) -> str | None:
    try:
        return state_of(server, "api")
    except redis.RedisError:
        return None
