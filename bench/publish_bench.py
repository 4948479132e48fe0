"""Herald producer benchmark: `Publisher.publish()` latency against synchronous baselines,
and how fast the background thread moves events into Redis.

    .venv/bin/python bench/publish_bench.py              # full run: 3 runs, 1M calls each
    .venv/bin/python bench/publish_bench.py --quick      # smoke run (< 20 s)
    .venv/bin/python bench/publish_bench.py --json /tmp/publish.json

Each run starts its own redis-server (AOF off: the bench measures the producer, not the
disk) and its own Publisher instances, and measures, side by side:

1. `publish()` per-call latency in a tight loop, with Redis up and with Redis stopped
   (the Publisher points at a free port with nothing listening and spools to a temp dir);
2. baseline A: encode + `redis.Redis.xadd()` synchronously per event;
3. baseline B: render a Discord-like embed and `httpx.Client.post()` it (keep-alive) to a
   local HTTP server in a subprocess that answers 204;
4. background-thread throughput: end to end (first publish to `flush()` returning) and
   pure drain (`flush()` alone, with the buffer already holding the events).

Every call is timed with `time.perf_counter_ns()`; the median cost of timing an empty
call is measured per run, reported, and subtracted from every percentile. The cyclic GC
stays on (as in the trading process); collections during each timed loop are reported.
The whole run is bounded by `--max-seconds` (a watchdog stops the child processes and
exits 3).
"""

import argparse
import contextlib
import gc
import inspect
import json
import logging
import math
import os
import platform
import select
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import redis

from ground.proc import free_port, wait_until
from herald.redis_server import RedisServer
from producer.publisher import Publisher, PublisherStats
from producer.spool import Spool
from producer.streams import stream_key
from schemas import Lane, Side, TradeExecuted
from schemas.codec import encode
from schemas.envelope import wrap

SOURCE = "publish-bench"
WARMUP = 10_000
PERCENTILES = (("p50", 0.50), ("p99", 0.99), ("p99_9", 0.999))
TARGETS_US = {"p50": 2.0, "p99": 10.0, "p99_9": 100.0}
TARGET_EVENTS_PER_S = 100_000
# "Identical with Redis stopped", read as "no slower": stopped p50/p99/p99.9 may exceed the
# Redis-up value by at most this much (relative, or absolute in µs, whichever is larger).
SAME_REL, SAME_ABS_US = 0.25, 0.5

FULL = {"calls": 1_000_000, "direct": 100_000, "http": 20_000, "events": 500_000, "runs": 3}
QUICK = {"calls": 20_000, "direct": 2_000, "http": 1_000, "events": 20_000, "runs": 1}
DEFAULT_BATCH_SIZE = inspect.signature(Publisher).parameters["batch_size"].default

SCENARIOS = (
    ("overhead", "timer overhead (empty call)"),
    ("publish_up", "publish(), Redis up"),
    ("publish_down", "publish(), Redis stopped"),
    ("direct_xadd", "baseline A: encode + xadd"),
    ("http_post", "baseline B: httpx.post"),
)

log = logging.getLogger("publish_bench")
_cleanups: list[Callable[[], None]] = []


# -- helpers -----------------------------------------------------------------------------


def make_event() -> TradeExecuted:
    return TradeExecuted(
        pair="XRP/USD",
        side=Side.BUY,
        amount=Decimal("1500.25"),
        price=Decimal("0.52341"),
        pnl=Decimal("-12.7550"),
        latency_ms=3.2,
        strategy="momentum-v2",
        executed_at=datetime(2026, 11, 28, 4, 20, 0, 123456, tzinfo=UTC),
    )


def time_calls(fn: Callable[[Any], object], arg: Any, n: int) -> list[int]:
    """Nanoseconds of each of `n` calls `fn(arg)`, timed one by one.

    Samples go into a preallocated C array, not a list of int objects: a million live
    ints would be the bench's own garbage-collector load and lengthen every full
    collection that lands in the timed loop."""
    clock = time.perf_counter_ns
    out = array("q", bytes(8 * n))
    for i in range(n):
        t0 = clock()
        fn(arg)
        out[i] = clock() - t0
    return out.tolist()


