"""The failover chaos run: Herald on Redis Sentinel while its primary is SIGKILLed.

    .venv/bin/python -m tests.ha.failover_run --seconds 600 --failovers 8 --events 60000

One primary, one replica, three Sentinels (tests/ha/cluster.py); the sandbox as Discord
(its own process, Discord's default limits); two "hosts", each a `herald dispatch` and
two `herald worker` processes given only the Sentinel address, restarted when they die
(supervisord's job in production). Producer processes publish a steady mix
(tests/chaos/workload.py) plus bursts; the chaos thread starts a burst, SIGKILLs the
primary while it is being written, waits for Sentinel's new primary, restarts the old
one and waits until it is a synced replica; another thread SIGKILLs dispatchers and
workers. Then the drain and the audit of tests/chaos/audit.py: every id accounted for.

Producers: the real `producer.Publisher` given the Sentinel address (tests/ha/producers.py),
confirming each XADD batch with `WAIT 1`.
"""

import argparse
import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ground.channels import webhook_env
from ground.connect import sync_client
from ground.proc import wait_until
from tests.chaos.audit import audit, engine_idle, scan_for_secrets
from tests.chaos.stack import FAKE_WEBHOOK_ID, Stack, StackOptions
from tests.chaos.workload import Mix, ProducerJob, producer_stats, read_ids
from tests.ha.cluster import DOWN_AFTER_MS, Sentinels
from tests.ha.producers import produce


@dataclass
class FailoverOptions:
    run_dir: Path
    seconds: float = 60.0
    """Publishing time; the failovers happen inside it."""
    events: int = 4_000
    """Steady events over `seconds` (bursts come on top)."""
    failovers: int = 2
    burst_events: int = 400
    producers: int = 2
    workers_per_host: int = 2
    kill_every: tuple[float, float] = (4.0, 9.0)
    seed: int = 21
    drain_timeout: float = 120.0
    down_after_ms: int = DOWN_AFTER_MS
    """The Sentinels' down-after; 1000 makes spurious failovers (split brains) likely."""
    switchovers: int = 0
    """Besides the failovers, `SENTINEL FAILOVER`s with the primary up (`switchover`)."""


@dataclass
class Host:
    """A host's Herald processes, restarted when they die (supervisord's job)."""

    name: str
    env: dict[str, str]
    run_dir: Path
    workers: int
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def programs(self) -> dict[str, list[str]]:
        dispatch = ["dispatch", "--name", f"{self.name}-dispatch"]
        workers = {
            f"worker-{n}": ["worker", "-n", "1", "--name", f"{self.name}-worker-{n}"]
            for n in range(self.workers)
        }
        return {"dispatch": dispatch, **workers}

    def keep_running(self) -> int:
        """Start what is not running; how many were (re)started."""
        started = 0
        for program, args in self.programs().items():
            proc = self.procs.get(program)
            if proc is None or proc.poll() is not None:
                log = open(self.run_dir / f"{self.name}-{program}.log", "ab")  # noqa: SIM115
                self.procs[program] = subprocess.Popen(
                    [sys.executable, "-m", "herald.cli", *args],
                    env=self.env, stdout=log, stderr=log,
                )  # fmt: skip
                started += 1
        return started

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass
class Chaos:
    failovers: int = 0
    no_primary_s: list[float] = field(default_factory=list)
    switchovers: int = 0
    switchover_s: list[float] = field(default_factory=list)
    comeback_s: list[float] = field(default_factory=list)
    kills: dict[str, int] = field(default_factory=dict)
    bursts: int = 0
    errors: list[str] = field(default_factory=list)


def engine_env(url: str, stack: Stack) -> dict[str, str]:
    assert stack.sandbox is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    env["HERALD_REDIS_URL"] = url
    for channel, hook in stack.sandbox.webhook_urls().items():
        env[webhook_env(channel)] = hook
    env["HERALD_WEBHOOK_TRADING_ALERTS"] = (
        f"{stack.sandbox.base_url}/api/webhooks/{FAKE_WEBHOOK_ID}/{stack.token}"
    )
    return env


