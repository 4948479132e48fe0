"""The engine's settings: `herald.toml` and the environment (ground.settings), with the
routes and dedupe keys checked against the event kinds.

Every problem stops start-up with a `ConfigError` that names the offending key and
never echoes a webhook URL (they are secrets).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ground.errors import ConfigError
from ground.settings import (
    Channel,
    ConfigFile,
    channels,
    duration_seconds,
    rate_window,
    read_file,
    redis_url,
)
from schemas.catalog import KINDS
from worker.channels import CHANNELS, DEFAULT_DEDUP_FIELDS, DEFAULT_ROUTES


@dataclass(frozen=True)
class Settings:
    redis_url: str
    channels: Mapping[str, Channel]
    routes: Mapping[str, tuple[str, ...]]
    dedupe_window_s: float
    dedupe_fields: Mapping[str, tuple[str, ...]]
    seen_ttl_s: float
    max_attempts: int
    max_age_s: float
    rate_windows: tuple[tuple[int, float], ...]
    max_lag_s: float
    request_timeout_s: float
    ledger_retention_s: float = 86_400.0
    """How long the ledger (what became of each event id) is kept; also capped in size."""


def load(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    redis: str | None = None,
    state_dir: str | Path | None = None,
) -> Settings:
    """Read `path` (or $HERALD_CONFIG, or ./herald.toml if present) and the environment;
    `redis` and `state_dir` are a command's --redis-url and --state-dir."""
    env = os.environ if env is None else env
    raw = read_file(path, env)
    return Settings(
        redis_url=redis_url(redis, env=env, config=raw, config_file=path, state_dir=state_dir),
        channels=channels(raw, env),
        routes=_routes(raw),
        dedupe_window_s=duration_seconds("dedupe.window", raw.dedupe.window),
        dedupe_fields=_dedupe_fields(raw),
        seen_ttl_s=duration_seconds("dedupe.seen_ttl", raw.dedupe.seen_ttl),
        max_attempts=raw.delivery.max_attempts,
        max_age_s=duration_seconds("delivery.max_age", raw.delivery.max_age),
        rate_windows=tuple(
            rate_window(f"delivery.rate[{i}]", r) for i, r in enumerate(raw.delivery.rate)
        ),
        max_lag_s=duration_seconds("delivery.max_lag", raw.delivery.max_lag),
        request_timeout_s=raw.delivery.request_timeout,
        ledger_retention_s=duration_seconds(
            "delivery.ledger_retention", raw.delivery.ledger_retention
        ),
    )


def _routes(raw: ConfigFile) -> dict[str, tuple[str, ...]]:
    routes = dict(DEFAULT_ROUTES)
    for kind, targets in raw.routes.items():
        if kind not in KINDS:
            raise ConfigError(f"`routes.{kind}`: unknown event kind; see `herald publish --help`")
        for target in targets:
            if target not in CHANNELS:
                raise ConfigError(f"`routes.{kind}`: unknown channel {target!r}")
        routes[kind] = tuple(targets)
    return routes


def _dedupe_fields(raw: ConfigFile) -> dict[str, tuple[str, ...]]:
    configured = raw.dedupe.keys
    if configured is None:
        return dict(DEFAULT_DEDUP_FIELDS)
    out: dict[str, tuple[str, ...]] = {}
    for kind, fields in configured.items():
        if kind not in KINDS:
            raise ConfigError(f"`dedupe.keys.{kind}`: unknown event kind")
        known = KINDS[kind].__struct_fields__
        for field in fields:
            if field not in known:
                raise ConfigError(f"`dedupe.keys.{kind}`: {kind} has no field {field!r}")
        out[kind] = tuple(fields)
    return out
