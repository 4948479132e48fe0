"""Herald engine benchmark: dispatcher throughput, idle end-to-end latency and a burst,
each beside a naive "one RQ job per event" design measured on the same machine.

    .venv/bin/python bench/engine_bench.py                 # full run (~10 min)
    .venv/bin/python bench/engine_bench.py --quick         # smoke run (< 60 s)
    .venv/bin/python bench/engine_bench.py --only throughput --runs 5 --json /tmp/e.json

Everything runs on loopback: its own redis-server (AOF on, `appendfsync everysec`, as
deployed), the sandbox as a separate process (`herald sandbox --port P`, default limits
5/2s per webhook, 30/60s per channel, 50/1s global), and the engine as separate
processes (`herald dispatch`, `herald worker -n 1` x `--workers`), as in
tests/engine/conftest.py. The whole run is bounded by `--max-seconds`: a watchdog stops
every child process and exits 3.

1. Dispatcher throughput: N events (a realistic mix) are XADDed into the three lanes,
   then one in-process `Dispatcher` drains them into the outboxes with the loop
   `herald dispatch` runs (`run(stop, drain=True)`: commits overlap decoding).
   Baselines: a naive dispatcher that reads the same streams and enqueues one RQ job
   per event, (a) with `Queue.enqueue()` per event and (b) with `Queue.enqueue_many()`
   pipelined per batch of 500, then XACKs.
2. Idle end-to-end latency: one event at a time, rotating across the five channels,
   spaced `--spacing` apart; the time from just before `publish()` to the `timestamp` of
   the message the sandbox accepted (matched by the event id in the embed footer).
   Baseline: `Queue.enqueue(post_one, raw)` per event, run by RQ `SimpleWorker`
   processes; the job renders with Herald's renderer and POSTs one embed.
3. Burst: trades and price ticks published within ~2 s, plus service_down alerts
   (distinct servers) interleaved once the flood has started. Requests per event, 429s,
   drain (capped at `--burst-cap` seconds; the drain rate and a projection are reported
   when it does not finish), and critical-alert latency. Baseline: the same events as one
   RQ job each (critical alerts on their own higher-priority RQ queue, so the baseline is
   not handicapped by FIFO), observed for `--baseline-cap` seconds.
"""

import argparse
import contextlib
import json
import logging
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ground import keyspace  # noqa: E402
from ground.channels import webhook_env  # noqa: E402
from ground.keyspace import PAYLOAD_FIELD  # noqa: E402
from ground.proc import free_port, wait_until  # noqa: E402
from herald.redis_server import RedisServer  # noqa: E402
from producer import Publisher  # noqa: E402
from producer.streams import stream_key  # noqa: E402
from schemas import (  # noqa: E402
    BuildSuccess,
    HighLatency,
    MaintenanceScheduled,
    PnlUpdate,
    PriceAlert,
    ServiceDown,
    Side,
    SignalGenerated,
    TradeExecuted,
    Trend,
)
from schemas.catalog import AnyEvent  # noqa: E402
from schemas.codec import encode  # noqa: E402
from schemas.envelope import wrap  # noqa: E402
from schemas.ids import new_event_id  # noqa: E402
from schemas.types import Action  # noqa: E402
from worker.channels import CHANNELS, DEFAULT_ROUTES  # noqa: E402

log = logging.getLogger("engine_bench")

FULL = {
    "events": 200_000,
    "runs": 3,
    "rq_events": 20_000,
    "rq_many_events": 100_000,
    "samples": 120,
    "spacing": 0.5,
    "trades": 2_000,
    "ticks": 10_000,
    "alerts": 20,
    "burst_cap": 300.0,
    "baseline_cap": 60.0,
    "max_seconds": 1_500.0,
}
QUICK = {
    "events": 5_000,
    "runs": 1,
    "rq_events": 1_000,
    "rq_many_events": 2_000,
    "samples": 5,
    "spacing": 0.3,
    "trades": 100,
    "ticks": 500,
    "alerts": 3,
    "burst_cap": 8.0,
    "baseline_cap": 4.0,
    "max_seconds": 85.0,
}
TARGET_EVENTS_PER_S = 50_000
TARGET_P50_MS, TARGET_P99_MS = 15.0, 50.0
NAIVE_QUEUES = ("naive-critical", "naive-default")
NAIVE_BATCH = 500
BURST_SECONDS = 2.0
JOB = "engine_bench.post_one"
"""By name: RQ workers run this file as `engine_bench` (bench/ is their sys.path[0])."""

_children: list[subprocess.Popen[bytes]] = []
_servers: list[RedisServer] = []


# -- events ------------------------------------------------------------------------------


def trade(i: int) -> TradeExecuted:
    return TradeExecuted(
        pair="XRP/USD",
        side=Side.BUY if i % 2 else Side.SELL,
        amount=Decimal(1500 + i % 997),
        price=Decimal("0.523456") + Decimal(i % 1000) / Decimal(1_000_000),
        pnl=Decimal(i % 200 - 100) / Decimal(4),
        latency_ms=1.2 + (i % 50) / 10,
        strategy="momentum-v2",
        executed_at=datetime(2026, 11, 28, 4, 10, 0, tzinfo=UTC) + timedelta(milliseconds=i),
    )


