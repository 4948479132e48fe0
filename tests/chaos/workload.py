"""The chaos workload: a realistic mix of events, published by several producer processes.

Each producer process has its own `Publisher` and spool file and writes every event id
`publish()` returns to `ids-<n>.txt`, so the runner can account for each one. Rates are
per channel (events/s), so the non-digest channels stay within what Discord's default
channel limit (30 messages/min, 10 embeds each: 5 events/s) can carry, and market data
(the digest channel) takes the volume.
"""

import multiprocessing as mp
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from schemas import AnyEvent, ConnectionStatus, OperationResult, Side
from tests.factories import sample

if TYPE_CHECKING:
    from producer import Publisher

PAIRS = ("XRP/USD", "BTC/USD", "ETH/USD", "SOL/USD", "XRP/EUR", "ADA/USD", "DOGE/USD")
SERVICES = ("market-feed", "order-router", "risk-engine")
SERVERS = ("prod-01", "prod-02")


@dataclass(frozen=True)
class Mix:
    """Events per second, per stream of the workload (all producers together)."""

    market: float = 80.0
    trading: float = 1.5
    system: float = 1.0
    critical: float = 0.6
    maintenance: float = 0.4

    @property
    def total(self) -> float:
        return self.market + self.trading + self.system + self.critical + self.maintenance

    def scaled(self, producers: int) -> "Mix":
        return Mix(*(getattr(self, f) / producers for f in self.__dataclass_fields__))


def _price(rng: random.Random) -> AnyEvent:
    if rng.random() < 0.8:
        price = Decimal(rng.randint(1, 10**7)) / Decimal(10**6)
        return msgspec.structs.replace(
            sample("price_alert"),
            pair=rng.choice(PAIRS),
            price=price + Decimal("0.000001"),
            previous_price=price + Decimal("0.000002"),
            change_pct=Decimal(rng.randint(-999, 999)) / 100,
        )
    return msgspec.structs.replace(
        sample("volume_alert"), pair=rng.choice(PAIRS), ratio=round(rng.uniform(1.5, 9), 2)
    )


def _trading(rng: random.Random) -> AnyEvent:
    roll = rng.random()
    if roll < 0.7:
        return msgspec.structs.replace(
            sample("trade_executed"),
            pair=rng.choice(PAIRS),
            side=rng.choice(list(Side)),
            amount=Decimal(rng.randint(1, 50_000)),
        )
    return sample("signal_generated") if roll < 0.9 else sample("pnl_update")


def _system(rng: random.Random) -> AnyEvent:
    kind = rng.choice(
        ["build_started", "build_success", "build_failure", "deployment_started",
         "deployment_success", "health_summary", "high_latency", "service_restart"]
    )  # fmt: skip
    event = sample(kind)
    if kind == "high_latency":  # folded by service: a few distinct keys, some repeats
        return msgspec.structs.replace(event, service=rng.choice(SERVICES))
    return event


def _critical(rng: random.Random) -> AnyEvent:
    roll = rng.random()
    if roll < 0.6:  # the dedupe-able alert: the same few outages, reported again and again
        return msgspec.structs.replace(
            sample("service_down"), service=rng.choice(SERVICES), server=rng.choice(SERVERS)
        )
    if roll < 0.8:
        back = rng.random() < 0.3
        status = ConnectionStatus.RECONNECTED if back else ConnectionStatus.RECONNECTING
        return msgspec.structs.replace(sample("connection_lost"), status=status)
    if roll < 0.95:
        return sample("risk_alert")
    return sample("system_healthy")  # a recovery: closes every fold window


def _maintenance(rng: random.Random) -> AnyEvent:
    if rng.random() < 0.5:
        return sample("maintenance_scheduled")
    return msgspec.structs.replace(
        sample("manual_operation"), result=rng.choice(list(OperationResult))
    )


MAKERS: dict[str, Callable[[random.Random], AnyEvent]] = {
    "market": _price,
    "trading": _trading,
    "system": _system,
    "critical": _critical,
    "maintenance": _maintenance,
}


@dataclass(frozen=True)
class ProducerJob:
    index: int
    redis_url: str
    out_dir: Path
    mix: Mix
    seconds: float
    seed: int

    @property
    def ids_path(self) -> Path:
        return self.out_dir / f"ids-{self.index}.txt"

    @property
    def spool_path(self) -> Path:
        return self.out_dir / f"producer-{self.index}.spool"


def produce(job: ProducerJob) -> None:
    """Publish `job.mix` events/s for `job.seconds`, then wait for the spool to drain."""
    run_job(job, "chaos")


Extra = Callable[["Publisher", random.Random], list[str]]
"""Called every turn of the loop: publishes more (the failover run's bursts), returns ids."""


def run_job(job: ProducerJob, source: str, extra: Extra | None = None) -> None:
    """The producer loop: `job.mix` for `job.seconds` (plus what `extra` publishes), every
    id written to `job.ids_path`; then drain the spool and write the Publisher's stats."""
    from producer import Publisher

    rng = random.Random(job.seed)
    streams = [(name, getattr(job.mix, name)) for name in MAKERS]
    due = dict.fromkeys(MAKERS, 0.0)
    with (
        open(job.ids_path, "w") as ids,
        Publisher(job.redis_url, source=f"{source}-{job.index}", spool_path=job.spool_path) as pub,
    ):
        start = time.monotonic()
        last = start
        while (now := time.monotonic()) - start < job.seconds:
            elapsed, last = now - last, now
            for name, rate in streams:
                due[name] += rate * elapsed
                while due[name] >= 1:
                    due[name] -= 1
                    ids.write(pub.publish(MAKERS[name](rng)) + "\n")
            if extra is not None:
                ids.writelines(i + "\n" for i in extra(pub, rng))
            ids.flush()
            time.sleep(0.02)  # pacing the workload, not synchronisation
        # Redis may be down or paused right now: keep trying until the spool is empty.
        deadline = time.monotonic() + 300
        while not pub.flush(5) and time.monotonic() < deadline:
            pass
        stats = pub.stats()
    (job.out_dir / f"producer-{job.index}.json").write_text(
        msgspec.json.encode(stats._asdict()).decode()
    )


def start_producers(
    redis_url: str, out_dir: Path, mix: Mix, seconds: float, producers: int, seed: int
) -> list[mp.process.BaseProcess]:
    ctx = mp.get_context("spawn")  # no inherited threads or sockets
    share = mix.scaled(producers)
    procs = []
    for i in range(producers):
        job = ProducerJob(i, redis_url, out_dir, share, seconds, seed * 1000 + i)
        proc = ctx.Process(target=produce, args=(job,), name=f"chaos-producer-{i}", daemon=True)
        proc.start()
        procs.append(proc)
    return procs


def stop_producers(procs: list[mp.process.BaseProcess]) -> None:
    """Kill whatever is still publishing (a run that failed midway)."""
    for proc in procs:
        if proc.is_alive():
            proc.kill()
            proc.join(10)


def read_ids(out_dir: Path) -> list[str]:
    ids: list[str] = []
    for path in sorted(out_dir.glob("ids-*.txt")):
        ids += [line for line in path.read_text().splitlines() if line]
    return ids


def producer_stats(out_dir: Path) -> dict[str, int]:
    total: dict[str, int] = {}
    for path in sorted(out_dir.glob("producer-*.json")):
        for key, value in msgspec.json.decode(path.read_bytes()).items():
            total[key] = total.get(key, 0) + value
    return total
