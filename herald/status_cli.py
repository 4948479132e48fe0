"""`herald status`: the engine at a glance, and a health check for supervisors.

Exit codes: 0 healthy, 1 degraded (the problems say what to do), 2 Redis unreachable
or bad config. So `herald status --json >/dev/null` works as a compose healthcheck.
"""

import argparse
import sys

import msgspec
import redis
from rich.console import Console

from herald.errors import RedisUnavailable
from herald.redact import redact

Sub = "argparse._SubParsersAction[argparse.ArgumentParser]"

HEALTHY, DEGRADED, UNREACHABLE = 0, 1, 2


def add_parser(sub: Sub) -> None:  # type: ignore[valid-type]
    p = sub.add_parser(  # type: ignore[attr-defined]
        "status",
        help="queues, rate limits, workers and the DLQ; exit 0 healthy, 1 degraded, 2 no Redis",
    )
    p.add_argument("--config", help="herald.toml path (default: $HERALD_CONFIG or ./herald.toml)")
    p.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--log-json", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from worker.config import load
    from worker.status import collect
    from worker.status_view import render

    settings = load(args.config)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        status = collect(client, settings)
    except redis.RedisError as exc:
        raise RedisUnavailable(
            f"cannot reach Redis at {redact(settings.redis_url)}: {redact(str(exc))}"
        ) from None
    finally:
        client.close()
    if args.json:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(status)).decode() + "\n")
    else:
        Console().print(render(status))
    return HEALTHY if status.healthy else DEGRADED
