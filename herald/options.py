"""The options every command that talks to Redis shares, and the one way it connects.

`--redis-url`, `--config` and `--state-dir` feed `ground.settings.redis_location`, so
`herald publish`, `status`, `dlq`, `dispatch` and `worker` find the same Redis as
`Publisher()` and as a `herald up` running in this folder.
"""

import argparse

import redis

from ground.connect import sync_client
from ground.errors import RedisUnavailable
from ground.redact import redact
from ground.settings import RedisLocation, redis_location
from worker.config import Settings, load


def add_redis_options(p: "argparse._ActionsContainer") -> None:
    p.add_argument("--config", help="herald.toml path (default: $HERALD_CONFIG or ./herald.toml)")
    p.add_argument(
        "--redis-url",
        help="Redis URL (default: $HERALD_REDIS_URL, herald.toml's redis_url, the Redis of a "
        "`herald up` running here, else redis://127.0.0.1:6379/0)",
    )
    p.add_argument(
        "--state-dir",
        help="the state dir of the `herald up` whose Redis to use (default: "
        "$HERALD_STATE_DIR or .herald)",
    )


def location(args: argparse.Namespace) -> RedisLocation:
    return redis_location(args.redis_url, config_file=args.config, state_dir=args.state_dir)


def settings(args: argparse.Namespace) -> Settings:
    """The engine's settings for a command, Redis resolved from its options."""
    return load(args.config, redis=args.redis_url, state_dir=args.state_dir)


def connect(where: RedisLocation, timeout: float = 5.0) -> redis.Redis:
    """A client that has answered a PING; else a `RedisUnavailable` saying which Redis
    was tried, why that one, and how to point elsewhere."""
    client = sync_client(where.url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        raise RedisUnavailable(
            f"cannot reach Redis at {where} ({redact(str(exc))}); start it (or `herald up`), "
            "or point at it with --redis-url / HERALD_REDIS_URL"
        ) from None
    return client