def tick(i: int) -> PriceAlert:
    pair = ("XRP/USD", "BTC/USD", "ETH/USD", "XRP/EUR")[i % 4]
    return PriceAlert(
        pair=pair,
        price=Decimal("0.52") + Decimal(i % 500) / Decimal(10_000),
        previous_price=Decimal("0.51"),
        change_pct=Decimal("1.9"),
        window=timedelta(minutes=1),
        exchange="Bitstamp",
    )


def service_down(server: str, service: str = "market-feed") -> ServiceDown:
    return ServiceDown(
        service=service,
        server=server,
        duration=timedelta(minutes=2, seconds=5),
        impact="no price updates for XRP/USD",
    )


def mixed_event(i: int) -> AnyEvent:
    """The throughput mix: 45% trades, 45% price ticks, 6% folding alerts, 4% other."""
    slot = i % 100
    if slot < 45:
        return trade(i)
    if slot < 90:
        return tick(i)
    if slot < 94:  # 8 services x 4 servers: mostly folded within the 10-minute window
        return service_down(f"prod-{i % 4:02d}", f"svc-{i % 8}")
    if slot < 96:
        return HighLatency(
            service=f"router-{i % 3}", latency_ms=250.0, threshold_ms=100.0, trend=Trend.RISING
        )
    if slot < 98:
        return SignalGenerated(
            pair="XRP/USD",
            signal="breakout",
            confidence=0.85,
            action=Action.BUY,
            target_price=Decimal("0.55"),
            stop_loss=Decimal("0.51"),
            risk_reward=2.5,
            strategy="momentum",
        )
    if slot < 99:
        return PnlUpdate(
            daily_pnl=Decimal("245.5"),
            total_pnl=Decimal("10234.75"),
            open_positions=3,
            exposure=Decimal("15000"),
        )
    return BuildSuccess(
        repository="xrp-trading/TradeServer",
        commit="3f9c2b7e1d4a5c6b8e9f0a1b2c3d4e5f6a7b8c9d",
        duration=timedelta(minutes=1, seconds=33),
        artifacts=(),
        branch="main",
    )


def rotating_event(i: int) -> AnyEvent:
    """One event for each of the five channels in turn (idle latency)."""
    slot = i % 5
    if slot == 0:
        return trade(i)
    if slot == 1:
        return tick(i)
    if slot == 2:
        return service_down(f"idle-{i}")
    if slot == 3:
        return BuildSuccess(
            repository="xrp-trading/TradeServer",
            commit="3f9c2b7e1d4a5c6b8e9f0a1b2c3d4e5f6a7b8c9d",
            duration=timedelta(minutes=1, seconds=33),
            artifacts=(),
            branch="main",
        )
    return MaintenanceScheduled(
        service="trade-server",
        starts_at=datetime(2026, 11, 29, 6, 0, tzinfo=UTC),
        duration=timedelta(minutes=30),
        description="OS security updates and reboot",
        impact="trading paused",
    )


def envelope_bytes(event: AnyEvent, now_ns: int | None = None) -> tuple[str, str, bytes]:
    """(event id, stream key, msgpack bytes), as the Publisher would write them."""
    now = now_ns or time.time_ns()
    env = wrap(event, source="engine-bench", now_ns=now, event_id=new_event_id(now))
    return env.id, stream_key(env.lane), encode(env)


# -- the naive baseline's RQ job -----------------------------------------------------------

_http: httpx.Client | None = None


def post_one(raw: bytes, base_url: str) -> str:
    """One event -> one Execute Webhook request (the naive design's whole job).

    Renders with Herald's renderer; on a 429 sleeps `retry_after` and tries again (up to
    5 times), as a careful single-request client (discord.py, Apprise) does."""
    global _http  # noqa: PLW0603 - one keep-alive client per worker process
    from sandbox.webhooks import channel_webhooks
    from schemas.codec import decode
    from worker.payload import build_payload
    from worker.render import render_embed

    if _http is None:
        _http = httpx.Client(timeout=10.0)
    envelope = decode(raw)
    urls = channel_webhooks(base_url)
    payload = build_payload([render_embed(envelope)])
    status = 0
    for channel in DEFAULT_ROUTES.get(envelope.kind, ()):
        for _ in range(6):
            resp = _http.post(urls[channel] + "?wait=true", json=payload)
            status = resp.status_code
            if status != 429:
                break
            time.sleep(float(resp.json().get("retry_after", 1.0)))
    return str(status)


def _rq_worker_main(redis_url: str) -> None:
    from rq import SimpleWorker

    logging.basicConfig(level=logging.WARNING)
    conn = redis.Redis.from_url(redis_url)
    worker = SimpleWorker(list(NAIVE_QUEUES), connection=conn)
    worker.work(logging_level="WARNING", with_scheduler=False)


