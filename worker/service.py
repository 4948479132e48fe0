"""Long-running processes: the dispatcher service and RQ flush workers.

Each runs in the calling process; a pool of workers is supervisord's job (`herald worker
-n N` runs one under it, see herald/supervisor.py), not this module's.
"""

import logging
import os
import signal
import threading
import time

from rq import SimpleWorker

from ground.connect import sync_client
from worker import flush, metrics
from worker.config import Settings
from worker.dispatcher import Dispatcher
from worker.engine import Engine
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
    client = sync_client(settings.redis_url)
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
    client = sync_client(settings.redis_url)
    metrics.engine_metrics(metrics_port, client, settings)
    flush.install(Engine.create(client, settings))
    # RQ refuses a name whose registration is still alive, and a SIGKILLed worker's stays
    # for its TTL (WORKER_TTL_S + 60 s): the pid keeps a restarted slot from colliding with it.
    worker = FlushWorker(
        list(QUEUES),
        connection=client,
        name=f"{name}.{os.getpid()}" if name else None,
        worker_ttl=WORKER_TTL_S,
    )
    worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop
