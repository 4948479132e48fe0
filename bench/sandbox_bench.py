"""Is the sandbox fast enough not to be the bottleneck? Accepted requests/s on loopback.

Starts `python -m sandbox --no-limits` as its own process, then drives it from this
process with CONCURRENCY aiohttp connections posting realistic Herald payloads
(`sandbox.demo`, incl. a 9-embed batch) with `?wait=true`, validation on. Reports
per-run throughput and latency, and the median over runs.

    .venv/bin/python bench/sandbox_bench.py --runs 3 --seconds 5 --concurrency 16
"""

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import httpx

from ground.proc import free_port, wait_until
from sandbox.demo import FAMILIES, batched
from sandbox.webhooks import channel_webhooks

ROOT = Path(__file__).resolve().parent.parent


def payloads() -> list[tuple[str, bytes]]:
    """(channel, body) pairs: every family once, plus one coalesced 9-embed batch."""
    bodies = [(channel, json.dumps(p).encode()) for channel, p in FAMILIES.values()]
    batch = batched(*(p for _, p in FAMILIES.values()))
    bodies.append(("trading-alerts", json.dumps(batch).encode()))
    return bodies


async def drive(
    base_url: str, seconds: float, concurrency: int, client: str = "raw"
) -> tuple[int, int, list[float]]:
    """Post round-robin payloads from `concurrency` keep-alive connections for `seconds`."""
    urls = channel_webhooks(base_url)
    work = [(urls[channel] + "?wait=true", body) for channel, body in payloads()]
    latencies: list[float] = []
    counts = {"ok": 0, "other": 0}
    deadline = time.perf_counter() + seconds

    def record(start: float, status: int) -> None:
        latencies.append(time.perf_counter() - start)
        counts["ok" if status == 200 else "other"] += 1

    if client == "aiohttp":
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def aiohttp_worker(offset: int) -> None:
                i = offset
                while time.perf_counter() < deadline:
                    url, body = work[i % len(work)]
                    i += 1
                    start = time.perf_counter()
                    async with session.post(url, data=body, headers=HEADERS) as response:
                        await response.read()
                    record(start, response.status)

            await asyncio.gather(*(aiohttp_worker(n) for n in range(concurrency)))
    else:
        host, port = urlsplit(base_url).hostname or "", urlsplit(base_url).port or 80
        requests = [raw_request(url, body, f"{host}:{port}") for url, body in work]

        async def raw_worker(offset: int) -> None:
            reader, writer = await asyncio.open_connection(host, port)
            i = offset
            try:
                while time.perf_counter() < deadline:
                    request = requests[i % len(requests)]
                    i += 1
                    start = time.perf_counter()
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = int(head[9:12])
                    length = int(_CONTENT_LENGTH.search(head).group(1))  # type: ignore[union-attr]
                    await reader.readexactly(length)
                    record(start, status)
            finally:
                writer.close()

        await asyncio.gather(*(raw_worker(n) for n in range(concurrency)))
    return counts["ok"], counts["other"], latencies


HEADERS = {"Content-Type": "application/json", "User-Agent": "DiscordBot (herald-bench, 0.1)"}
_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


def raw_request(url: str, body: bytes, host: str) -> bytes:
    """A complete keep-alive HTTP/1.1 POST, built once: the raw client only writes bytes."""
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"User-Agent: DiscordBot (herald-bench, 0.1)\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--client",
        choices=("raw", "aiohttp"),
        default="raw",
        help="raw: pre-built HTTP/1.1 bytes over asyncio streams (cheap, so the server is what "
        "is measured); aiohttp: aiohttp's client (costs about as much CPU as the server)",
    )
    args = parser.parse_args()

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--no-limits", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _up(base_url), 15, "sandbox to answer")
        invalid = {"embeds": [{"title": "x" * 257}]}
        rejected = httpx.post(channel_webhooks(base_url)["market-data"], json=invalid)
        assert rejected.status_code == 400, "validation must be on for the benchmark to count"
        results = []
        for run in range(1, args.runs + 1):
            httpx.post(base_url + "/admin/reset")
            cpu_before = process_cpu_seconds(server.pid)
            started = time.perf_counter()
            ok, other, lat = asyncio.run(
                drive(base_url, args.seconds, args.concurrency, args.client)
            )
            elapsed = time.perf_counter() - started
            cpu_us = (process_cpu_seconds(server.pid) - cpu_before) / max(1, ok + other) * 1e6
            rps = ok / elapsed
            p50, p99 = percentile(lat, 0.50) * 1000, percentile(lat, 0.99) * 1000
            results.append((rps, p50, p99, cpu_us))
            print(
                f"run {run}: {ok} accepted ({other} other) in {elapsed:.2f}s = {rps:,.0f} req/s, "
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, server CPU {cpu_us:.0f} us/request"
            )
            if other:
                print(f"  WARNING: {other} requests were not accepted")
        stats = httpx.get(base_url + "/admin/stats").json()
    finally:
        server.terminate()
        server.wait(10)
    print(
        f"median of {args.runs} runs: {statistics.median(r[0] for r in results):,.0f} req/s, "
        f"p50 {statistics.median(r[1] for r in results):.2f} ms, "
        f"p99 {statistics.median(r[2] for r in results):.2f} ms, "
        f"server CPU {statistics.median(r[3] for r in results):.0f} us/request "
        f"(= {1e6 / statistics.median(r[3] for r in results):,.0f} req/s per core)"
    )
    print(f"load average at end: {os.getloadavg()}")
    print(
        f"machine: nproc={os.cpu_count()}, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )
    print(
        f"last run server counters: messages={stats['messages']} bad_request={stats['bad_request']}"
    )
    return 0


def process_cpu_seconds(pid: int) -> float:
    """User+system CPU of another process (Linux): the server's cost, whatever else runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _up(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/admin/stats", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())