def _empty(_event: object) -> None:
    return None


def percentile(ordered: list[int], q: float) -> int:
    """Nearest-rank percentile of an ascending list."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarize(samples: list[int], overhead_ns: int) -> dict[str, Any]:
    samples.sort()
    raw = {name: percentile(samples, q) for name, q in PERCENTILES}
    raw["p99_99"] = percentile(samples, 0.9999)  # JSON only: the GIL/GC tail
    raw["max"] = samples[-1]
    net = {k: max(0, v - overhead_ns) / 1000 for k, v in raw.items()}
    return {
        "calls": len(samples),
        **{f"{k}_us": round(v, 3) for k, v in net.items()},
        "raw_ns": raw,
        "mean_us": round(max(0.0, statistics.fmean(samples) - overhead_ns) / 1000, 3),
    }


@contextlib.contextmanager
def gc_watch() -> Iterator[dict[int, list[int]]]:
    """Count cyclic-GC collections per generation: {gen: [count, total_ns, max_ns]}."""
    seen: dict[int, list[int]] = {}
    started = [0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter_ns()
            return
        took = time.perf_counter_ns() - started[0]
        entry = seen.setdefault(info["generation"], [0, 0, 0])
        entry[0] += 1
        entry[1] += took
        entry[2] = max(entry[2], took)

    gc.collect()
    gc.callbacks.append(callback)
    try:
        yield seen
    finally:
        gc.callbacks.remove(callback)


def gc_summary(seen: dict[int, list[int]]) -> dict[str, Any]:
    return {
        f"gen{gen}": {"count": c, "total_ms": round(t / 1e6, 2), "max_ms": round(m / 1e6, 2)}
        for gen, (c, t, m) in sorted(seen.items())
    }


def stats_dict(stats: PublisherStats) -> dict[str, int]:
    return dict(stats._asdict())


def count_spooled(path: Path) -> int:
    spool = Spool(path)
    try:
        records, _ = spool.read(2**62)
        return len(records)
    finally:
        spool.close()


def start_watchdog(seconds: float) -> None:
    def fire() -> None:
        print(f"publish_bench: over --max-seconds={seconds:g}; aborting", file=sys.stderr)
        for stop in reversed(_cleanups):
            with contextlib.suppress(Exception):
                stop()
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()


@contextlib.contextmanager
def redis_server(data_dir: Path) -> Iterator[RedisServer]:
    server = RedisServer(data_dir, appendonly=False)
    _cleanups.append(server.kill)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        _cleanups.remove(server.kill)


_HTTP_SERVER = """
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Webhook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)  # what Discord answers a webhook POST without ?wait=true
        self.end_headers()

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def http_server() -> Iterator[int]:
    """A minimal webhook stand-in in a subprocess; yields its port."""
    proc = subprocess.Popen([sys.executable, "-c", _HTTP_SERVER], stdout=subprocess.PIPE, text=True)
    _cleanups.append(proc.kill)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 15)
        if not ready:
            raise RuntimeError("local HTTP server did not start within 15 s")
        yield int(proc.stdout.readline())
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _cleanups.remove(proc.kill)


def render_embed(event: TradeExecuted) -> dict[str, Any]:
    """What the original notifier rendered per trade: a Discord webhook body."""
    buy = event.side is Side.BUY
    return {
        "username": "Trading Bot",
        "embeds": [
            {
                "title": f"{'🟢' if buy else '🔴'} Trade executed: {event.side} {event.pair}",
                "color": 0x2ECC71 if buy else 0xE74C3C,
                "fields": [
                    {"name": "Pair", "value": event.pair, "inline": True},
                    {"name": "Side", "value": str(event.side), "inline": True},
                    {"name": "Amount", "value": f"{event.amount:,}", "inline": True},
                    {"name": "Price", "value": f"${event.price}", "inline": True},
                    {"name": "P&L", "value": f"{event.pnl:+,}", "inline": True},
                    {"name": "Latency", "value": f"{event.latency_ms:.1f} ms", "inline": True},
                    {"name": "Strategy", "value": event.strategy, "inline": False},
                ],
                "footer": {"text": f"{SOURCE} · trade_executed"},
                "timestamp": datetime.now(UTC).isoformat(),
            }
        ],
    }


