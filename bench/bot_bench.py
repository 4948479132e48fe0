"""Herald bot benchmark: the initial response to /status, /positions and /pnl under 50
concurrent signed interactions (target p99 <= 50 ms; Discord allows 3 s).

    .venv/bin/python bench/bot_bench.py                # 3 runs x 20 rounds x 50 per command
    .venv/bin/python bench/bot_bench.py --quick        # smoke run (a few seconds)

The bot is the production command, `herald bot`, in its own process, against a
throwaway redis-server (AOF on, as deployed) holding a day of books (2,000 trades over 4
pairs, counted by the real books consumer). The load generator (this process) signs
every interaction with a real Ed25519 key the bot is configured with, builds each round
of 50 before timing it, then sends the 50 at once over 50 connections and times each
from send to the whole response read. Every answer is checked (HTTP 200 and type 4, or
5 for /pnl, whose figures and chart are finished by an RQ job that is not timed here).
/status shares one snapshot between concurrent askers for up to 1 s (bot/health.py): a
round of 50 costs one snapshot, which is how it would go in a busy guild too. The run is
bounded by `--max-seconds`: a watchdog kills the bot and exits 3.
"""

import argparse
import asyncio
import json
import os
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

import aiohttp
import psutil
from nacl.signing import SigningKey

from books.service import Books
from books.settings import DEFAULT
from ground.proc import free_port, wait_until
from herald.redis_server import RedisServer
from producer import Publisher
from schemas import Side, TradeExecuted

ROOT = Path(__file__).resolve().parents[1]
COMMANDS: dict[str, dict[str, Any]] = {
    "status": {"name": "status", "type": 1},
    "positions": {"name": "positions", "type": 1},
    "pnl": {"name": "pnl", "type": 1, "options": [{"name": "period", "type": 3, "value": "daily"}]},
}
EXPECTED_TYPE = {"status": 4, "positions": 4, "pnl": 5}
TARGET_P99_MS = 50.0
APP_ID = "111111111111111111"


def books_day(url: str, trades: int) -> None:
    """A day of trades over 4 pairs, published and counted by the real books consumer."""
    now = datetime.now(UTC)
    with Publisher(url, source="bench") as pub:
        for i in range(trades):
            pub.publish(
                TradeExecuted(
                    pair=("XRP/USD", "BTC/USD", "ETH/USD", "SOL/USD")[i % 4],
                    side=Side.BUY if i % 3 else Side.SELL,
                    amount=Decimal(100 + i % 50),
                    price=Decimal("0.52"),
                    pnl=Decimal(i % 7 - 3),
                    latency_ms=1.5,
                    strategy="momentum",
                    executed_at=now - timedelta(seconds=trades - i),
                )
            )
        pub.flush(timeout=30)
    import redis

    Books(redis.Redis.from_url(url), DEFAULT, name="bench-books", block_ms=20).run(
        threading.Event(), drain=True
    )


class Load:
    def __init__(self, url: str, key: SigningKey) -> None:
        self.url = url
        self.key = key
        self.n = 0

    def signed(self, command: str) -> tuple[bytes, dict[str, str]]:
        self.n += 1
        body = json.dumps(
            {
                "id": f"{time.time_ns()}{self.n}",
                "type": 2,
                "application_id": APP_ID,
                "token": f"bench-token-{self.n}",
                "guild_id": "1",
                "member": {"user": {"id": "42"}, "roles": []},
                "data": COMMANDS[command],
            }
        ).encode()
        stamp = str(int(time.time()))
        signature = self.key.sign(stamp.encode() + body).signature.hex()
        return body, {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": stamp}

    async def one(self, http: aiohttp.ClientSession, command: str, req: Any) -> float:
        body, headers = req
        started = time.perf_counter()
        async with http.post(self.url, data=body, headers=headers) as response:
            answer = await response.json()
        took = (time.perf_counter() - started) * 1000
        if response.status != 200 or answer.get("type") != EXPECTED_TYPE[command]:
            raise RuntimeError(f"/{command}: HTTP {response.status}: {answer}")
        return took

    async def rounds(self, command: str, rounds: int, concurrency: int) -> list[float]:
        connector = aiohttp.TCPConnector(limit=concurrency)
        times: list[float] = []
        async with aiohttp.ClientSession(connector=connector) as http:
            for _ in range(2):  # warm the connections (not counted)
                await asyncio.gather(*(self.one(http, command, self.signed(command))
                                       for _ in range(concurrency)))  # fmt: skip
            for _ in range(rounds):
                batch = [self.signed(command) for _ in range(concurrency)]
                times += await asyncio.gather(*(self.one(http, command, r) for r in batch))
        return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_bot(tmp: Path, redis_url: str, key: SigningKey, port: int) -> subprocess.Popen[bytes]:
    config = tmp / "herald.toml"
    config.write_text('[bot]\nservices = ["api"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env.update(
        HERALD_REDIS_URL=redis_url,
        HERALD_CONFIG=str(config),
        HERALD_DISCORD_PUBLIC_KEY=key.verify_key.encode().hex(),
        HERALD_DISCORD_APPLICATION_ID=APP_ID,
    )
    log = open(tmp / "bot.log", "wb")  # noqa: SIM115
    cmd = [sys.executable, "-m", "herald.cli", "bot", "--port", str(port), "--log-level", "WARNING"]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)


