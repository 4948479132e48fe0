"""`herald status`: the engine at a glance, and a health check for supervisors.

Exit codes: 0 healthy, 1 degraded (the problems say what to do), 2 Redis unreachable
or bad config. So `herald status --json >/dev/null` works as a compose healthcheck.
Notes (a backlog draining at Discord's limit, a stale monitor check) keep exit 0, and so
does a monitor check that is down: the monitor pages for those, and the exit code stays
about Herald's own delivery (plus `monitor-stale`: a monitor that ran none of its checks).
"""

import argparse
import sys

import msgspec
import redis
from rich.console import Console

from ground.errors import RedisUnavailable
from ground.redact import redact
from herald import options

Sub = "argparse._SubParsersAction[argparse.ArgumentParser]"

HEALTHY, DEGRADED, UNREACHABLE = 0, 1, 2


def add_parser(sub: Sub) -> None:  # type: ignore[valid-type]
    p = sub.add_parser(  # type: ignore[attr-defined]
        "status",
        help="queues, rate limits, workers and the DLQ; exit 0 healthy, 1 degraded, 2 no Redis",
    )
    options.add_redis_options(p)
    p.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--log-json", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from worker.status import collect
    from worker.status_view import render

    settings = options.settings(args)
    where = options.location(args)
    client = options.connect(where)
    try:
        status = collect(client, settings)
    except redis.RedisError as exc:
        raise RedisUnavailable(f"lost Redis at {where}: {redact(str(exc))}") from None
    finally:
        client.close()
    if args.json:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(status)).decode() + "\n")
    else:
        Console().print(render(status))
    return HEALTHY if status.healthy else DEGRADED
