"""Redis CPU per 1,000 events/s through the real pipeline, on Sentinel (and the failover run).

    .venv/bin/python bench/failover_bench.py cpu --rates 500 1000 2000 --seconds 20
    .venv/bin/python bench/failover_bench.py cpu --quick          # smoke (< 60 s)
    .venv/bin/python bench/failover_bench.py failover --seconds 600 --failovers 8

`cpu`: one primary, one replica, three Sentinels (tests/ha/cluster.py), the sandbox as
Discord (default limits), `herald dispatch` and two `herald worker` processes given the
Sentinel address. For each rate a `Publisher` (with `WAIT 1` per batch) publishes the
chaos workload's mix (almost all market data, as a trading system sends it) for
`--seconds`; the CPU time the primary and the replica `redis-server` spent (utime +
stime, /proc/<pid>/stat) over the steady window is divided by the events published. The
dispatcher must keep up (its backlog at the end is printed); Discord's limits cap what
is delivered, so the digest channel carries the volume and the outbox of #market-data is
what Redis holds meanwhile.

`failover`: the chaos run of tests/ha/failover_run.py with its own options.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ground.connect import sync_client  # noqa: E402
from ground.proc import wait_until  # noqa: E402
from producer import Publisher  # noqa: E402
from producer.streams import LANES, stream_key  # noqa: E402
from tests.chaos.stack import Stack, StackOptions  # noqa: E402
from tests.chaos.workload import MAKERS, Mix  # noqa: E402
from tests.ha.cluster import Sentinels  # noqa: E402
from tests.ha.failover_run import Host, engine_env  # noqa: E402
from worker.lanes import lag_and_pending  # noqa: E402

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime, stime


def publish_at(pub: Any, rate: float, seconds: float) -> int:
    """Publish the chaos mix scaled to `rate` events/s for `seconds`; how many."""
    import random

    rng = random.Random(rate)
    others = Mix().total - Mix().market
    mix = Mix(market=max(1.0, rate - others))
    streams = [(name, getattr(mix, name)) for name in MAKERS]
    due, sent = dict.fromkeys(MAKERS, 0.0), 0
    start = last = time.monotonic()
    while (now := time.monotonic()) - start < seconds:
        elapsed, last = now - last, now
        for name, per_s in streams:
            due[name] += per_s * elapsed
            while due[name] >= 1:
                due[name] -= 1
                pub.publish(MAKERS[name](rng))
                sent += 1
        time.sleep(0.005)  # pacing the workload, not synchronisation
    return sent


def measure(cluster: Sentinels, rate: float, seconds: float) -> dict[str, Any]:
    primary, replica = cluster.primary(), cluster.replica()
    assert primary.process is not None
    assert replica.process is not None
    client = sync_client(cluster.url, socket_timeout=30)
    with Publisher(cluster.url, source=f"cpu-{rate:.0f}") as pub:
        publish_at(pub, rate, 2.0)  # warm up: scripts loaded, outboxes growing
        pub.flush(30)
        calls0 = _commandstats(primary.client(5))
        p0, r0, t0 = (
            cpu_seconds(primary.process.pid),
            cpu_seconds(replica.process.pid),
            time.monotonic(),
        )
        sent = publish_at(pub, rate, seconds)
        pub.flush(60)
        wait_until(lambda: _backlog(client) < rate, 60, "the dispatcher to catch up", 0.1)
        wall = time.monotonic() - t0
        p1, r1 = cpu_seconds(primary.process.pid), cpu_seconds(replica.process.pid)
        calls1 = _commandstats(primary.client(5))
        stats = pub.stats()
    achieved = sent / wall
    return {
        "rate_asked": rate,
        "events": sent,
        "events_per_s": round(achieved, 1),
        "wall_s": round(wall, 1),
        "spooled": stats.spooled,
        "primary_cpu_s": round(p1 - p0, 2),
        "replica_cpu_s": round(r1 - r0, 2),
        "primary_cpu_pct_per_1000": round(100 * (p1 - p0) / wall / (achieved / 1000), 2),
        "replica_cpu_pct_per_1000": round(100 * (r1 - r0) / wall / (achieved / 1000), 2),
        "primary_us_per_event": round(1e6 * (p1 - p0) / sent, 1),
        "backlog_at_end": _backlog(client),
        "used_memory_mb": round(int(client.info("memory")["used_memory"]) / 2**20, 1),
        "top_commands_us_per_event": _top(calls0, calls1, sent),
    }


def _commandstats(client: Any) -> dict[str, int]:
    """Microseconds Redis spent per command (`INFO commandstats`), by command."""
    return {k: int(v["usec"]) for k, v in client.info("commandstats").items()}


def _top(before: dict[str, int], after: dict[str, int], events: int) -> dict[str, float]:
    spent = {k: v - before.get(k, 0) for k, v in after.items()}
    top = sorted(spent.items(), key=lambda kv: -kv[1])[:6]
    return {k.removeprefix("cmdstat_"): round(v / max(1, events), 1) for k, v in top}


def _backlog(client: Any) -> int:
    return sum(sum(lag_and_pending(client, stream_key(lane))) for lane in LANES)


def bench_cpu(rates: list[float], seconds: float, run_dir: Path) -> list[dict[str, Any]]:
    cluster = Sentinels(run_dir / "redis")
    stack = Stack(StackOptions(run_dir, metrics=False))
    host: Host | None = None
    try:
        cluster.start()
        stack._start_sandbox()
        host = Host("host-a", engine_env(cluster.url, stack), run_dir, 2)
        host.keep_running()
        client = sync_client(cluster.url, socket_timeout=30)
        wait_until(lambda: len(client.smembers("rq:workers")) >= 2, 60, "workers", 0.1)
        results = []
        for rate in rates:
            results.append(measure(cluster, rate, seconds))
            print(json.dumps(results[-1]), flush=True)
        return results
    finally:
        if host is not None:
            host.stop()
        stack.stop()
        cluster.stop()


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| events/s asked | achieved | events | primary CPU % per 1,000 ev/s | µs per event "
        "| replica CPU % per 1,000 ev/s | backlog at end | used_memory MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['rate_asked']:.0f} | {r['events_per_s']} | {r['events']:,} "
            f"| {r['primary_cpu_pct_per_1000']} | {r['primary_us_per_event']} "
            f"| {r['replica_cpu_pct_per_1000']} | {r['backlog_at_end']} | {r['used_memory_mb']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="what", required=True)
    cpu = sub.add_parser("cpu")
    cpu.add_argument("--rates", type=float, nargs="+", default=[500, 1000, 2000])
    cpu.add_argument("--seconds", type=float, default=20)
    cpu.add_argument("--quick", action="store_true", help="one short rate: a smoke run")
    cpu.add_argument("--json", help="write the figures here")
    sub.add_parser("failover", add_help=False)
    args, rest = p.parse_known_args(argv)
    if args.what == "failover":
        from tests.ha.failover_run import main as failover_main

        return failover_main(rest)
    rates, seconds = ([300.0], 5.0) if args.quick else (args.rates, args.seconds)
    run_dir = Path(tempfile.mkdtemp(prefix="herald-cpu-"))
    results = bench_cpu(rates, seconds, run_dir)
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