# -- measurements ------------------------------------------------------------------------


def measure_overhead(event: TradeExecuted, n: int) -> dict[str, Any]:
    time_calls(_empty, event, min(n, 100_000))  # warm up
    with gc_watch():
        samples = time_calls(_empty, event, n)
    result = summarize(samples, 0)
    result["overhead_ns"] = result["raw_ns"]["p50"]
    return result


def measure_publish(
    event: TradeExecuted,
    n: int,
    url: str,
    tmp: Path,
    overhead_ns: int,
    *,
    redis_up: bool,
    batch_size: int,
) -> dict[str, Any]:
    prefix = f"bench:latency:{time.time_ns()}"
    spool_path = tmp / f"latency-{time.time_ns()}.spool"
    expected = WARMUP + n
    pub = Publisher(
        url,
        source=SOURCE,
        buffer_size=max(2_000_000, expected + 1),
        batch_size=batch_size,
        maxlen=expected * 2,
        spool_path=spool_path,
        stream_prefix=prefix,
    )
    _cleanups.append(pub.close)
    drain_s: float | None = None
    try:
        for _ in range(WARMUP):
            pub.publish(event)
        if redis_up:
            if not pub.flush(60):
                raise RuntimeError("warm-up flush timed out")
        else:
            wait_until(lambda: pub.stats().spooled >= WARMUP, 60, "warm-up events spooled")
        with gc_watch() as seen:
            samples = time_calls(pub.publish, event, n)
        at_loop_end = pub.stats()
        if redis_up:
            t0 = time.perf_counter()
            if not pub.flush(300):
                raise RuntimeError("flush after the latency loop timed out")
            drain_s = time.perf_counter() - t0
        pub.close(300)
    finally:
        _cleanups.remove(pub.close)
    final = pub.stats()
    result = summarize(samples, overhead_ns)
    result.update(
        stats=stats_dict(final),
        buffered_at_loop_end=at_loop_end.buffered,
        drain_after_loop_s=None if drain_s is None else round(drain_s, 3),
        gc=gc_summary(seen),
        warmup=WARMUP,
    )
    if redis_up:
        client = redis.Redis.from_url(url)
        key = stream_key(Lane.NORMAL, prefix)
        result["delivered"] = client.xlen(key)
        client.delete(key)
        client.close()
    else:
        result["delivered"] = count_spooled(spool_path)
        spool_path.unlink()
    result["all_delivered"] = result["delivered"] == expected and final.dropped == 0
    return result


def measure_direct_xadd(event: TradeExecuted, n: int, url: str, overhead_ns: int) -> dict:
    client = redis.Redis.from_url(url, socket_timeout=5)
    key = stream_key(Lane.NORMAL, f"bench:direct:{time.time_ns()}")
    maxlen = 2 * (n + 1000)

    def call(ev: TradeExecuted) -> None:
        envelope = wrap(ev, source=SOURCE, now_ns=time.time_ns())
        client.xadd(key, {"e": encode(envelope)}, maxlen=maxlen, approximate=True)

    time_calls(call, event, 1000)
    with gc_watch() as seen:
        samples = time_calls(call, event, n)
    result = summarize(samples, overhead_ns)
    result["delivered"] = client.xlen(key) - 1000
    result["all_delivered"] = result["delivered"] == n
    result["gc"] = gc_summary(seen)
    client.delete(key)
    client.close()
    return result


def measure_http(event: TradeExecuted, n: int, overhead_ns: int) -> dict[str, Any]:
    with http_server() as port, httpx.Client(timeout=10.0) as client:
        url = f"http://127.0.0.1:{port}/api/webhooks/1/bench-token"
        status: dict[int, int] = {}

        def call(ev: TradeExecuted) -> None:
            code = client.post(url, json=render_embed(ev)).status_code
            status[code] = status.get(code, 0) + 1

        time_calls(call, event, 200)
        status.clear()
        with gc_watch() as seen:
            samples = time_calls(call, event, n)
    result = summarize(samples, overhead_ns)
    result["status_codes"] = {str(k): v for k, v in status.items()}
    result["all_delivered"] = status.get(204, 0) == n
    result["gc"] = gc_summary(seen)
    return result


