"""`herald.toml`, the environment, and the one way every Herald process finds Redis.

The file is decoded into typed structs; every problem stops start-up with a
`ConfigError` naming the offending key, and never echoes a secret (webhook URLs).
The engine's own settings (routes and dedupe checked against the event kinds) are
built on top of this in `worker.config`.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from ground.channels import CHANNELS, MARKET_DATA, webhook_env
from ground.durations import parse_duration
from ground.errors import ConfigError
from ground.rates import CHANNEL_RATE, WEBHOOK_RATE, parse_rate
from ground.redact import redact

DEFAULT_REDIS_URL: Final = "redis://127.0.0.1:6379/0"
STATE_DIR: Final = ".herald"
"""Where `herald up` keeps its state (Redis data, logs) unless told `--state-dir`."""
REDIS_URL_FILE: Final = "redis.url"
"""In the state dir: the URL of the Redis a running `herald up` started, and its pid."""
WEBHOOK_URL: Final = re.compile(r"^https?://[^/\s]+(?:/api(?:/v\d+)?)/webhooks/\d+/[^/\s?#]+/?$")
DIGEST_CHANNELS: Final = (MARKET_DATA,)
"""Channels whose backlog collapses into a digest unless configured `policy = "keep"`."""


class ChannelFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    webhook: str | None = None
    webhook_file: str | None = None
    policy: Literal["keep", "digest"] | None = None
    ping_role: Annotated[str, Meta(pattern=r"^\d{1,20}$")] | None = None
    username: Annotated[str, Meta(min_length=1, max_length=80)] = "Herald"


class DedupeFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    window: str = "10m"
    seen_ttl: str = "1h"
    keys: dict[str, list[str]] | None = None
    """Per alert kind, the fields that make up its fold key (None: the engine's defaults)."""


class DeliveryFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    max_attempts: Annotated[int, Meta(ge=1, le=1000)] = 12
    max_age: str = "24h"
    rate: list[str] = msgspec.field(default_factory=lambda: [str(WEBHOOK_RATE), str(CHANNEL_RATE)])
    max_lag: str = "60s"
    request_timeout: Annotated[float, Meta(gt=0, le=60)] = 5.0
    ledger_retention: str = "24h"


class ConfigFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    redis_url: str | None = None
    channels: dict[str, ChannelFile] = msgspec.field(default_factory=dict)
    routes: dict[str, list[str]] = msgspec.field(default_factory=dict)
    dedupe: DedupeFile = msgspec.field(default_factory=DedupeFile)
    delivery: DeliveryFile = msgspec.field(default_factory=DeliveryFile)
    monitor: dict[str, Any] | None = None
    """`[monitor]`: checked by the monitor's own settings (monitor/settings.py)."""
    reports: dict[str, Any] | None = None
    """`[reports]`: checked by the books' own settings (books/settings.py)."""
    bot: dict[str, Any] | None = None
    """`[bot]`: checked by the bot's own settings (bot/settings.py)."""


# -- the file ---------------------------------------------------------------------------------


def config_path(path: str | Path | None, env: Mapping[str, str]) -> Path | None:
    """`path`, else $HERALD_CONFIG, else ./herald.toml if there is one."""
    if path is None:
        path = env.get("HERALD_CONFIG") or ("herald.toml" if Path("herald.toml").exists() else None)
    return None if path is None else Path(path)


def read_file(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> ConfigFile:
    env = os.environ if env is None else env
    where = config_path(path, env)
    if where is None:
        return ConfigFile()
    try:
        data = where.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {where}: {exc.strerror}") from None
    try:
        return msgspec.toml.decode(data, type=ConfigFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{where}: {_keyed(str(exc))}") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None


def _keyed(message: str) -> str:
    """msgspec says `... - at `$.delivery.max_attempts``; lead with the key instead."""
    match = re.match(r"^(.*) - at `\$\.?(.*)`$", message)
    return f"`{match[2]}`: {match[1]}" if match else message


# -- Redis: one resolution for every command, service and `Publisher()` ------------------------


@dataclass(frozen=True)
class RedisLocation:
    """A Redis URL and which rule chose it, so an error can say where it came from."""

    url: str
    origin: str

    def __str__(self) -> str:
        return f"{redact(self.url)} ({self.origin})"


def redis_location(
    explicit: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config: ConfigFile | None = None,
    config_file: str | Path | None = None,
    state_dir: str | Path | None = None,
) -> RedisLocation:
    """The first of: `explicit` -> $HERALD_REDIS_URL -> herald.toml's `redis_url` -> the
    Redis a running `herald up` recorded in the state dir (`state_dir`, else
    $HERALD_STATE_DIR, else ./.herald) -> redis://127.0.0.1:6379/0."""
    env = os.environ if env is None else env
    if explicit:
        return RedisLocation(explicit, "given explicitly")
    if env.get("HERALD_REDIS_URL"):
        return RedisLocation(env["HERALD_REDIS_URL"], "from HERALD_REDIS_URL")
    raw = config if config is not None else read_file(config_file, env)
    if raw.redis_url:
        where = config_path(config_file, env)
        return RedisLocation(raw.redis_url, f"from {where or 'herald.toml'}")
    folder = Path(state_dir or env.get("HERALD_STATE_DIR") or STATE_DIR)
    recorded = recorded_redis_url(folder)
    if recorded:
        return RedisLocation(recorded, f"the `herald up` running with {folder}")
    return RedisLocation(
        DEFAULT_REDIS_URL, "the default: no HERALD_REDIS_URL, herald.toml or `herald up` here"
    )


def redis_url(explicit: str | None = None, **how: object) -> str:
    """Just the URL of `redis_location` (same arguments)."""
    return redis_location(explicit, **how).url  # type: ignore[arg-type]


def record_redis_url(state_dir: Path, url: str) -> None:
    """Tell commands run beside a `herald up` where its Redis is (until it stops)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / REDIS_URL_FILE).write_text(f"{url}\n{os.getpid()}\n")


def forget_redis_url(state_dir: Path) -> None:
    (state_dir / REDIS_URL_FILE).unlink(missing_ok=True)


def recorded_redis_url(state_dir: Path) -> str | None:
    """The recorded URL while the `herald up` that wrote it is alive (a SIGKILLed one
    leaves the file behind; its pid tells us to ignore it)."""
    try:
        lines = (state_dir / REDIS_URL_FILE).read_text().split()
    except OSError:
        return None
    if not lines:
        return None
    if len(lines) > 1 and lines[1].isdigit() and not _alive(int(lines[1])):
        return None
    return lines[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- channels and their webhooks ---------------------------------------------------------------


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


def channels(raw: ConfigFile, env: Mapping[str, str]) -> dict[str, Channel]:
    """Every channel, with its webhook from HERALD_WEBHOOK_<NAME>, its `_FILE`, or the file."""
    for name in raw.channels:
        if name not in CHANNELS:
            raise ConfigError(
                f"`channels.{name}`: unknown channel; use one of {', '.join(CHANNELS)}"
            )
    return {name: _channel(name, raw.channels.get(name, ChannelFile()), env) for name in CHANNELS}


def _channel(name: str, raw: ChannelFile, env: Mapping[str, str]) -> Channel:
    var = webhook_env(name)
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
    policy = raw.policy or ("digest" if name in DIGEST_CHANNELS else "keep")
    return Channel(name, url, policy == "digest", raw.ping_role, raw.username)


_WEBHOOK_ID: Final = re.compile(r"/webhooks/(\d+)/")


def budget_key(channel: Channel) -> str:
    """The rate budget is per webhook (its id is not secret); two channels may share one."""
    match = _WEBHOOK_ID.search(channel.webhook_url or "")
    return f"webhook:{match[1]}" if match else f"channel:{channel.name}"


# -- values -----------------------------------------------------------------------------------


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


def rate_window(key: str, text: str) -> tuple[int, float]:
    """`5/2s` -> (5, 2.0): at most 5 requests in any 2 s; a `ConfigError` naming `key`."""
    try:
        rate = parse_rate(text)
    except ValueError as exc:
        raise ConfigError(f"`{key}`: {exc}") from None
    return rate.limit, rate.period
