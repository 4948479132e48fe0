"""Soak: an hour at a steady rate with the sandbox at Discord's default limits.

    .venv/bin/python -m tests.chaos.soak --minutes 60 --rate 200 --out docs/soak

Mostly market data (the digest channel), plus a trickle to the other channels within
their 5 events/s capacity. No faults: this looks for slow leaks. Every minute it samples
the RSS of the dispatcher and each worker (/proc/<pid>/status, pids from supervisord),
Redis `used_memory`, keys by prefix (SCAN `herald:*` and `rq:*`, grouped by the second
component), stream and outbox lengths. Writes `<out>.json` and `<out>.md`.

Redis keeps two records on purpose: the ledger (what became of each event id,
`delivery.ledger_retention`, default 24h) and the seen-id buckets that drop repeats
(`dedupe.seen_ttl`, default 1h, two buckets). The soak runs with both at `--retention`
(default 10m) so that, after draining, it can wait them out and show Redis back at its
baseline; it reads the ledger every minute, so the trimming loses nothing from the audit.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import redis

from ground import keyspace
from ground.proc import wait_until
from tests.chaos.audit import audit, engine_idle, scan_for_secrets
from tests.chaos.stack import Stack, StackOptions
from tests.chaos.workload import (
    Mix,
    producer_stats,
    read_ids,
    start_producers,
    stop_producers,
)
from worker.channels import CHANNELS
from worker.config import duration_seconds
from worker.ledger import LedgerReader


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def keys_by_prefix(client: redis.Redis) -> dict[str, int]:
    """`herald:outbox:x` counts as `herald:outbox`; `rq:job:...` as `rq:job`."""
    counts: Counter[str] = Counter()
    for pattern in ("herald:*", "rq:*"):
        for key in client.scan_iter(match=pattern, count=1000):
            parts = key.decode(errors="replace").split(":")
            counts[":".join(parts[:2])] += 1
    return dict(sorted(counts.items()))


def sample(stack: Stack, t0: float) -> dict[str, Any]:
    assert stack.supervisor is not None
    client = stack.redis()
    info = client.info("memory")
    pids = stack.supervisor.pids()
    return {
        "t_s": round(time.monotonic() - t0, 1),
        "rss_kib": {name: rss_kib(pid) for name, pid in sorted(pids.items())},
        "pids": pids,
        "redis_used_memory": info["used_memory"],
        "keys": keys_by_prefix(client),
        "outboxes": {c: int(client.llen(keyspace.outbox(c))) for c in CHANNELS},
        "streams": {
            lane: int(client.xlen(f"herald:events:{lane}"))
            for lane in ("critical", "normal", "bulk")
        },
        "ledger": int(client.xlen(keyspace.LEDGER)),
        "dlq": int(client.zcard(keyspace.DLQ_INDEX)),
    }


def retained(client: redis.Redis) -> bool:
    """Nothing left of the retained records: no seen-id bucket, at most the ledger's last
    stream node (approximate XTRIM removes whole nodes of up to 100 entries)."""
    no_seen = next(client.scan_iter(match=keyspace.seen("*"), count=1000), None) is None
    return no_seen and int(client.xlen(keyspace.LEDGER)) <= 100


def run(
    minutes: float, rate: float, run_dir: Path, out: Path, workers: int, retention: str
) -> dict[str, Any]:
    stack = Stack(StackOptions(run_dir, workers=workers, seed=42, retention=retention))
    mix = Mix(market=rate - 3.5, trading=1.5, system=1.0, critical=0.6, maintenance=0.4)
    samples: list[dict[str, Any]] = []
    producers: list[Any] = []
    try:
        stack.start()
        assert stack.redis_server is not None
        assert stack.sandbox is not None
        t0 = time.monotonic()
        baseline = sample(stack, t0)
        samples.append(baseline)
        reader = LedgerReader(stack.redis())
        producers = start_producers(stack.redis_server.url, run_dir, mix, minutes * 60, 2, 42)
        print(f"soak: {mix.total:.0f} events/s for {minutes} min in {run_dir}", flush=True)
        retention_s = duration_seconds("--retention", retention)
        poll_s = min(60.0, retention_s / 4)  # read the ledger before it is trimmed
        next_sample = time.monotonic() + 60
        while alive := [p for p in producers if p.is_alive()]:
            alive[0].join(poll_s)
            reader.poll()
            if time.monotonic() < next_sample and alive[0].is_alive():
                continue
            next_sample += 60
            samples.append(sample(stack, t0))
            s = samples[-1]
            print(
                f"t={s['t_s']:.0f}s rss={s['rss_kib']} redis={s['redis_used_memory']} "
                f"outboxes={s['outboxes']}",
                flush=True,
            )
        ids = read_ids(run_dir)
        client = stack.redis()
        drain_t0 = time.monotonic()

        def drained() -> bool:
            reader.poll()
            return engine_idle(client)

        wait_until(drained, 900, "the engine to drain", interval=2.0)
        drain_s = time.monotonic() - drain_t0
        after = sample(stack, t0)
        result = audit(client, stack.sandbox, ids, reader)
        retention_t0 = time.monotonic()
        horizon = 2 * retention_s + 120  # a bucket outlives its last write by one TTL: margin
        with contextlib.suppress(TimeoutError):  # the report shows whatever is left
            wait_until(lambda: retained(client), horizon, "retention to expire", interval=5)
        retained_s = time.monotonic() - retention_t0
        expired = sample(stack, t0)
        secrets = scan_for_secrets(
            run_dir, [stack.token, "sandbox-token-", "FAKE-TOKEN-CHAOS"], stack.metrics_ports,
            fake_token=stack.token,
        )  # fmt: skip
        summary = {
            "minutes": minutes,
            "rate_per_s": mix.total,
            "mix": mix.__dict__,
            "workers": workers,
            "published": len(ids),
            "producers": producer_stats(run_dir),
            "drain_seconds": round(drain_s, 1),
            "retention": retention,
            "retention_wait_seconds": round(retained_s, 1),
            "baseline": baseline,
            "after_drain": after,
            "after_retention": expired,
            "samples": samples,
            "audit": result.to_dict(),
            "secret_hits": secrets,
            "load_average_end": os.getloadavg(),
        }
        out.with_suffix(".json").write_text(json.dumps(summary, indent=1))
        out.with_suffix(".md").write_text(markdown(summary))
        print(markdown(summary), flush=True)
        return summary
    finally:
        stop_producers(producers)
        stack.stop()


def markdown(summary: dict[str, Any]) -> str:
    samples = summary["samples"]
    first = samples[1] if len(samples) > 1 else samples[0]
    warm = samples[max(1, len(samples) // 4)]  # a quarter in: caches and pools are full
    last, expired = summary["after_drain"], summary["after_retention"]
    base = summary["baseline"]
    a = summary["audit"]
    lines = [
        f"# Soak: {summary['minutes']} min at {summary['rate_per_s']:.0f} events/s",
        "",
        f"Published {summary['published']:,}; lost {a['lost']}, duplicated {a['duplicated']}, "
        f"400s {a['http_400']}, 429s {a['http_429_rate_limited']}; outcomes {a['outcomes']}; "
        f"drained in {summary['drain_seconds']} s; "
        f"secret hits: {summary['secret_hits'] or 'none'}.",
        "",
        f"## RSS (KiB): at t={first['t_s']:.0f} s, at t={warm['t_s']:.0f} s, after drain",
        "",
        "| program | first | warm | end | end - warm |",
        "|---|---|---|---|---|",
    ]
    for name, start in first["rss_kib"].items():
        mid, end = warm["rss_kib"].get(name), last["rss_kib"].get(name)
        same = warm["pids"].get(name) == last["pids"].get(name)
        change = f"{(end or 0) - (mid or 0):+,}" if same else "restarted"
        lines.append(f"| {name} | {start or 0:,} | {mid or 0:,} | {end or 0:,} | {change} |")
    lines += [
        "",
        f"## Redis: baseline, after drain, after retention ({summary['retention']}, "
        f"waited {summary['retention_wait_seconds']:.0f} s)",
        "",
        "| | baseline | after drain | after retention |",
        "|---|---|---|---|",
    ]
    rows = [("used_memory (B)", "redis_used_memory"), ("ledger entries", "ledger"),
            ("stream entries", "streams"), ("DLQ", "dlq")]  # fmt: skip
    for label, field in rows:
        values = [base[field], last[field], expired[field]]
        if isinstance(values[0], dict):
            values = [sum(v.values()) for v in values]
        lines.append(f"| {label} | " + " | ".join(f"{v:,}" for v in values) + " |")
    for prefix in sorted(set(base["keys"]) | set(last["keys"]) | set(expired["keys"])):
        counts = [s["keys"].get(prefix, 0) for s in (base, last, expired)]
        lines.append(f"| keys `{prefix}:*` | " + " | ".join(str(c) for c in counts) + " |")
    lines += ["", "## Over time (one row a minute)", "",
              "| t (s) | redis used_memory | max outbox | outboxes | dispatcher RSS "
              "| worker RSS max |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for s in samples:
        rss = s["rss_kib"]
        workers = [v for k, v in rss.items() if k.startswith("worker") and v]
        lines.append(
            f"| {s['t_s']:.0f} | {s['redis_used_memory']:,} | {max(s['outboxes'].values())} | "
            f"{s['outboxes']} | {rss.get('dispatch:dispatch')} | {max(workers, default=0)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.chaos.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--rate", type=float, default=200, help="events/s in total (default 200)")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--retention", default="10m",
                   help="dedupe.seen_ttl and delivery.ledger_retention (default 10m)")  # fmt: skip
    p.add_argument("--run-dir", help="default: a new temp dir (kept)")
    p.add_argument("--out", default="soak", help="writes OUT.json and OUT.md (default ./soak)")
    args = p.parse_args(argv)
    run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix="herald-soak-"))
    duration_seconds("--retention", args.retention)  # a bad value fails now, not after the hour
    summary = run(args.minutes, args.rate, run_dir, Path(args.out), args.workers, args.retention)
    return 0 if summary["audit"]["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