def measure_throughput(
    event: TradeExecuted, n: int, url: str, tmp: Path, batch_size: int
) -> dict[str, Any]:
    """End to end (publish N then flush, concurrent drain) and pure drain (flush of a
    buffer already holding N events) into a live Redis, each checked with XLEN."""
    out: dict[str, Any] = {"events": n}
    client = redis.Redis.from_url(url)
    for mode in ("end_to_end", "drain"):
        prefix = f"bench:throughput:{mode}:{time.time_ns()}"
        key = stream_key(Lane.NORMAL, prefix)
        pub = Publisher(
            url,
            source=SOURCE,
            buffer_size=n + 10,
            batch_size=batch_size,
            maxlen=2 * (n + 1000),
            spool_path=tmp / f"{mode}-{time.time_ns()}.spool",
            stream_prefix=prefix,
        )
        _cleanups.append(pub.close)
        try:
            for _ in range(1000):  # connect and load the script before timing
                pub.publish(event)
            if not pub.flush(60):
                raise RuntimeError("warm-up flush timed out")
            publish = pub.publish
            gc.collect()
            if mode == "end_to_end":
                t0 = time.perf_counter()
                for _ in range(n):
                    publish(event)
                t_published = time.perf_counter()
                ok = pub.flush(300)
                t1 = time.perf_counter()
                out["end_to_end_events_per_s"] = round(n / (t1 - t0))
                out["end_to_end_s"] = round(t1 - t0, 3)
                out["publish_loop_events_per_s"] = round(n / (t_published - t0))
            else:
                # Keep the background thread off the GIL while the buffer fills: the main
                # thread never blocks here, so it is not asked to switch for a minute.
                interval = sys.getswitchinterval()
                sys.setswitchinterval(60.0)
                try:
                    for _ in range(n):
                        publish(event)
                finally:
                    sys.setswitchinterval(interval)
                before = pub.stats()
                t0 = time.perf_counter()
                ok = pub.flush(300)
                t1 = time.perf_counter()
                out["drain_buffered_at_start"] = before.buffered
                out["drain_events_per_s"] = round(before.buffered / (t1 - t0))
                out["drain_s"] = round(t1 - t0, 3)
            if not ok:
                raise RuntimeError(f"{mode}: flush timed out")
            pub.close(60)
        finally:
            _cleanups.remove(pub.close)
        delivered = client.xlen(key) - 1000
        out[f"{mode}_delivered"] = delivered
        out[f"{mode}_ok"] = delivered == n and pub.stats().dropped == 0
        client.delete(key)
    client.close()
    return out


def one_run(index: int, sizes: dict[str, int], tmp: Path) -> dict[str, Any]:
    event = make_event()
    run: dict[str, Any] = {"run": index, "loadavg_1m_at_start": os.getloadavg()[0]}
    overhead = measure_overhead(event, sizes["calls"])
    run["overhead"] = overhead
    ns = overhead["overhead_ns"]
    batch = sizes["batch_size"]
    log.info("run %d: timer overhead %d ns", index, ns)
    with redis_server(tmp / f"redis-{index}") as server:
        run["publish_up"] = measure_publish(
            event, sizes["calls"], server.url, tmp, ns, redis_up=True, batch_size=batch
        )
        log.info("run %d: publish (Redis up) done", index)
        run["throughput"] = measure_throughput(event, sizes["events"], server.url, tmp, batch)
        log.info("run %d: throughput done", index)
        run["direct_xadd"] = measure_direct_xadd(event, sizes["direct"], server.url, ns)
        log.info("run %d: direct xadd done", index)
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    run["publish_down"] = measure_publish(
        event, sizes["calls"], nobody, tmp, ns, redis_up=False, batch_size=batch
    )
    log.info("run %d: publish (Redis stopped) done", index)
    run["http_post"] = measure_http(event, sizes["http"], ns)
    log.info("run %d: httpx.post done", index)
    run["loadavg_1m_at_end"] = os.getloadavg()[0]
    return run


