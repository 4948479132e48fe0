"""`herald monitor`: the health monitor (checks, pages on changes, the health summary)."""

import argparse
import asyncio
import functools
import signal
import time

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ground import connect
from ground.settings import read_file
from herald import options
from monitor.settings import monitor_settings
from producer import Publisher
from schemas.catalog import AnyEvent
from schemas.envelope import wrap
from worker.config import Settings

Sub = "argparse._SubParsersAction[argparse.ArgumentParser]"
REDIS_CONNECTIONS = 32
"""The monitor's connections to Herald's Redis; more requests wait (up to 2 s) for one."""


def add_parser(sub: Sub) -> None:  # type: ignore[valid-type]
    p = sub.add_parser(  # type: ignore[attr-defined]
        "monitor",
        help="run the checks in herald.toml [monitor], page on changes, send health summaries",
    )
    options.add_redis_options(p)
    p.add_argument(
        "--metrics-port", type=int, default=0, metavar="PORT", help="Prometheus metrics (0: off)"
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--log-json", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _post_directly(engine: Settings, event: AnyEvent, channels: tuple[str, ...] | None) -> None:
    """A page about the engine itself goes around it, straight to the webhooks."""
    from herald.direct import post

    envelope = wrap(event, source="herald-monitor", now_ns=time.time_ns(), channels=channels)
    post(envelope, engine)


def run(args: argparse.Namespace) -> int:
    from monitor.service import Monitor
    from worker.metrics import serve

    engine = options.settings(args)  # a bad herald.toml stops here, key named
    settings = monitor_settings(read_file(args.config).monitor)
    serve(args.metrics_port)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        # No retries inside redis-py: a turn that cannot reach Redis fails fast and the
        # loop goes on probing; the next turn tries again. A blocking pool: a round of
        # 500 checks finishing together waits its turn for a connection instead of
        # losing results to "Too many connections".
        client = connect.async_client(
            engine.redis_url,
            blocking=True,
            max_connections=REDIS_CONNECTIONS,
            timeout=2,
            socket_timeout=2,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 0),
        )
        sync_client = connect.sync_client(engine.redis_url, socket_timeout=5)
        with Publisher(engine.redis_url, source="herald-monitor") as publisher:
            monitor = Monitor(
                settings,
                engine,
                publisher.publish,
                client=client,
                sync_client=sync_client,
                direct=functools.partial(_post_directly, engine),
            )
            await monitor.run(stop)
        await client.aclose()
        sync_client.close()

    asyncio.run(main())
    return 0