# -- processes -----------------------------------------------------------------------------


def spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            args, env=env, stdout=out, stderr=out, cwd=ROOT, start_new_session=True
        )
    _children.append(proc)
    return proc


def stop(procs: list[subprocess.Popen[bytes]], timeout: float = 10.0) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ValueError):
            _children.remove(proc)


def kill_everything() -> None:
    for proc in list(_children):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    for server in list(_servers):
        with contextlib.suppress(Exception):
            server.kill()


def start_redis(tmp: Path, name: str) -> RedisServer:
    server = RedisServer(tmp / name)
    server.start()
    _servers.append(server)
    return server


def stop_redis(server: RedisServer) -> None:
    server.stop()
    with contextlib.suppress(ValueError):
        _servers.remove(server)


class Sandbox:
    """`herald sandbox --port P` in its own process, with default limits."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        self.proc = spawn(
            [sys.executable, "-m", "herald.cli", "sandbox", "--port", str(self.port)],
            env,
            tmp / "sandbox.log",
        )
        self.http = httpx.Client(base_url=self.base_url, timeout=10.0)
        wait_until(self._ready, 20, "the sandbox", interval=0.05)
        self.last_id = "0"

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"sandbox exited with {self.proc.returncode}")
        try:
            return self.http.get("/admin/stats").status_code == 200
        except httpx.HTTPError:
            return False

    def urls(self) -> dict[str, str]:
        from sandbox.webhooks import channel_webhooks

        return channel_webhooks(self.base_url)

    def reset(self) -> None:
        self.http.post("/admin/reset").raise_for_status()
        self.last_id = "0"

    def stats(self) -> dict[str, Any]:
        return dict(self.http.get("/admin/stats").json())

    def new_messages(self) -> list[dict[str, Any]]:
        """Messages accepted since the last call, oldest first."""
        found: list[dict[str, Any]] = self.http.get(
            "/api/messages", params={"since": self.last_id}
        ).json()
        if found:
            self.last_id = max((m["id"] for m in found), key=int)
        return found

    def close(self) -> None:
        self.http.close()
        stop([self.proc])


def footer_ids(message: dict[str, Any]) -> list[str]:
    ids = []
    for embed in message.get("embeds", []):
        text = embed.get("footer", {}).get("text", "")
        if " · " in text:
            ids.append(text.rsplit(" · ", 1)[-1])
    return ids


def accepted_at(message: dict[str, Any]) -> float:
    return datetime.fromisoformat(message["timestamp"]).timestamp()


@dataclass
class Engine:
    """The real engine: `herald dispatch` and `herald worker -n 1` x n, as subprocesses."""

    redis_server: RedisServer
    sandbox: Sandbox
    tmp: Path
    workers: int
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
        env["HERALD_REDIS_URL"] = self.redis_server.url
        for channel, url in self.sandbox.urls().items():
            env[webhook_env(channel)] = url
        return env

    def start(self) -> None:
        env, py = self.env(), sys.executable
        worker_args = [py, "-m", "herald.cli", "worker", "-n", "1"]
        tag = f"{os.getpid()}-{time.monotonic_ns()}"
        self.procs.append(
            spawn(
                [py, "-m", "herald.cli", "dispatch", "--name", "bench", "--log-level", "WARNING"],
                env,
                self.tmp / "dispatch.log",
            )
        )
        for i in range(self.workers):
            self.procs.append(
                spawn(
                    [*worker_args, "--name", f"w{i}-{tag}", "--log-level", "WARNING"],
                    env,
                    self.tmp / f"worker{i}.log",
                )
            )
        r = self.redis_server.client()
        wait_until(lambda: self._ready(r), 30, "engine processes", interval=0.05)

    def _ready(self, r: redis.Redis) -> bool:
        for proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"engine process exited with {proc.returncode}; see {self.tmp}")
        workers = r.smembers("rq:workers")
        groups = r.exists(stream_key(_critical_lane()))
        return len(workers) >= self.workers and bool(groups)

    def stop(self) -> None:
        stop(self.procs, 30)
        self.procs.clear()


def _critical_lane() -> Any:
    from schemas.base import Lane

    return Lane.CRITICAL


def start_naive_workers(server: RedisServer, tmp: Path, n: int) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ)
    procs = [
        spawn(
            [sys.executable, str(Path(__file__).resolve()), "_rq-worker", server.url],
            env,
            tmp / f"naive-worker{i}.log",
        )
        for i in range(n)
    ]
    r = server.client()
    wait_until(lambda: len(r.smembers("rq:workers")) >= n, 30, "naive RQ workers", interval=0.05)
    return procs


# -- 1. dispatcher throughput -----------------------------------------------------------------


def settings_for(url: str) -> Any:
    from worker.config import load

    return load(env={"HERALD_REDIS_URL": url})


def preload(r: redis.Redis, records: list[tuple[str, str, bytes]]) -> float:
    t0 = time.perf_counter()
    pipe = r.pipeline(transaction=False)
    for n, (_id, stream, raw) in enumerate(records, 1):
        pipe.xadd(stream, {PAYLOAD_FIELD: raw})
        if n % 5_000 == 0:
            pipe.execute()
    pipe.execute()
    return time.perf_counter() - t0


def run_dispatcher_once(server: RedisServer, records: list[tuple[str, str, bytes]]) -> dict:
    from worker.dispatcher import Dispatcher

    r = server.client()
    r.flushall()
    load_s = preload(r, records)
    settings = settings_for(server.url)
    dispatcher = Dispatcher(redis.Redis.from_url(server.url), settings, name="bench")
    dispatcher.ensure_groups()
    r.config_resetstat()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    dispatcher.run(threading.Event(), drain=True)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    stats = {k.decode(): int(v) for k, v in r.hgetall(keyspace.STATS).items()}
    queued = sum(int(r.llen(keyspace.outbox(c))) for c in CHANNELS)
    cmd = r.info("commandstats")
    script = cmd.get("cmdstat_evalsha", {})
    n = len(records)
    return {
        "events": n,
        "preload_s": round(load_s, 3),
        "seconds": round(elapsed, 3),
        "events_per_s": round(n / elapsed),
        "client_cpu_s": round(cpu, 3),
        "redis_script_usec": int(script.get("usec", 0)),
        "redis_script_calls": int(script.get("calls", 0)),
        "committed": dispatcher.stats.committed,
        "queued": queued,
        "folded": stats.get("folded", 0),
        "duplicates": stats.get("duplicates", 0),
        "ok": dispatcher.stats.committed == n and queued + stats.get("folded", 0) == n,
    }


def run_naive_dispatcher_once(
    server: RedisServer, records: list[tuple[str, str, bytes]], *, pipelined: bool
) -> dict:
    """A dispatcher that reads the same streams and enqueues one RQ job per event."""
    from rq import Queue

    r = server.client()
    r.flushall()
    preload(r, records)
    conn = redis.Redis.from_url(server.url)
    queues = {name: Queue(name, connection=conn) for name in NAIVE_QUEUES}
    streams = [stream_key(lane) for lane in _lanes()]
    for s in streams:
        with contextlib.suppress(redis.ResponseError):
            conn.xgroup_create(s, "naive", id="0", mkstream=True)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    done = 0
    while True:
        replies = conn.xreadgroup("naive", "c", dict.fromkeys(streams, ">"), count=NAIVE_BATCH)
        if not replies:
            break
        for stream, entries in replies:
            queue = queues[NAIVE_QUEUES[0] if stream.endswith(b"critical") else NAIVE_QUEUES[1]]
            if pipelined:
                with conn.pipeline() as pipe:
                    queue.enqueue_many(
                        [
                            Queue.prepare_data(JOB, args=(f[PAYLOAD_FIELD], "x"), result_ttl=0)
                            for _, f in entries
                        ],
                        pipeline=pipe,
                    )
                    pipe.execute()
            else:
                for _, f in entries:
                    queue.enqueue(JOB, f[PAYLOAD_FIELD], "x", result_ttl=0)
            conn.xack(stream, "naive", *[eid for eid, _ in entries])
            done += len(entries)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    jobs = sum(q.count for q in queues.values())
    return {
        "events": len(records),
        "seconds": round(elapsed, 3),
        "events_per_s": round(done / elapsed),
        "client_cpu_s": round(cpu, 3),
        "jobs": jobs,
        "ok": jobs == len(records),
    }


def _lanes() -> Any:
    from producer.streams import LANES

    return LANES


def bench_throughput(cfg: dict, tmp: Path) -> dict:
    print(f"building {cfg['events']:,} envelopes ...", file=sys.stderr, flush=True)
    base = time.time_ns()
    records = [envelope_bytes(mixed_event(i), base + i * 1000) for i in range(cfg["events"])]
    mean_size = statistics.fmean(len(raw) for _, _, raw in records)
    server = RedisServer(tmp / "redis-throughput")
    server.start()
    _servers.append(server)
    out: dict[str, Any] = {"events": cfg["events"], "mean_envelope_bytes": round(mean_size)}
    try:
        herald_runs = []
        for i in range(cfg["runs"]):
            load = os.getloadavg()[0]
            res = run_dispatcher_once(server, records)
            res["load1"] = round(load, 2)
            herald_runs.append(res)
            print(f"  herald dispatcher run {i + 1}: {res}", file=sys.stderr, flush=True)
        naive_runs: dict[str, list[dict]] = {"enqueue": [], "enqueue_many": []}
        for i in range(cfg["runs"]):
            for mode, n_key in (("enqueue", "rq_events"), ("enqueue_many", "rq_many_events")):
                load = os.getloadavg()[0]
                res = run_naive_dispatcher_once(
                    server, records[: cfg[n_key]], pipelined=mode == "enqueue_many"
                )
                res["load1"] = round(load, 2)
                naive_runs[mode].append(res)
                print(f"  naive {mode} run {i + 1}: {res}", file=sys.stderr, flush=True)
        out["herald"] = herald_runs
        out["naive"] = naive_runs
        out["median"] = {
            "herald": statistics.median(r["events_per_s"] for r in herald_runs),
            **{m: statistics.median(r["events_per_s"] for r in rs) for m, rs in naive_runs.items()},
        }
    finally:
        stop_redis(server)
    return out


# -- 2. idle end-to-end latency -------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    s = sorted(values)

    def rank(q: float) -> float:
        return s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))]

    return {
        "n": len(s),
        "p50": round(rank(0.50), 2),
        "p99": round(rank(0.99), 2),
        "max": round(s[-1], 2),
    }


def wait_for_ids(sandbox: Sandbox, wanted: set[str], timeout: float) -> dict[str, float]:
    """Poll the sandbox until every id in `wanted` was accepted: id -> accepted time."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while wanted - seen.keys() and time.monotonic() < deadline:
        for message in sandbox.new_messages():
            for eid in footer_ids(message):
                if eid in wanted:
                    seen[eid] = accepted_at(message)
        if wanted - seen.keys():
            time.sleep(0.002)
    return seen