# -- report ------------------------------------------------------------------------------


def median_of(runs: list[dict[str, Any]], scenario: str, key: str) -> float:
    return statistics.median(run[scenario][key] for run in runs)


def fmt_us(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def notes_for(scenario: str, result: dict[str, Any]) -> str:
    gcs = result.get("gc", {})
    gen2 = gcs.get("gen2")
    gc_note = f"gen2 GC ×{gen2['count']} (max {gen2['max_ms']} ms)" if gen2 else "no gen2 GC"
    if scenario in ("publish_up", "publish_down"):
        s = result["stats"]
        return (
            f"flushed {s['flushed']:,} · spooled {s['spooled']:,} · dropped {s['dropped']:,}"
            f" · buffered at loop end {result['buffered_at_loop_end']:,}"
            f" · delivered {'ok' if result['all_delivered'] else 'MISMATCH'} · {gc_note}"
        )
    if scenario == "direct_xadd":
        return f"XLEN {'ok' if result['all_delivered'] else 'MISMATCH'} · {gc_note}"
    if scenario == "http_post":
        return f"status {result['status_codes']} · {gc_note}"
    return f"raw; its p50 ({result['overhead_ns']} ns) is subtracted from the rows below"


def build_report(runs: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    lines = [
        "### Per-call latency (µs, timer overhead subtracted)",
        "",
        "| scenario | run | calls | p50 | p99 | p99.9 | max | notes |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    medians: dict[str, dict[str, float]] = {}
    for scenario, label in SCENARIOS:
        for run in runs:
            r = run[scenario]
            cells = " | ".join(fmt_us(r[f"{k}_us"]) for k in ("p50", "p99", "p99_9", "max"))
            notes = notes_for(scenario, r)
            lines.append(f"| {label} | {run['run']} | {r['calls']:,} | {cells} | {notes} |")
        medians[scenario] = {
            k: median_of(runs, scenario, f"{k}_us") for k in ("p50", "p99", "p99_9", "max")
        }
        cells = " | ".join(f"**{fmt_us(medians[scenario][k])}**" for k in medians[scenario])
        lines.append(f"| {label} | median | | {cells} | |")

    lines += [
        "",
        "### Background thread into Redis (events/s)",
        "",
        "| run | events | end to end | publish loop alone | pure drain | XLEN check |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        t = run["throughput"]
        ok = "ok" if t["end_to_end_ok"] and t["drain_ok"] else "MISMATCH"
        lines.append(
            f"| {run['run']} | {t['events']:,} | {t['end_to_end_events_per_s']:,} |"
            f" {t['publish_loop_events_per_s']:,} | {t['drain_events_per_s']:,} | {ok} |"
        )
    tput = {
        k: statistics.median(run["throughput"][k] for run in runs)
        for k in ("end_to_end_events_per_s", "publish_loop_events_per_s", "drain_events_per_s")
    }
    lines.append(
        f"| median | | **{tput['end_to_end_events_per_s']:,.0f}** |"
        f" **{tput['publish_loop_events_per_s']:,.0f}** | **{tput['drain_events_per_s']:,.0f}** | |"
    )

    up, down = medians["publish_up"], medians["publish_down"]
    targets: list[tuple[str, str, bool]] = []
    for key, label in (("p50", "p50"), ("p99", "p99"), ("p99_9", "p99.9")):
        limit = TARGETS_US[key]
        worst = max(up[key], down[key])
        targets.append(
            (
                f"publish {label} ≤ {limit:g} µs",
                f"up {fmt_us(up[key])} / stopped {fmt_us(down[key])}",
                worst <= limit,
            )
        )
    same = all(
        down[k] - up[k] <= max(SAME_ABS_US, SAME_REL * up[k]) for k in ("p50", "p99", "p99_9")
    )
    targets.append(
        (
            "no slower with Redis stopped (p50/p99/p99.9 of stopped ≤ up "
            f"+ max({SAME_REL:.0%}, {SAME_ABS_US} µs))",
            " / ".join(
                f"{k.replace('_', '.')} {fmt_us(up[k])}→{fmt_us(down[k])}"
                for k in ("p50", "p99", "p99_9")
            ),
            same,
        )
    )
    slowest = min(tput["end_to_end_events_per_s"], tput["drain_events_per_s"])
    targets.append(
        (
            f"background thread ≥ {TARGET_EVENTS_PER_S:,} events/s",
            f"end to end {tput['end_to_end_events_per_s']:,.0f} / "
            f"drain {tput['drain_events_per_s']:,.0f}",
            slowest >= TARGET_EVENTS_PER_S,
        )
    )
    lines += ["", "### Targets (medians across runs)", "", "| target | measured | met |"]
    lines.append("|---|---|---|")
    lines += [f"| {t} | {m} | {'yes' if ok else '**no**'} |" for t, m, ok in targets]
    summary = {
        "latency_medians_us": medians,
        "throughput_medians": tput,
        "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in targets],
    }
    return "\n".join(lines), summary


def machine_info() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    here = Path(__file__).resolve().parent
    git = subprocess.run(
        ["git", "-C", str(here), "describe", "--always", "--dirty", "--exclude", "*"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "git": git or "unknown",
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "redis_server": version,
        "producer_module": str(Path(sys.modules[Publisher.__module__].__file__ or "?")),
        "gil_switch_interval_s": sys.getswitchinterval(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--calls", type=int, help="publish() calls per run (default 1,000,000)")
    parser.add_argument("--runs", type=int, help="runs (default 3)")
    parser.add_argument("--direct-calls", type=int, help="baseline A calls (default 100,000)")
    parser.add_argument("--http-calls", type=int, help="baseline B calls (default 20,000)")
    parser.add_argument("--events", type=int, help="throughput events per run (default 500,000)")
    parser.add_argument(
        "--batch-size", type=int, help="Publisher batch_size (default: the Publisher's 1,000)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--json", type=Path, help="also write all results here")
    parser.add_argument("--max-seconds", type=float, default=1800, help="abort after this")
    args = parser.parse_args(argv)

    sizes = {**(QUICK if args.quick else FULL), "batch_size": DEFAULT_BATCH_SIZE}
    for key, value in (
        ("calls", args.calls),
        ("runs", args.runs),
        ("direct", args.direct_calls),
        ("http", args.http_calls),
        ("events", args.events),
        ("batch_size", args.batch_size),
    ):
        if value is not None:
            if value < 1:
                parser.error(f"--{key} must be positive")
            sizes[key] = value

    # WARNING for libraries: httpx logs every request at INFO, which would be timed too.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    start_watchdog(args.max_seconds)
    info = machine_info()
    python = os.path.relpath(sys.executable)
    python = python if not python.startswith("..") else sys.executable
    command = " ".join(shlex.quote(a) for a in [python, *sys.argv])
    log.info("sizes %s on %s", sizes, info["cpu"])
    started = time.perf_counter()
    runs = []
    with tempfile.TemporaryDirectory(prefix="publish-bench-") as tmp:
        for index in range(1, sizes["runs"] + 1):
            runs.append(one_run(index, sizes, Path(tmp)))
            gc.collect()
    table, summary = build_report(runs)
    elapsed = time.perf_counter() - started

    print()
    print(
        f"Machine: {info['nproc']} CPUs, {info['cpu']}, {info['implementation']} "
        f"{info['python']}, {info['redis_server'].split(' sha=')[0]} (AOF off), "
        f"GIL switch interval {info['gil_switch_interval_s'] * 1e3:g} ms"
    )
    print(f"Code: git {info['git']}, producer from {info['producer_module']}")
    print(f"Command: {command}  ({elapsed:.0f} s)")
    print(
        f"Sizes: {sizes['calls']:,} publish() calls, {sizes['direct']:,} XADD, "
        f"{sizes['http']:,} POST, {sizes['events']:,} throughput events per run; "
        f"{sizes['runs']} runs; Publisher batch_size {sizes['batch_size']:,}; "
        f"{WARMUP:,} warm-up publishes before each latency loop"
    )
    print()
    print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "machine": info,
            "command": command,
            "sizes": sizes,
            "elapsed_s": round(elapsed, 1),
            "warmup_calls": WARMUP,
            "summary": summary,
            "runs": runs,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
