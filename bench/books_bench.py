"""Herald books benchmark: keeping up with a burst of trades, a month's figures over a
million trades, and Redis memory per day of books.

    .venv/bin/python bench/books_bench.py                  # all three parts (~3 min)
    .venv/bin/python bench/books_bench.py --only burst     # 3 runs: 20,000 trades/s for 5 s
    .venv/bin/python bench/books_bench.py --only month     # 1,000,000 trades over November
    .venv/bin/python bench/books_bench.py --only memory    # one day of 100,000 trades
    .venv/bin/python bench/books_bench.py --quick          # smoke run (~15 s)

Every part uses a throwaway redis-server (AOF on, as deployed).

1. Burst (`--only burst`): the production command, `herald books`, as its own process.
   The bench pre-encodes real `trade_executed` envelopes (3 pairs x 3 strategies,
   executed now) and appends them to the normal lane with the producer's own XADD
   script (`producer.streams.XADD_MANY`), paced every 10 ms to `--rate` trades/s for
   `--seconds`. A second connection samples the books' lag every 50 ms
   (`books.service.books_lag`: now - the stream time of the oldest entry not yet
   counted). Reported: publish rate achieved, the books' counting rate during the burst,
   the worst lag, the time from the burst's end until the lag is under 1 s and until
   every entry is counted, the books process's CPU (psutil), and that the day's figures
   hold exactly the trades published.
2. Month (`--only month`): 1,000,000 synthetic trades spread over the 30 days of
   November 2026 (5 pairs x 4 strategies) are counted by the real tally and apply script
   (`books.tally.tally` + `books.script.Apply`, in batches of 1,000, not through a stream:
   same aggregates, faster to build). Then `books.query.figures` for the month (with its
   by-pair and by-strategy breakdowns and the daily series) is timed `--repeat` times;
   its trade count and P&L are checked against the sums of what was generated. So is
   the whole monthly report as the reporter renders it at the close (figures, the
   `PnlReport` event and the chart PNG: `books.reports`), against the 1 s goal.
3. Memory (`--only memory`): INFO `used_memory` before and after counting 100,000 trades
   of one day (through the same tally + script), and MEMORY USAGE summed per kind of key.
"""

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from books.periods import period_for_date  # noqa: E402
from books.query import figures  # noqa: E402
from books.reports import chart_png, report_event  # noqa: E402
from books.script import Apply  # noqa: E402
from books.service import books_lag  # noqa: E402
from books.settings import DEFAULT  # noqa: E402
from books.tally import Calendar, tally  # noqa: E402
from ground import keyspace  # noqa: E402
from ground.proc import wait_until  # noqa: E402
from herald.redis_server import RedisServer  # noqa: E402
from producer.streams import XADD_MANY, stream_key  # noqa: E402
from schemas import Side, TradeExecuted  # noqa: E402
from schemas.base import Lane  # noqa: E402
from schemas.codec import encode  # noqa: E402
from schemas.envelope import Envelope, wrap  # noqa: E402

PAIRS = ("XRP/USD", "BTC/USD", "ETH/USD", "SOL/USD", "ADA/USD")
STRATEGIES = ("momentum", "meanrev", "breakout", "arb")


def make_trade(rng: random.Random, at: datetime, pairs: int, strategies: int) -> Envelope:
    cents = rng.randint(-5000, 5000)
    event = TradeExecuted(
        pair=PAIRS[rng.randrange(pairs)],
        side=Side.BUY if rng.random() < 0.5 else Side.SELL,
        amount=Decimal(rng.randint(1, 100_000)) / 100,
        price=Decimal(rng.randint(400_000, 600_000)) / 1_000_000,
        pnl=Decimal(cents) / 100,
        latency_ms=rng.randint(1, 50_000) / 1000,
        strategy=STRATEGIES[rng.randrange(strategies)],
        executed_at=at,
    )
    return wrap(event, source="trade-server", now_ns=int(at.timestamp() * 1e9))


