"""The chaos runner: a real engine, a mixed workload, random kills and outages, then an
account of every published event id.

    .venv/bin/python -m tests.chaos.runner --minutes 30 --events 500000

Starts redis-server (AOF), the sandbox (its own process, faults driven through its admin
API) and the dispatcher plus a worker pool under supervisord; producer processes publish
a mixed workload while the monkey (tests/chaos/monkey.py) kills and disrupts. After the
publishers finish, it waits until every id is accounted for (or a deadline), then prints
lost, duplicated, 400s and 429s, scans every log, DLQ export, `herald status --json` and
the metrics endpoints for webhook tokens, and writes `report.json` in the run dir.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ground.proc import wait_until
from tests.chaos.audit import audit, dead_letters_of, engine_idle, scan_for_secrets
from tests.chaos.monkey import ChaosOptions, Monkey
from tests.chaos.stack import Stack, StackOptions
from tests.chaos.workload import (
    Mix,
    producer_stats,
    read_ids,
    start_producers,
    stop_producers,
)


@dataclass
class RunOptions:
    run_dir: Path
    seconds: float = 75.0
    """How long the producers publish (chaos runs meanwhile)."""
    events: int = 6_000
    """Target total; sets the market-data rate (the rest of the mix is fixed per channel)."""
    producers: int = 3
    workers: int = 4
    seed: int = 1
    drain_timeout: float = 90.0
    chaos: ChaosOptions = field(default_factory=ChaosOptions)
    mix: Mix = field(default_factory=Mix)
    channel_limit: str | None = None
    herald_rates: tuple[str, ...] = ()

    def workload(self) -> Mix:
        others = self.mix.total - self.mix.market
        market = max(1.0, self.events / self.seconds - others)
        return Mix(market, self.mix.trading, self.mix.system, self.mix.critical,
                   self.mix.maintenance)  # fmt: skip


@dataclass
class Report:
    options: dict[str, Any]
    started: str
    wall_seconds: float
    publish_seconds: float
    drain_seconds: float
    drained: bool
    producers: dict[str, int]
    chaos: dict[str, Any]
    audit: dict[str, Any]
    secret_hits: list[str]
    load_average: tuple[float, float, float]

    @property
    def ok(self) -> bool:
        a = self.audit
        return (
            self.drained
            and a["lost"] == 0
            and a["http_400"] == 0
            and a["duplicated_pct"] <= 0.5
            and not self.secret_hits
            and not self.chaos["errors"]
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def summary(self) -> str:
        a, c = self.audit, self.chaos
        lines = [
            f"published {a['published']:,} events in {self.publish_seconds:.0f}s "
            f"(producers: {self.producers})",
            f"chaos: {c['kills_total']} kills {c['kills']}, disruptions {c['disruptions']}, "
            f"{c['dlq_replayed']} dead letters replayed",
            f"outcomes: {a['outcomes']}",
            f"LOST {a['lost']}  DUPLICATED {a['duplicated']} ({a['duplicated_pct']}%)  "
            f"400s {a['http_400']}  429s {a['http_429_rate_limited']} "
            f"(+{a['http_429_storm']} injected storm 429s)",
            f"dead-letter reasons: {a['dead_letter_reasons']}",
            f"latency p50 {a['latency_p50_s']}s p99 {a['latency_p99_s']}s; "
            f"drained={self.drained} in {self.drain_seconds:.0f}s; wall {self.wall_seconds:.0f}s; "
            f"load {self.load_average}",
            f"secret hits: {self.secret_hits or 'none'}",
            f"chaos errors: {c['errors'] or 'none'}",
            "OK" if self.ok else "FAILED",
        ]
        return "\n".join(lines)


def run(options: RunOptions, say: Any = print) -> Report:
    started, t0 = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.monotonic()
    options.run_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(StackOptions(
        options.run_dir, workers=options.workers, seed=options.seed,
        channel_limit=options.channel_limit, herald_rates=options.herald_rates,
    ))  # fmt: skip
    producers: list[Any] = []
    try:
        stack.start()
        assert stack.redis_server is not None
        assert stack.sandbox is not None
        mix = options.workload()
        say(f"stack up in {options.run_dir}; publishing {mix} for {options.seconds:.0f}s")
        producers = start_producers(
            stack.redis_server.url, options.run_dir, mix, options.seconds,
            options.producers, options.seed,
        )  # fmt: skip
        monkey = Monkey(stack, options.chaos)
        monkey.start()
        for proc in producers:
            proc.join(options.seconds + 5)
        publish_seconds = time.monotonic() - t0
        say(f"publishing window over; stopping chaos ({monkey.log.to_dict()['kills_total']} kills)")
        monkey.finish()
        for proc in producers:
            proc.join(300)  # spooled events are replayed before a producer exits
        drain_t0 = time.monotonic()
        drained = _drain(stack, monkey, read_ids(options.run_dir), options, say)
        drain_seconds = time.monotonic() - drain_t0
        ids = read_ids(options.run_dir)
        result = audit(stack.redis(), stack.sandbox, ids)
        secrets = _secret_scan(stack)
        report = Report(
            options=_jsonable(options),
            started=started,
            wall_seconds=time.monotonic() - t0,
            publish_seconds=publish_seconds,
            drain_seconds=drain_seconds,
            drained=drained,
            producers=producer_stats(options.run_dir),
            chaos=monkey.log.to_dict(),
            audit=result.to_dict(),
            secret_hits=secrets,
            load_average=os.getloadavg(),
        )
        (options.run_dir / "report.json").write_text(json.dumps(report.to_dict(), indent=1))
        say(report.summary())
        return report
    finally:
        stop_producers(producers)
        stack.stop()


def _drain(stack: Stack, monkey: Monkey, ids: list[str], options: RunOptions, say: Any) -> bool:
    """Wait until every id is accounted for; replay what the webhook outage left behind."""
    from worker.ledger import account

    client = stack.redis()
    channel = options.chaos.outage_channel

    def accounted() -> bool:
        if not engine_idle(client):
            return False
        if dead_letters_of(client, channel):  # buried by a flush racing a replay (bug 2)
            monkey.replay(channel, tag="final")
            return False
        missing = account(client, ids).missing(ids)
        if missing:
            say(f"drain: {len(missing)} ids not yet accounted for, e.g. {missing[:3]}")
        return not missing

    try:
        # The ledger read is expensive when long: poll it less often then.
        wait_until(accounted, options.drain_timeout, "every id accounted for",
                   interval=2.0 if len(ids) < 50_000 else 15.0)  # fmt: skip
    except TimeoutError:
        return False
    return True


def _secret_scan(stack: Stack) -> list[str]:
    run_dir = stack.run_dir
    stack.herald("dlq", "export", "--jsonl", str(run_dir / "dlq-end.jsonl"))
    status = stack.herald("status", "--json")
    (run_dir / "status.json").write_text(status.stdout + status.stderr)
    needles = [stack.token, "sandbox-token-", "FAKE-TOKEN-CHAOS"]
    return scan_for_secrets(run_dir, needles, stack.metrics_ports, fake_token=stack.token)


def _jsonable(options: RunOptions) -> dict[str, Any]:
    return json.loads(json.dumps(asdict(options), default=str))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.chaos.runner", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--minutes", type=float, default=1.25, help="publishing time (default 1.25)")
    p.add_argument("--events", type=int, default=6_000, help="events to publish (default 6000)")
    p.add_argument("--producers", type=int, default=3)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--drain-minutes", type=float, help="default: a third of --minutes, >= 1.5")
    p.add_argument("--run-dir", help="default: a new temp dir (kept)")
    p.add_argument("--cloudflare-storms", action="store_true", help="also 429s without Via")
    args = p.parse_args(argv)
    run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix="herald-chaos-"))
    long = args.minutes >= 10
    options = RunOptions(
        run_dir=run_dir,
        seconds=args.minutes * 60,
        events=args.events,
        producers=args.producers,
        workers=args.workers,
        seed=args.seed,
        drain_timeout=(args.drain_minutes or max(1.5, args.minutes / 3)) * 60,
        chaos=ChaosOptions(
            seed=args.seed,
            kill_every=(5.0, 25.0) if long else (2.0, 8.0),
            disrupt_every=(10.0, 40.0) if long else (3.0, 10.0),
            cloudflare_storms=args.cloudflare_storms,
        ),
    )
    report = run(options)
    print(f"report: {run_dir / 'report.json'}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    if shutil.which("redis-server") is None:
        sys.exit("redis-server not on PATH")
    sys.exit(main())