def measure_idle(
    cfg: dict, sandbox: Sandbox, publish: Callable[[AnyEvent], tuple[str, float]]
) -> dict:
    latencies: list[float] = []
    missing = 0
    # Warm-up, not measured: one event per channel, so first-use costs (imports, keep-alive
    # connections, RQ worker registration) are not counted as latency.
    warm = {publish(rotating_event(-i - 1))[0] for i in range(5)}
    wait_for_ids(sandbox, warm, 15.0)
    time.sleep(2.5)  # let the warm-up requests leave the 5/2s webhook windows
    for i in range(cfg["samples"]):
        eid, sent = publish(rotating_event(i))
        got = wait_for_ids(sandbox, {eid}, 10.0)
        if eid in got:
            latencies.append((got[eid] - sent) * 1000)
        else:
            missing += 1
        time.sleep(max(0.0, cfg["spacing"] - (time.time() - sent)))
    return {**percentiles(latencies), "missing": missing, "samples_ms": latencies}


def bench_latency(cfg: dict, tmp: Path, sandbox: Sandbox) -> dict:
    out: dict[str, Any] = {}
    server = start_redis(tmp, "redis-latency")
    try:
        sandbox.reset()
        engine = Engine(server, sandbox, tmp, cfg["workers"])
        engine.start()
        time.sleep(0.5)
        load = os.getloadavg()[0]
        with Publisher(server.url, source="engine-bench", spool_path=tmp / "pub.spool") as pub:

            def publish(event: AnyEvent) -> tuple[str, float]:
                sent = time.time()
                return pub.publish(event), sent

            out["herald"] = measure_idle(cfg, sandbox, publish)
        out["herald"]["load1"] = round(load, 2)
        out["herald"]["sandbox_429"] = sandbox.stats()["rate_limited"]
        engine.stop()
        print(f"  herald idle: { {k: v for k, v in out['herald'].items() if k != 'samples_ms'} }",
              file=sys.stderr, flush=True)  # fmt: skip

        from rq import Queue

        server.client().flushall()
        sandbox.reset()
        procs = start_naive_workers(server, tmp, cfg["workers"])
        conn = redis.Redis.from_url(server.url)
        queues = {name: Queue(name, connection=conn) for name in NAIVE_QUEUES}
        load = os.getloadavg()[0]

        def naive_publish(event: AnyEvent) -> tuple[str, float]:
            sent = time.time()
            eid, _stream, raw = envelope_bytes(event)
            queue = queues[NAIVE_QUEUES[0] if event.kind() == "service_down" else NAIVE_QUEUES[1]]
            queue.enqueue(JOB, raw, sandbox.base_url, result_ttl=0)
            return eid, sent

        out["naive"] = measure_idle(cfg, sandbox, naive_publish)
        out["naive"]["load1"] = round(load, 2)
        out["naive"]["sandbox_429"] = sandbox.stats()["rate_limited"]
        stop(procs)
        print(f"  naive idle: { {k: v for k, v in out['naive'].items() if k != 'samples_ms'} }",
              file=sys.stderr, flush=True)  # fmt: skip
    finally:
        stop_redis(server)
    return out