def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    server = RedisServer(tmp / "redis")
    server.start()
    key = SigningKey.generate()
    port = free_port()
    bot = start_bot(tmp, server.url, key, port)
    try:
        books_day(server.url, args.trades)
        load = Load(f"http://127.0.0.1:{port}/interactions", key)
        wait_until(lambda: _up(port), 20, "herald bot to listen")
        proc = psutil.Process(bot.pid)
        results: dict[str, Any] = {}
        for command in COMMANDS:
            runs = []
            for _ in range(args.runs):
                cpu = proc.cpu_times()
                times = asyncio.run(load.rounds(command, args.rounds, args.concurrency))
                used = proc.cpu_times()
                runs.append({
                    "requests": len(times), "p50_ms": pct(times, 50), "p99_ms": pct(times, 99),
                    "max_ms": max(times), "mean_ms": statistics.fmean(times),
                    "bot_cpu_ms_per_request": 1000 * (used.user + used.system - cpu.user
                                                      - cpu.system) / len(times),
                })  # fmt: skip
            results[command] = {"runs": runs, "p99_ms_median": statistics.median(
                r["p99_ms"] for r in runs)}  # fmt: skip
        return results
    finally:
        bot.terminate()
        bot.wait(15)
        server.stop()


def _up(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"### Bot: initial response under {args.concurrency} concurrent signed interactions")
    print(
        f"({args.runs} run(s) x {args.rounds} rounds x {args.concurrency} per command; "
        f"load average before/after: {results['_load'][0]:.2f} / {results['_load'][1]:.2f} "
        f"on {os.cpu_count()} CPUs: other work on the machine shows in the tail)\n"
    )
    print("| command | run | requests | p50 ms | p99 ms | max ms | bot CPU ms/request |")
    print("|---|---|---|---|---|---|---|")
    for command, found in results.items():
        if command.startswith("_"):
            continue
        for i, r in enumerate(found["runs"], 1):
            print(f"| /{command} | {i} | {r['requests']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
                  f"| {r['max_ms']:.1f} | {r['bot_cpu_ms_per_request']:.2f} |")  # fmt: skip
    print()
    for command, found in results.items():
        if command.startswith("_"):
            continue
        verdict = "met" if found["p99_ms_median"] <= TARGET_P99_MS else "MISSED"
        print(f"/{command}: p99 median of runs {found['p99_ms_median']:.1f} ms "
              f"(target <= {TARGET_P99_MS:.0f} ms: {verdict})")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 run x 3 rounds, 200 trades")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--trades", type=int, default=2000)
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--max-seconds", type=float, default=600)
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.rounds, args.trades = 1, 3, 200
    timer = threading.Timer(args.max_seconds, lambda: os._exit(3))
    timer.daemon = True
    timer.start()
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as tmp:
        results = bench(args, Path(tmp))
    results["_load"] = (before, os.getloadavg()[0])
    report(results, args)
    if args.json:
        args.json.write_text(json.dumps({"config": vars(args) | {"json": str(args.json)},
                                         "results": results}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
