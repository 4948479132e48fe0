"""Herald's settings: `herald.toml` decoded into typed structs, then environment overrides.

Every problem stops start-up with a `ConfigError` that names the offending key and
never echoes a webhook URL (they are secrets).
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from herald.durations import parse_duration
from herald.errors import ConfigError
from producer.publisher import DEFAULT_REDIS_URL
from schemas.catalog import KINDS
from worker.channels import CHANNELS, DEFAULT_DEDUP_FIELDS, DEFAULT_DIGEST_CHANNELS, DEFAULT_ROUTES

WEBHOOK_URL: Final = re.compile(r"^https?://[^/\s]+(?:/api(?:/v\d+)?)/webhooks/\d+/[^/\s?#]+/?$")
_RATE: Final = re.compile(r"^(\d+)/(\d+(?:\.\d+)?)(ms|s|m)?$")


class ChannelFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    webhook: str | None = None
    webhook_file: str | None = None
    policy: Literal["keep", "digest"] | None = None
    ping_role: Annotated[str, Meta(pattern=r"^\d{1,20}$")] | None = None
    username: Annotated[str, Meta(min_length=1, max_length=80)] = "Herald"


class DedupeFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    window: str = "10m"
    seen_ttl: str = "1h"
    keys: dict[str, list[str]] = msgspec.field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_DEDUP_FIELDS.items()}
    )


class DeliveryFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    max_attempts: Annotated[int, Meta(ge=1, le=1000)] = 12
    max_age: str = "24h"
    rate: list[str] = msgspec.field(default_factory=lambda: ["5/2s", "30/60s"])
    max_lag: str = "60s"
    request_timeout: Annotated[float, Meta(gt=0, le=60)] = 5.0
    ledger_retention: str = "24h"


class ConfigFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    redis_url: str | None = None
    channels: dict[str, ChannelFile] = msgspec.field(default_factory=dict)
    routes: dict[str, list[str]] = msgspec.field(default_factory=dict)
    dedupe: DedupeFile = msgspec.field(default_factory=DedupeFile)
    delivery: DeliveryFile = msgspec.field(default_factory=DeliveryFile)


@dataclass(frozen=True)
class Channel:
    name: str
    webhook_url: str | None
    digest: bool
    ping_role: str | None
    username: str

    def __repr__(self) -> str:  # the URL is a secret: never let a repr carry it
        configured = "configured" if self.webhook_url else "none"
        return f"Channel({self.name!r}, webhook={configured}, digest={self.digest})"


_WEBHOOK_ID: Final = re.compile(r"/webhooks/(\d+)/")


def budget_key(channel: Channel) -> str:
    """The rate budget is per webhook (its id is not secret); two channels may share one."""
    match = _WEBHOOK_ID.search(channel.webhook_url or "")
    return f"webhook:{match[1]}" if match else f"channel:{channel.name}"


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


def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (or $HERALD_CONFIG, or ./herald.toml if present) and the environment."""
    env = os.environ if env is None else env
    raw = _read_file(path, env)
    return _resolve(raw, env)


def _read_file(path: str | Path | None, env: Mapping[str, str]) -> ConfigFile:
    if path is None:
        path = env.get("HERALD_CONFIG") or ("herald.toml" if Path("herald.toml").exists() else None)
    if path is None:
        return ConfigFile()
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        return msgspec.toml.decode(data, type=ConfigFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{path}: {_keyed(str(exc))}") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _keyed(message: str) -> str:
    """msgspec says `... - at `$.delivery.max_attempts``; lead with the key instead."""
    match = re.match(r"^(.*) - at `\$\.?(.*)`$", message)
    return f"`{match[2]}`: {match[1]}" if match else message


def _resolve(raw: ConfigFile, env: Mapping[str, str]) -> Settings:
    for name in raw.channels:
        if name not in CHANNELS:
            raise ConfigError(
                f"`channels.{name}`: unknown channel; use one of {', '.join(CHANNELS)}"
            )
    channels = {
        name: _channel(name, raw.channels.get(name, ChannelFile()), env) for name in CHANNELS
    }
    routes = dict(DEFAULT_ROUTES)
    for kind, targets in raw.routes.items():
        if kind not in KINDS:
            raise ConfigError(f"`routes.{kind}`: unknown event kind; see `herald publish --help`")
        for target in targets:
            if target not in CHANNELS:
                raise ConfigError(f"`routes.{kind}`: unknown channel {target!r}")
        routes[kind] = tuple(targets)
    dedupe_fields: dict[str, tuple[str, ...]] = {}
    for kind, fields in raw.dedupe.keys.items():
        if kind not in KINDS:
            raise ConfigError(f"`dedupe.keys.{kind}`: unknown event kind")
        known = KINDS[kind].__struct_fields__
        for field in fields:
            if field not in known:
                raise ConfigError(f"`dedupe.keys.{kind}`: {kind} has no field {field!r}")
        dedupe_fields[kind] = tuple(fields)
    return Settings(
        redis_url=env.get("HERALD_REDIS_URL")
        or raw.redis_url
        or _running_stack()
        or DEFAULT_REDIS_URL,
        channels=channels,
        routes=routes,
        dedupe_window_s=duration_seconds("dedupe.window", raw.dedupe.window),
        dedupe_fields=dedupe_fields,
        seen_ttl_s=duration_seconds("dedupe.seen_ttl", raw.dedupe.seen_ttl),
        max_attempts=raw.delivery.max_attempts,
        max_age_s=duration_seconds("delivery.max_age", raw.delivery.max_age),
        rate_windows=tuple(
            parse_rate(f"delivery.rate[{i}]", r) for i, r in enumerate(raw.delivery.rate)
        ),
        max_lag_s=duration_seconds("delivery.max_lag", raw.delivery.max_lag),
        request_timeout_s=raw.delivery.request_timeout,
        ledger_retention_s=duration_seconds(
            "delivery.ledger_retention", raw.delivery.ledger_retention
        ),
    )


REDIS_URL_FILE: Final = "redis.url"


def _running_stack() -> str | None:
    """The embedded Redis of a `herald up` running in this directory, so `herald status`
    and `herald dlq` in another terminal find it without any setting."""
    try:
        return (Path(".herald") / REDIS_URL_FILE).read_text().strip() or None
    except OSError:
        return None


def _channel(name: str, raw: ChannelFile, env: Mapping[str, str]) -> Channel:
    var = "HERALD_WEBHOOK_" + name.upper().replace("-", "_")
    url, key = raw.webhook, f"channels.{name}.webhook"
    file = env.get(var + "_FILE") or raw.webhook_file
    if env.get(var):
        url, key = env[var], var
    elif file:
        key = f"{var}_FILE" if env.get(var + "_FILE") else f"channels.{name}.webhook_file"
        try:
            url = Path(file).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"`{key}`: cannot read {file}: {exc.strerror}") from None
    if url is not None and not WEBHOOK_URL.match(url):
        raise ConfigError(
            f"`{key}`: not a Discord webhook URL "
            "(expected https://discord.com/api/webhooks/<id>/<token>; "
            "the value is not shown because it is a secret)"
        )
    policy = raw.policy or ("digest" if name in DEFAULT_DIGEST_CHANNELS else "keep")
    return Channel(name, url, policy == "digest", raw.ping_role, raw.username)


def duration_seconds(key: str, text: str) -> float:
    """`10m`, `1h30m` or ISO `PT10M` -> seconds; a `ConfigError` naming `key` otherwise."""
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"`{key}`: {exc}") from None
    if isinstance(value, str):
        try:
            value = msgspec.convert(value, type=timedelta)
        except msgspec.ValidationError:
            raise ConfigError(f"`{key}`: not a duration: {text!r}") from None
    return value.total_seconds()


def parse_rate(key: str, text: str) -> tuple[int, float]:
    """`5/2s` -> (5, 2.0): at most 5 requests in any 2 s."""
    match = _RATE.match(text.strip())
    if not match or int(match[1]) < 1 or float(match[2]) <= 0:
        raise ConfigError(f"`{key}`: not a rate: {text!r} (use e.g. 5/2s or 30/60s)")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[match[3]]
    return int(match[1]), float(match[2]) * scale