class Run:
    def __init__(self, options: FailoverOptions) -> None:
        self.o = options
        self.rng = random.Random(options.seed)
        self.cluster = Sentinels(options.run_dir / "redis", down_after_ms=options.down_after_ms)
        self.stack = Stack(StackOptions(options.run_dir, seed=options.seed, metrics=False))
        self.hosts: list[Host] = []
        self.chaos = Chaos()
        self.stop = threading.Event()
        self.publishing = threading.Event()
        self.burst = mp.get_context("spawn").Value("i", 0)

    def start(self) -> None:
        self.o.run_dir.mkdir(parents=True, exist_ok=True)
        self.cluster.start()
        self.stack._start_sandbox()
        env = engine_env(self.cluster.url, self.stack)
        self.hosts = [
            Host(name, env, self.o.run_dir, self.o.workers_per_host)
            for name in ("host-a", "host-b")
        ]
        for host in self.hosts:
            host.keep_running()

    def producers(self) -> list[mp.process.BaseProcess]:
        ctx = mp.get_context("spawn")
        others = Mix().total - Mix().market
        mix = Mix(market=max(1.0, self.o.events / self.o.seconds - others))
        share = mix.scaled(self.o.producers)
        procs: list[mp.process.BaseProcess] = []
        for i in range(self.o.producers):
            job = ProducerJob(
                i, self.cluster.url, self.o.run_dir, share, self.o.seconds, self.o.seed * 100 + i
            )
            args = (job, self.burst, self.o.burst_events // self.o.producers)
            proc = ctx.Process(target=produce, args=args, name=f"failover-producer-{i}")
            proc.start()
            procs.append(proc)
        return procs

    def keeper(self) -> None:
        while not self.stop.wait(0.2):
            for host in self.hosts:
                host.keep_running()

    def killer(self) -> None:
        while not self.stop.wait(self.rng.uniform(*self.o.kill_every)):
            if not self.publishing.is_set():
                continue
            host = self.rng.choice(self.hosts)
            program = self.rng.choice(list(host.procs))
            proc = host.procs[program]
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kind = "dispatch" if program == "dispatch" else "worker"
                self.chaos.kills[kind] = self.chaos.kills.get(kind, 0) + 1

    def failover_loop(self) -> None:
        """Failovers (and switchovers, in a seeded order) spread over the publishing
        window, each mid-burst."""
        plan = ["failover"] * self.o.failovers + ["switchover"] * self.o.switchovers
        self.rng.shuffle(plan)
        spacing = self.o.seconds / (len(plan) + 1)
        started = time.monotonic()
        for n, what in enumerate(plan):
            due = started + spacing * (n + 0.6)
            if self.stop.wait(max(0.0, due - time.monotonic())):
                return
            try:
                self._start_burst()
                if what == "failover":
                    self._one_failover()
                else:
                    self.chaos.switchover_s.append(round(self.cluster.switchover(), 2))
                    self.chaos.switchovers += 1
            except Exception as exc:
                self.chaos.errors.append(f"{what} {n + 1}: {exc!r}")
                return

    def _start_burst(self) -> None:
        with self.burst.get_lock():
            self.burst.value += 1
        self.chaos.bursts += 1
        time.sleep(0.15)  # the burst is being written now: act under it

    def _one_failover(self) -> None:
        old = self.cluster.kill_primary()
        self.chaos.failovers += 1
        self.chaos.no_primary_s.append(round(self.cluster.failovers[-1], 2))
        started = time.monotonic()
        self.cluster.bring_back(old, timeout=60)
        self.chaos.comeback_s.append(round(time.monotonic() - started, 2))

    def drain(self, ids: list[str]) -> bool:
        from worker.ledger import account

        client = sync_client(self.cluster.url, socket_timeout=30)

        def accounted() -> bool:
            return engine_idle(client) and not account(client, ids).missing(ids)

        try:
            wait_until(accounted, self.o.drain_timeout, "every id accounted for", interval=2.0)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.stop.set()
        for host in self.hosts:
            host.stop()
        self.stack.stop()
        self.cluster.stop()


def run(options: FailoverOptions, say: Any = print) -> dict[str, Any]:
    t0 = time.monotonic()
    r = Run(options)
    producers: list[mp.process.BaseProcess] = []
    threads: list[threading.Thread] = []
    try:
        r.start()
        say(f"up in {options.run_dir}: {r.cluster.url}")
        producers = r.producers()
        r.publishing.set()
        threads = [
            threading.Thread(target=f, daemon=True) for f in (r.keeper, r.killer, r.failover_loop)
        ]
        for t in threads:
            t.start()
        threads[2].join(options.seconds + 120)  # the last comeback may outlast publishing
        for proc in producers:
            proc.join(options.seconds + 300)  # each drains its spool before it exits
        r.publishing.clear()
        publish_s = time.monotonic() - t0
        drain_t0 = time.monotonic()
        ids = read_ids(options.run_dir)
        drained = r.drain(ids)
        drain_s = time.monotonic() - drain_t0
        assert r.stack.sandbox is not None
        result = audit(sync_client(r.cluster.url, socket_timeout=30), r.stack.sandbox, ids)
        needles = [r.stack.token, "sandbox-token-", "FAKE-TOKEN-CHAOS"]
        hits = scan_for_secrets(options.run_dir, needles, [], fake_token=r.stack.token)
        report = {
            "options": json.loads(json.dumps(asdict(options), default=str)),
            "publish_seconds": round(publish_s, 1),
            "drain_seconds": round(drain_s, 1),
            "drained": drained,
            "wall_seconds": round(time.monotonic() - t0, 1),
            "producers": producer_stats(options.run_dir),
            "chaos": asdict(r.chaos),
            "audit": result.to_dict(),
            "secret_hits": hits,
            "sentinel_switches": switches(options.run_dir),
            "load_average": os.getloadavg(),
        }
        (options.run_dir / "report.json").write_text(json.dumps(report, indent=1))
        say(summary(report))
        return report
    finally:
        for proc in producers:
            if proc.is_alive():
                proc.kill()
        r.close()


def switches(run_dir: Path) -> int:
    """Primary switches one Sentinel made: more than the failovers are spurious ones."""
    log = run_dir / "redis" / "sentinel-0" / "sentinel.log"
    return log.read_text(errors="replace").count("+switch-master") if log.exists() else -1


def summary(report: dict[str, Any]) -> str:
    a, c = report["audit"], report["chaos"]
    return "\n".join([
        f"published {a['published']:,} events; producers {report['producers']}",
        f"failovers {c['failovers']} (no primary for {c['no_primary_s']} s; old primary back "
        f"as a replica after {c['comeback_s']} s); switchovers {c['switchovers']} (settled "
        f"after {c['switchover_s']} s); kills {c['kills']}; errors {c['errors']}",
        f"outcomes {a['outcomes']}",
        f"LOST {a['lost']}  DUPLICATED {a['duplicated']} ({a['duplicated_pct']} %)  "
        f"400s {a['http_400']}  429s {a['http_429_rate_limited']}",
        f"drained={report['drained']} in {report['drain_seconds']} s; "
        f"wall {report['wall_seconds']} s; load {report['load_average']}",
        f"secret hits: {report['secret_hits'] or 'none'}; "
        f"Sentinel primary switches {report['sentinel_switches']}",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.ha.failover_run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--events", type=int, default=4_000)
    p.add_argument("--failovers", type=int, default=2)
    p.add_argument("--burst-events", type=int, default=400)
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--drain-seconds", type=float, default=120)
    p.add_argument("--run-dir")
    p.add_argument("--down-after-ms", type=int, default=DOWN_AFTER_MS)
    p.add_argument("--switchovers", type=int, default=0, help="split brains on purpose")
    args = p.parse_args(argv)
    options = FailoverOptions(
        run_dir=Path(args.run_dir or tempfile.mkdtemp(prefix="herald-failover-")),
        seconds=args.seconds, events=args.events, failovers=args.failovers,
        burst_events=args.burst_events, seed=args.seed, drain_timeout=args.drain_seconds,
        down_after_ms=args.down_after_ms, switchovers=args.switchovers,
    )  # fmt: skip
    report = run(options)
    a = report["audit"]
    ok = report["drained"] and a["lost"] == 0 and a["http_400"] == 0
    ok = ok and a["duplicated_pct"] <= 0.5 and not report["chaos"]["errors"]
    print(f"report: {options.run_dir / 'report.json'}\n{'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
