"""Long-running processes: the dispatcher service and RQ flush workers.

`herald worker -n N` runs N single-process RQ workers as children and restarts any that
die. Each child asks the kernel to SIGTERM it if the parent dies (PR_SET_PDEATHSIG), so
a SIGKILLed pool leaves no orphans, the weakness of `rq worker-pool` that DESIGN.md notes.
"""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import redis
from rq import SimpleWorker

from herald.proc import die_with_parent
from worker import flush, metrics
from worker.config import Settings
from worker.dispatcher import Dispatcher
from worker.kicker import QUEUES, Kicker

log = logging.getLogger("herald.service")

SWEEP_EVERY_S = 0.25
WORKER_TTL_S = 35
"""RQ heartbeats an idle worker every TTL - 15 s; `herald status` wants to see one a minute."""


def run_dispatcher(
    settings: Settings,
    *,
    name: str | None = None,
    stop: threading.Event | None = None,
    drain: bool = False,
    metrics_port: int = 0,
) -> Dispatcher:
    client = redis.Redis.from_url(settings.redis_url)
    metrics.engine_metrics(metrics_port, client, settings)
    kicker = Kicker(client, settings)
    dispatcher = Dispatcher(client, settings, name=name, on_touched=kicker.kick)
    stop = stop or _stop_on_signals()
    next_sweep = 0.0

    def tick() -> None:
        nonlocal next_sweep
        if time.monotonic() >= next_sweep:
            next_sweep = time.monotonic() + SWEEP_EVERY_S
            kicker.sweep()

    log.info("dispatcher %s reading %s", dispatcher.name, ", ".join(dispatcher.streams))
    dispatcher.run(stop, drain=drain, tick=tick)
    log.info("dispatcher %s stopped: %s", dispatcher.name, dispatcher.stats)
    return dispatcher


class FlushWorker(SimpleWorker):
    """An RQ worker that lets a flush job finish its request in flight on SIGTERM."""

    def handle_warm_shutdown_request(self) -> None:
        flush.stop_requested.set()
        super().handle_warm_shutdown_request()  # type: ignore[no-untyped-call]


def run_worker(
    settings: Settings, *, name: str | None = None, burst: bool = False, metrics_port: int = 0
) -> None:
    """One RQ worker in this process, serving the flush queues in priority order."""
    client = redis.Redis.from_url(settings.redis_url)
    metrics.engine_metrics(metrics_port, client, settings)
    flush.install(flush.Engine.create(client, settings))
    # RQ refuses a name whose registration is still alive, and a SIGKILLed worker's stays
    # for its TTL (WORKER_TTL_S + 60 s): the pid keeps a restarted slot from colliding with it.
    worker = FlushWorker(
        list(QUEUES),
        connection=client,
        name=f"{name}.{os.getpid()}" if name else None,
        worker_ttl=WORKER_TTL_S,
    )
    worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)


def run_pool(
    count: int, argv: list[str], *, child_args: Callable[[int], list[str]] | None = None
) -> int:
    """Run `count` copies of `herald worker -n 1 ...`, restarting any that exit.

    `child_args(index)` adds per-child flags (each child's own metrics port).
    """
    stop = _stop_on_signals()
    children: dict[int, subprocess.Popen[bytes]] = {}

    def spawn(index: int) -> None:
        cmd = [
            sys.executable,
            "-m",
            "herald.cli",
            "worker",
            "-n",
            "1",
            "--name",
            f"{os.getpid()}-{index}",
            *argv,
            *(child_args(index) if child_args else []),
        ]
        children[index] = subprocess.Popen(cmd, preexec_fn=die_with_parent)  # noqa: PLW1509

    for i in range(count):
        spawn(i)
    log.info("worker pool: %d workers on %s", count, ", ".join(QUEUES))
    while not stop.wait(0.5):
        for index, child in list(children.items()):
            if child.poll() is not None:
                log.warning("worker %d exited with %s; restarting it", index, child.returncode)
                spawn(index)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children.values():
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop
