"""The chaos itself: two threads drawing from one seeded RNG each.

The killer SIGKILLs a worker or the dispatcher (supervisord restarts them) at random
intervals. The disrupter, one disruption at a time, restarts Redis (same port and AOF
dir), pauses it (SIGSTOP/SIGCONT) long enough that producers spool, puts the sandbox
into 429 storms, 5xx bursts, slow answers or dropped connections, and deletes a webhook,
restores it and replays its dead letters with `herald dlq replay --channel C`.
"""

import contextlib
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.audit import dead_letters_of
from tests.chaos.stack import Stack
from worker.channels import MAINTENANCE

DISRUPTIONS = (
    "restart_redis", "pause_redis", "storm", "burst_5xx", "slow", "drop", "webhook_outage"
)  # fmt: skip


@dataclass(frozen=True)
class ChaosOptions:
    seed: int = 1
    kill_every: tuple[float, float] = (2.0, 8.0)
    """Seconds between two kills, drawn uniformly."""
    disrupt_every: tuple[float, float] = (3.0, 10.0)
    """Seconds of calm between two disruptions, drawn uniformly."""
    disruption_seconds: tuple[float, float] = (3.0, 8.0)
    pause_seconds: tuple[float, float] = (3.0, 6.0)
    """Longer than the producers' 2 s socket timeout (they spool), shorter than the flush
    lease (10 s), so a paused Redis costs no duplicate."""
    redis_down_seconds: tuple[float, float] = (1.0, 4.0)
    outage_channel: str = MAINTENANCE
    cloudflare_storms: bool = False
    """A 429 without `Via` pauses all sending for 60 s: only in the long run."""
    first: tuple[str, ...] = ("restart_redis", "webhook_outage", "pause_redis")
    """Disruptions done first (in this order), so a short run has each at least once."""


@dataclass
class ChaosLog:
    kills: Counter[str] = field(default_factory=Counter)
    disruptions: Counter[str] = field(default_factory=Counter)
    replayed: int = 0
    timeline: list[tuple[float, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.timeline.append((round(time.time(), 3), what))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kills": dict(self.kills),
            "kills_total": sum(self.kills.values()),
            "disruptions": dict(self.disruptions),
            "dlq_replayed": self.replayed,
            "errors": self.errors,
            "timeline": self.timeline,
        }


class Monkey:
    def __init__(self, stack: Stack, options: ChaosOptions) -> None:
        self.stack = stack
        self.options = options
        self.log = ChaosLog()
        self.stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._guard(self._kill_loop), name="chaos-killer"),
            threading.Thread(target=self._guard(self._disrupt_loop), name="chaos-disrupter"),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def finish(self) -> None:
        """Stop the chaos and leave everything healthy: faults off, webhook restored."""
        self.stop.set()
        for thread in self._threads:
            thread.join(120)
        sandbox = self.stack.sandbox
        assert sandbox is not None
        sandbox.set_faults(fail_rate=0, slow_rate=0, drop_rate=0, storm_seconds=0)
        sandbox.restore_webhook(self.options.outage_channel)

    def _guard(self, loop: Any) -> Any:
        def run() -> None:
            try:
                loop()
            except Exception as exc:  # a chaos bug must not hang the run: record it
                self.log.errors.append(f"{threading.current_thread().name}: {exc!r}")
                self.log.note(f"chaos thread failed: {exc!r}")

        return run

    # -- kills ------------------------------------------------------------------------------

    def _kill_loop(self) -> None:
        rng = random.Random(self.options.seed)
        while not self.stop.wait(rng.uniform(*self.options.kill_every)):
            supervisor = self.stack.supervisor
            assert supervisor is not None
            states = supervisor.states()
            running = sorted(name for name, state in states.items() if state == "RUNNING")
            if not running:
                continue
            dispatch = [n for n in running if n.startswith("dispatch")]
            workers = [n for n in running if n.startswith("worker")]
            pool = dispatch if dispatch and rng.random() < 0.35 else workers or dispatch
            victim = rng.choice(pool)
            pid = supervisor.pids().get(victim)
            if not pid:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                self.log.kills[victim.split(":")[0]] += 1
                self.log.note(f"SIGKILL {victim} (pid {pid})")

    # -- disruptions ------------------------------------------------------------------------

    def _disrupt_loop(self) -> None:
        rng = random.Random(self.options.seed + 1)
        todo = list(self.options.first)
        kinds = [d for d in DISRUPTIONS if d != "webhook_outage"] * 2 + ["webhook_outage"]
        while not self.stop.wait(rng.uniform(*self.options.disrupt_every)):
            what = todo.pop(0) if todo else rng.choice(kinds)
            self.log.disruptions[what] += 1
            getattr(self, "_" + what)(rng)

    def _hold(self, rng: random.Random, span: tuple[float, float]) -> None:
        self.stop.wait(rng.uniform(*span))  # a random chaos interval, not synchronisation

    def _restart_redis(self, rng: random.Random) -> None:
        server = self.stack.redis_server
        assert server is not None
        self.log.note("redis stop")
        server.stop()
        time.sleep(rng.uniform(*self.options.redis_down_seconds))
        server.start(timeout=120)
        self.log.note("redis started")

    def _pause_redis(self, rng: random.Random) -> None:
        server = self.stack.redis_server
        assert server is not None
        self.log.note("redis SIGSTOP")
        server.pause()
        try:
            time.sleep(rng.uniform(*self.options.pause_seconds))
        finally:
            server.resume()
        self.log.note("redis SIGCONT")

    def _faults(self, rng: random.Random, name: str, **faults: Any) -> None:
        sandbox = self.stack.sandbox
        assert sandbox is not None
        sandbox.set_faults(**faults)
        self.log.note(f"sandbox {name} {faults}")
        self._hold(rng, self.options.disruption_seconds)
        sandbox.set_faults(**dict.fromkeys(faults, 0))
        self.log.note(f"sandbox {name} off")

    def _storm(self, rng: random.Random) -> None:
        sandbox = self.stack.sandbox
        assert sandbox is not None
        cloudflare = self.options.cloudflare_storms and rng.random() < 0.15
        is_global = not cloudflare and rng.random() < 0.25
        seconds = rng.uniform(*self.options.disruption_seconds)
        retry_after = round(rng.uniform(0.2, 2.0), 3)
        sandbox.set_faults(
            storm_seconds=seconds, storm_retry_after=retry_after,
            storm_global=is_global, storm_via=not cloudflare,
        )  # fmt: skip
        self.log.note(
            f"sandbox 429 storm {seconds:.1f}s retry_after={retry_after} "
            f"global={is_global} cloudflare={cloudflare}"
        )
        self.stop.wait(seconds)

    def _burst_5xx(self, rng: random.Random) -> None:
        self._faults(rng, "5xx burst", fail_rate=round(rng.uniform(0.2, 0.6), 2))

    def _slow(self, rng: random.Random) -> None:
        # Under Herald's 5 s request timeout: a slow answer is late, not lost.
        seconds = round(rng.uniform(0.3, 2.5), 2)
        self._faults(rng, "slow", slow_rate=round(rng.uniform(0.2, 0.6), 2), slow_seconds=seconds)

    def _drop(self, rng: random.Random) -> None:
        self._faults(rng, "dropped connections", drop_rate=round(rng.uniform(0.1, 0.4), 2))

    def _webhook_outage(self, rng: random.Random) -> None:
        sandbox = self.stack.sandbox
        assert sandbox is not None
        channel = self.options.outage_channel
        sandbox.delete_webhook(channel)
        self.log.note(f"webhook #{channel} deleted")
        low, high = self.options.disruption_seconds
        self._hold(rng, (low, high * 2))
        # Hold on until the outage has cost something (Herald tried the webhook and
        # dead-lettered the channel), so the replay below always has work to do.
        client = self.stack.redis()
        deadline = time.monotonic() + 30
        while not dead_letters_of(client, channel) and time.monotonic() < deadline:
            if self.stop.wait(0.5):
                break
        sandbox.restore_webhook(channel)
        self.log.note(f"webhook #{channel} restored")
        self.replay(channel, tag=f"outage-{self.log.disruptions['webhook_outage']}")

    def replay(self, channel: str, tag: str) -> int:
        """Export the DLQ (for the secret scan), then `herald dlq replay --channel C`."""
        export = self.stack.run_dir / f"dlq-{tag}.jsonl"
        self.stack.herald("dlq", "export", "--jsonl", str(export))
        done = self.stack.herald("dlq", "replay", "--channel", channel)
        if done.returncode != 0:
            self.log.errors.append(f"dlq replay failed: {done.stderr[-500:]}")
            return 0
        count = int(done.stdout.split()[1]) if done.stdout.startswith("replayed") else 0
        self.log.replayed += count
        self.log.note(f"dlq replay --channel {channel}: {count}")
        return count