# -- 3. burst ----------------------------------------------------------------------------------


@dataclass
class Burst:
    trades: list[str] = field(default_factory=list)
    ticks: list[str] = field(default_factory=list)
    alerts: dict[str, float] = field(default_factory=dict)
    publish_s: float = 0.0


def publish_burst(cfg: dict, publish: Callable[[AnyEvent], str]) -> Burst:
    """Trades and ticks interleaved over ~BURST_SECONDS, alerts spread over the flood
    once 10% of it has been published."""
    n = cfg["trades"] + cfg["ticks"]
    every = max(1, n // max(1, cfg["trades"]))
    first_alert = n // 10
    alert_every = max(1, (n - first_alert) // max(1, cfg["alerts"]))
    burst = Burst()
    t0 = time.monotonic()
    trades = ticks = 0
    for i in range(n):
        if (i % every == 0 and trades < cfg["trades"]) or ticks >= cfg["ticks"]:
            burst.trades.append(publish(trade(i)))
            trades += 1
        else:
            burst.ticks.append(publish(tick(i)))
            ticks += 1
        due = i >= first_alert and (i - first_alert) % alert_every == 0
        if due and len(burst.alerts) < cfg["alerts"]:
            sent = time.time()
            burst.alerts[publish(service_down(f"burst-{len(burst.alerts):02d}"))] = sent
        if i % 200 == 0:  # pace: the whole flood over ~BURST_SECONDS
            ahead = t0 + BURST_SECONDS * (i / n) - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    while len(burst.alerts) < cfg["alerts"]:
        burst.alerts[publish(service_down(f"burst-{len(burst.alerts):02d}"))] = time.time()
    burst.publish_s = time.monotonic() - t0
    return burst


def observe(
    sandbox: Sandbox,
    burst: Burst,
    cap: float,
    started: float,
    done: Callable[[dict[str, int]], bool],
    depth: Callable[[], int],
) -> dict:
    trade_ids = set(burst.trades)
    alert_ids = set(burst.alerts)
    delivered_trades: dict[str, float] = {}
    delivered_alerts: dict[str, float] = {}
    per_channel: dict[str, int] = dict.fromkeys(CHANNELS, 0)
    embeds = 0
    timeline = []
    finished_at = None
    next_mark = 0.0
    while True:
        now = time.monotonic()
        for message in sandbox.new_messages():
            per_channel[message["channel_name"]] = per_channel.get(message["channel_name"], 0) + 1
            ids = footer_ids(message)
            embeds += len(message.get("embeds", []))
            for eid in ids:
                if eid in trade_ids:
                    delivered_trades[eid] = accepted_at(message)
                elif eid in alert_ids:
                    delivered_alerts[eid] = accepted_at(message)
        counts = {"trades": len(delivered_trades), "alerts": len(delivered_alerts)}
        if now >= next_mark:
            timeline.append((round(now - started, 1), counts["trades"], depth()))
            next_mark = now + 5.0
        if done(counts):
            finished_at = now
            break
        if now - started > cap:
            break
        time.sleep(0.25)
    elapsed = (finished_at or time.monotonic()) - started
    stats = sandbox.stats()
    messages = sum(per_channel.values())
    events = len(burst.trades) + len(burst.ticks) + len(burst.alerts)
    latencies = [(delivered_alerts[e] - burst.alerts[e]) * 1000 for e in delivered_alerts]
    # Drain rate of trades over the observation, after the first delivery.
    times = sorted(delivered_trades.values())
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    left = len(burst.trades) - len(delivered_trades)
    return {
        "events": events,
        "publish_s": round(burst.publish_s, 2),
        "messages": messages,
        "embeds": embeds,
        "requests_per_event": round(messages / events, 4),
        "rate_limited_429": stats["rate_limited"],
        "per_channel_messages": per_channel,
        "trades_delivered": len(delivered_trades),
        "trades_total": len(burst.trades),
        "alerts_delivered": len(delivered_alerts),
        "alerts_total": len(burst.alerts),
        "drained": finished_at is not None,
        "observed_s": round(elapsed, 1),
        "trade_drain_per_min": round(rate * 60, 1),
        "projected_drain_s": round(elapsed + left / rate, 0) if left and rate else None,
        "alert_latency_ms": percentiles(latencies),
        "depth_left": depth(),
        "timeline": timeline,
    }


def publish_to_xadd(r: redis.Redis, burst: Burst) -> dict[str, float]:
    """Where the alerts' latency goes: publish() -> the stream entry (its id is the XADD
    time in ms), read back from the critical lane."""
    from schemas.base import Lane
    from schemas.codec import decode

    waits = []
    for entry_id, fields in r.xrange(stream_key(Lane.CRITICAL)):
        eid = decode(fields[PAYLOAD_FIELD]).id
        if eid in burst.alerts:
            xadd_ms = int(entry_id.split(b"-")[0])
            waits.append(xadd_ms - burst.alerts[eid] * 1000)
    return percentiles(waits)


def bench_burst(cfg: dict, tmp: Path, sandbox: Sandbox) -> dict:
    out: dict[str, Any] = {}
    server = start_redis(tmp, "redis-burst")
    try:
        sandbox.reset()
        engine = Engine(server, sandbox, tmp, cfg["workers"])
        engine.start()
        time.sleep(0.5)
        r = server.client()
        load = os.getloadavg()[0]
        with Publisher(
            server.url, source="engine-bench", spool_path=tmp / "burst.spool", buffer_size=200_000
        ) as pub:
            started = time.monotonic()
            burst = publish_burst(cfg, pub.publish)
            pub.flush(30)

        def outbox_depth() -> int:
            return sum(int(r.llen(keyspace.outbox(c))) for c in CHANNELS)

        def engine_done(counts: dict[str, int]) -> bool:
            return (
                counts["trades"] == len(burst.trades)
                and counts["alerts"] == len(burst.alerts)
                and outbox_depth() == 0
            )

        cap = cfg["burst_cap"]
        out["herald"] = observe(sandbox, burst, cap, started, engine_done, outbox_depth)
        out["herald"]["load1"] = round(load, 2)
        out["herald"]["alert_publish_to_xadd_ms"] = publish_to_xadd(r, burst)
        engine.stop()
        print(f"  herald burst: {out['herald']}", file=sys.stderr, flush=True)

        from rq import Queue

        r.flushall()
        sandbox.reset()
        procs = start_naive_workers(server, tmp, cfg["workers"])
        conn = redis.Redis.from_url(server.url)
        queues = {name: Queue(name, connection=conn) for name in NAIVE_QUEUES}
        load = os.getloadavg()[0]

        def naive_publish(event: AnyEvent) -> str:
            eid, _stream, raw = envelope_bytes(event)
            queue = queues[NAIVE_QUEUES[0] if event.kind() == "service_down" else NAIVE_QUEUES[1]]
            queue.enqueue(JOB, raw, sandbox.base_url, result_ttl=0)
            return eid

        started = time.monotonic()
        burst = publish_burst(cfg, naive_publish)

        def naive_depth() -> int:
            return sum(q.count for q in queues.values())

        def naive_done(counts: dict[str, int]) -> bool:
            return (
                counts["trades"] == len(burst.trades)
                and counts["alerts"] == len(burst.alerts)
                and naive_depth() == 0
            )

        cap = cfg["baseline_cap"]
        out["naive"] = observe(sandbox, burst, cap, started, naive_done, naive_depth)
        out["naive"]["load1"] = round(load, 2)
        stop(procs)
        print(f"  naive burst: {out['naive']}", file=sys.stderr, flush=True)
    finally:
        stop_redis(server)
    return out


# -- report ------------------------------------------------------------------------------------


def fmt(n: float) -> str:
    return f"{n:,.0f}"


def report(results: dict, cfg: dict) -> str:
    lines: list[str] = []
    add = lines.append
    m = results["machine"]
    add(f"Machine: nproc={m['nproc']}, {m['cpu']}, Python {m['python']}, {m['redis']}")
    add(f"Load average at start: {m['load_start']}, at end: {m.get('load_end')}")
    add("")
    tp = results.get("throughput")
    if tp:
        add(f"### Dispatcher throughput ({fmt(tp['events'])} events, realistic mix, "
            f"mean envelope {tp['mean_envelope_bytes']} B)")  # fmt: skip
        add("")
        add("| design | run | events | seconds | events/s | client CPU s | Lua script ms | load1 |")
        add("|---|---|---|---|---|---|---|---|")
        for i, res in enumerate(tp["herald"], 1):
            add(f"| herald Dispatcher | {i} | {fmt(res['events'])} | {res['seconds']} | "
                f"{fmt(res['events_per_s'])} | {res['client_cpu_s']} | "
                f"{res['redis_script_usec'] / 1000:,.0f} | {res['load1']} |")  # fmt: skip
        for mode, runs in tp["naive"].items():
            for i, res in enumerate(runs, 1):
                add(f"| naive: RQ {mode} per event | {i} | {fmt(res['events'])} | "
                    f"{res['seconds']} | {fmt(res['events_per_s'])} | {res['client_cpu_s']} | "
                    f"- | {res['load1']} |")  # fmt: skip
        add("")
        add("| design | median events/s | target |")
        add("|---|---|---|")
        med = tp["median"]
        ok = "met" if med["herald"] >= TARGET_EVENTS_PER_S else "MISSED"
        add(f"| herald Dispatcher | {fmt(med['herald'])} | ≥ {fmt(TARGET_EVENTS_PER_S)}: {ok} |")
        add(f"| naive: RQ enqueue per event | {fmt(med['enqueue'])} | - |")
        add(f"| naive: RQ enqueue_many (pipelined) | {fmt(med['enqueue_many'])} | - |")
        add("")
    lat = results.get("latency")
    if lat:
        add(f"### Idle end-to-end latency, publish → sandbox accepted (ms; one event every "
            f"{cfg['spacing']} s, rotating over 5 channels)")  # fmt: skip
        add("")
        add("| design | samples | p50 ms | p99 ms | max ms | missing | 429s | load1 |")
        add("|---|---|---|---|---|---|---|---|")
        for name, label in (("herald", "herald engine"), ("naive", "naive: RQ job per event")):
            res = lat[name]
            add(f"| {label} | {res['n']} | {res['p50']} | {res['p99']} | {res['max']} | "
                f"{res['missing']} | {res['sandbox_429']} | {res['load1']} |")  # fmt: skip
        h = lat["herald"]
        ok50 = "met" if h["p50"] <= TARGET_P50_MS else "MISSED"
        ok99 = "met" if h["p99"] <= TARGET_P99_MS else "MISSED"
        add("")
        add(f"Targets: p50 ≤ {TARGET_P50_MS:g} ms: {ok50}; p99 ≤ {TARGET_P99_MS:g} ms: {ok99}")
        add("")
    bu = results.get("burst")
    if bu:
        add(f"### Burst: {fmt(cfg['trades'])} trades + {fmt(cfg['ticks'])} price ticks in "
            f"~{BURST_SECONDS:g} s + {cfg['alerts']} service_down alerts, "
            "sandbox default limits")  # fmt: skip
        add("")
        add("| design | events | publish s | accepted requests | requests/event | 429s | "
            "trades delivered | alerts delivered | drained | observed s | trade drain /min | "
            "projected drain s | alert p50 ms | alert max ms | queue left |")  # fmt: skip
        add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for name, label in (("herald", "herald engine"), ("naive", "naive: RQ job per event")):
            res = bu[name]
            al = res["alert_latency_ms"]
            proj = res["projected_drain_s"]
            add(f"| {label} | {fmt(res['events'])} | {res['publish_s']} | {fmt(res['messages'])} "
                f"| {res['requests_per_event']} | {fmt(res['rate_limited_429'])} | "
                f"{fmt(res['trades_delivered'])}/{fmt(res['trades_total'])} | "
                f"{res['alerts_delivered']}/{res['alerts_total']} | "
                f"{'yes' if res['drained'] else 'no'} | {res['observed_s']} | "
                f"{res['trade_drain_per_min']} | {fmt(proj) if proj else '-'} | "
                f"{al['p50']} | {al['max']} | {fmt(res['depth_left'])} |")  # fmt: skip
        add("")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" sha=")[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "redis": redis_version.strip(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["_rq-worker"]:
        _rq_worker_main(args_list[1])
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes, < 60 s")
    p.add_argument("--json", metavar="PATH", help="write every run's figures as JSON")
    p.add_argument(
        "--only", action="append", choices=["throughput", "latency", "burst"], help="repeatable"
    )
    p.add_argument("--events", type=int, help="throughput events per run")
    p.add_argument("--runs", type=int, help="throughput runs")
    p.add_argument("--samples", type=int, help="idle latency samples per design")
    p.add_argument("--spacing", type=float, help="seconds between idle-latency events")
    p.add_argument("--trades", type=int)
    p.add_argument("--ticks", type=int)
    p.add_argument("--alerts", type=int)
    p.add_argument("--burst-cap", type=float, help="max seconds to wait for the engine to drain")
    p.add_argument("--baseline-cap", type=float, help="seconds to observe the naive burst")
    p.add_argument("--workers", type=int, default=2, help="worker processes per design")
    p.add_argument("--max-seconds", type=float, help="watchdog: stop everything and exit 3")
    args = p.parse_args(args_list)
    cfg = dict(QUICK if args.quick else FULL)
    for key in cfg:
        value = getattr(args, key, None)
        if value is not None:
            cfg[key] = value
    cfg["workers"] = args.workers
    if shutil.which("redis-server") is None:
        print("engine_bench: redis-server not found on PATH", file=sys.stderr)
        return 2
    phases = args.only or ["throughput", "latency", "burst"]

    def watchdog() -> None:
        print(f"engine_bench: over {cfg['max_seconds']} s; stopping", file=sys.stderr, flush=True)
        kill_everything()
        os._exit(3)

    timer = threading.Timer(cfg["max_seconds"], watchdog)
    timer.daemon = True
    timer.start()
    signal.signal(signal.SIGTERM, lambda *_: watchdog())
    results: dict[str, Any] = {"machine": machine(), "config": cfg}
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmp_name:
        tmp = Path(tmp_name)
        sandbox: Sandbox | None = None
        try:
            if "throughput" in phases:
                print("== dispatcher throughput", file=sys.stderr, flush=True)
                results["throughput"] = bench_throughput(cfg, tmp)
            if "latency" in phases or "burst" in phases:
                sandbox = Sandbox(tmp)
            if "latency" in phases:
                print("== idle latency", file=sys.stderr, flush=True)
                assert sandbox is not None
                results["latency"] = bench_latency(cfg, tmp, sandbox)
            if "burst" in phases:
                print("== burst", file=sys.stderr, flush=True)
                assert sandbox is not None
                results["burst"] = bench_burst(cfg, tmp, sandbox)
        except BaseException:
            for logfile in sorted(tmp.glob("*.log")):
                tail = logfile.read_text(errors="replace")[-1500:]
                if tail.strip():
                    print(f"--- {logfile.name}\n{tail}", file=sys.stderr)
            raise
        finally:
            if sandbox is not None:
                sandbox.close()
            kill_everything()
    timer.cancel()
    results["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
    results["elapsed_s"] = round(time.monotonic() - t_start, 1)
    print(report(results, cfg))
    print(f"\n(total {results['elapsed_s']} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