# -- 1. burst ---------------------------------------------------------------------------------


def burst_run(tmp: Path, rate: int, seconds: float, seed: int) -> dict[str, Any]:
    server = RedisServer(tmp / "redis")
    server.start()
    client = server.client()
    books = None
    try:
        env = {**os.environ, "HERALD_REDIS_URL": server.url}
        env.pop("HERALD_CONFIG", None)
        log = open(tmp / "books.log", "ab")  # noqa: SIM115
        books = subprocess.Popen(
            [sys.executable, "-m", "herald.cli", "books", "--name", "bench-books"],
            env=env, stdout=log, stderr=log, cwd=tmp,
        )  # fmt: skip
        wait_until(lambda: keyspace.BOOKS_GROUP.encode() in _groups(client), 20, "books group")
        rng = random.Random(seed)
        total = int(rate * seconds)
        now = datetime.now(UTC)
        blobs = [encode(make_trade(rng, now, 3, 3)) for _ in range(total)]
        proc = psutil.Process(books.pid)
        cpu0 = _cpu(proc)
        samples: list[tuple[float, float, int]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample, args=(server, samples, stop), daemon=True)
        t0 = time.monotonic()
        sampler.start()
        sent = _publish(client, blobs, rate, t0)
        t_end = time.monotonic()
        counted_at_end = _counted(client)
        wait_until(lambda: _lag_s(client) < 1.0, 120, "the books' lag under 1 s", 0.01)
        t_under = time.monotonic()
        wait_until(lambda: books_lag(client).caught_up, 120, "books to catch up", 0.01)
        t_done = time.monotonic()
        stop.set()
        sampler.join()
        cpu = _cpu(proc) - cpu0
        day = period_for_date("daily", datetime.now(UTC).date(), DEFAULT)
        return {
            "trades": total,
            "publish_s": round(t_end - t0, 3),
            "publish_rate": round(sent / (t_end - t0)),
            "counted_during_burst": counted_at_end,
            "count_rate_during_burst": round(counted_at_end / (t_end - t0)),
            "max_lag_s": round(max((lag for _, lag, _ in samples), default=0.0), 3),
            "lag_under_1s_after_end_s": round(t_under - t_end, 3),
            "lag_at_end_s": round(_lag_at(samples, t_end - t0), 3),
            "caught_up_after_end_s": round(t_done - t_end, 3),
            "books_cpu_s": round(cpu, 2),
            "books_cpu_per_1000_trades_ms": round(cpu / total * 1e6, 1),
            "figures_trades": _trades_today(client, day),
        }
    finally:
        if books is not None:
            books.terminate()
            books.wait(15)
        server.stop()


def _groups(client: redis.Redis) -> set[bytes]:
    try:
        return {g["name"] for g in client.xinfo_groups(stream_key(Lane.NORMAL))}
    except redis.ResponseError:
        return set()


def _publish(client: redis.Redis, blobs: list[bytes], rate: int, t0: float) -> int:
    xadd = client.register_script(XADD_MANY)
    stream = stream_key(Lane.NORMAL)
    sent = 0
    while sent < len(blobs):
        due = min(len(blobs), int((time.monotonic() - t0) * rate) + 1)
        while sent < due:
            chunk = blobs[sent : min(due, sent + 500)]
            xadd(keys=[stream], args=[keyspace.STREAM_MAXLEN, *chunk])
            sent += len(chunk)
        time.sleep(0.01)
    return sent


def _sample(
    server: RedisServer, out: list[tuple[float, float, int]], stop: threading.Event
) -> None:
    client = server.client()
    t0 = time.monotonic()
    while not stop.is_set():
        lag = books_lag(client)
        out.append((time.monotonic() - t0, lag.seconds(int(time.time() * 1000)), lag.unread))
        stop.wait(0.05)


def _lag_s(client: redis.Redis) -> float:
    return books_lag(client).seconds(int(time.time() * 1000))


def _lag_at(samples: list[tuple[float, float, int]], at: float) -> float:
    """The sampled lag nearest before `at` (0 if none)."""
    before = [lag for t, lag, _ in samples if t <= at]
    return before[-1] if before else 0.0


def _counted(client: redis.Redis) -> int:
    day = period_for_date("daily", datetime.now(UTC).date(), DEFAULT)
    return _trades_today(client, day)


def _trades_today(client: redis.Redis, day: Any) -> int:
    return figures(client, day).trades


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


# -- 2. a month of a million trades -------------------------------------------------------------


def count_directly(client: redis.Redis, envelopes: list[Envelope]) -> None:
    apply, calendar = Apply(client, DEFAULT.recent_trades), Calendar(DEFAULT)
    for i in range(0, len(envelopes), 1000):
        batch = tally(envelopes[i : i + 1000], calendar, set())
        assert apply(batch, {}, int(time.time() * 1000)) == []


def month_part(tmp: Path, trades: int, repeat: int, seed: int) -> dict[str, Any]:
    server = RedisServer(tmp / "redis-month")
    server.start()
    try:
        client = server.client()
        rng = random.Random(seed)
        start = datetime(2026, 11, 1, tzinfo=UTC)
        step = timedelta(days=30) / trades
        built0, pnl_sum, chunk = time.monotonic(), Decimal(0), 50_000
        for first in range(0, trades, chunk):
            span = range(first, min(trades, first + chunk))
            envs = [make_trade(rng, start + step * i, 5, 4) for i in span]
            pnl_sum += sum((e.event.pnl for e in envs), Decimal(0))  # type: ignore[union-attr]
            count_directly(client, envs)
        build_s = time.monotonic() - built0
        month = period_for_date("monthly", start.date(), DEFAULT)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            f = figures(client, month)
            f.to_json()
            times.append(time.perf_counter() - t)
        assert f.trades == trades, (f.trades, trades)
        assert f.pnl == pnl_sum, (f.pnl, pnl_sum)
        report_times = []  # what the reporter does at the close: figures, event, chart PNG
        for _ in range(repeat):
            t = time.perf_counter()
            f = figures(client, month)
            report_event(month, f)
            png = chart_png(month, f)
            report_times.append(time.perf_counter() - t)
        return {
            "trades": trades,
            "build_s": round(build_s, 1),
            "build_rate": round(trades / build_s),
            "figures_ms": [round(t * 1000, 1) for t in times],
            "figures_median_ms": round(statistics.median(times) * 1000, 1),
            "figures_max_ms": round(max(times) * 1000, 1),
            "report_ms": [round(t * 1000, 1) for t in report_times],
            "report_median_ms": round(statistics.median(report_times) * 1000, 1),
            "report_max_ms": round(max(report_times) * 1000, 1),
            "chart_png_bytes": len(png),
            "series_points": len(f.series),
            "pairs": len(f.by_pair),
            "strategies": len(f.by_strategy),
            "checked": {"trades": f.trades, "pnl": str(f.pnl)},
        }
    finally:
        server.stop()


# -- 3. memory per day ---------------------------------------------------------------------------


def memory_part(tmp: Path, trades: int, seed: int) -> dict[str, Any]:
    server = RedisServer(tmp / "redis-memory")
    server.start()
    try:
        client = server.client()
        rng = random.Random(seed)
        start = datetime(2026, 12, 1, tzinfo=UTC)
        step = timedelta(days=1) / trades
        envs = [make_trade(rng, start + step * i, 3, 3) for i in range(trades)]
        before = int(client.info("memory")["used_memory"])
        count_directly(client, envs)
        after = int(client.info("memory")["used_memory"])
        kinds: dict[str, int] = {}
        for key in client.scan_iter(match=keyspace.BOOKS_PREFIX + "*", count=1000):
            kind = key.decode()[len(keyspace.BOOKS_PREFIX) :].split(":")[0]
            kinds[kind] = kinds.get(kind, 0) + int(client.memory_usage(key, samples=0) or 0)
        return {
            "trades": trades,
            "used_memory_delta_bytes": after - before,
            "by_kind_bytes": dict(sorted(kinds.items())),
            "keys": int(client.dbsize()),
        }
    finally:
        server.stop()


# -- the run -------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--only", choices=["burst", "month", "memory"])
    p.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rate", type=int, default=20_000)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--month-trades", type=int, default=1_000_000)
    p.add_argument("--day-trades", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.rate, args.seconds = 1, 2_000, 1.0
        args.month_trades, args.day_trades, args.repeat = 20_000, 5_000, 3
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if shutil.which("redis-server") is None:
        print("books_bench: redis-server not found on PATH", file=sys.stderr)
        return 2
    results: dict[str, Any] = {"machine": machine(), "config": vars(args) | {"json": None}}
    with tempfile.TemporaryDirectory(prefix="books-bench-") as name:
        tmp = Path(name)
        if args.only in (None, "burst"):
            runs = [
                burst_run(tmp / f"burst-{i}", args.rate, args.seconds, args.seed + i)
                for i in range(args.runs)
            ]
            results["burst"] = {"runs": runs, **_medians(runs)}
        if args.only in (None, "month"):
            results["month"] = month_part(tmp, args.month_trades, args.repeat, args.seed)
        if args.only in (None, "memory"):
            results["memory"] = memory_part(tmp, args.day_trades, args.seed)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("count_rate_during_burst", "max_lag_s", "lag_under_1s_after_end_s",
            "caught_up_after_end_s", "books_cpu_per_1000_trades_ms")  # fmt: skip
    out = {}
    for key in keys:
        values = [r[key] for r in runs if r[key] is not None]
        out[f"median_{key}"] = statistics.median(values) if values else None
    return out


def report(results: dict[str, Any]) -> None:
    m = results["machine"]
    print(f"Machine: {m['nproc']} CPUs, Python {m['python']}, {m['redis']}, load {m['load']}")
    if "burst" in results:
        print("\n### Burst: `herald books` behind a burst of trades\n")
        print(
            "| run | trades | publish/s | counted/s in burst | max lag s | lag < 1 s after end s "
            "| caught up after end s | CPU ms / 1000 trades | figures trades |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for i, r in enumerate(results["burst"]["runs"]):
            print(f"| {i + 1} | {r['trades']} | {r['publish_rate']} | "
                  f"{r['count_rate_during_burst']} "
                  f"| {r['max_lag_s']} | {r['lag_under_1s_after_end_s']} | "
                  f"{r['caught_up_after_end_s']} | {r['books_cpu_per_1000_trades_ms']} | "
                  f"{r['figures_trades']} |")  # fmt: skip
    if "month" in results:
        r = results["month"]
        print("\n### Month: figures() over a month of trades\n")
        print(f"| trades | built in s | figures ms (median / max of {len(r['figures_ms'])}) |")
        print("|---|---|---|")
        timing = f"{r['figures_median_ms']} / {r['figures_max_ms']}"
        print(f"| {r['trades']} | {r['build_s']} | {timing} |")
        print(
            f"\nThe monthly report (figures + event + chart PNG of {r['chart_png_bytes']} bytes):"
            f" median {r['report_median_ms']} ms, max {r['report_max_ms']} ms (goal <= 1,000 ms)"
        )
    if "memory" in results:
        r = results["memory"]
        print("\n### Memory: one day of books\n")
        print("| trades | used_memory delta MB | by kind of key (MEMORY USAGE, MB) |")
        print("|---|---|---|")
        kinds = ", ".join(f"{k} {v / 1e6:.2f}" for k, v in r["by_kind_bytes"].items())
        print(f"| {r['trades']} | {r['used_memory_delta_bytes'] / 1e6:.2f} | {kinds} |")


def machine() -> dict[str, Any]:
    version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "redis": version.split()[2] if version else "?",
        "load": [round(x, 2) for x in os.getloadavg()],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    sys.exit(main())
