"""`[monitor]` in herald.toml: the checks, their thresholds and the maintenance windows.

Decoded from the file's `monitor` table with msgspec, then checked per kind, so a bad
check stops start-up with its key named (`monitor.checks[2].url: ...`). Every check gets
a timeout; nothing here touches the network.
"""

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from ground.errors import ConfigError
from ground.names import CHECK_NAME
from ground.settings import duration_seconds
from schemas.types import NAME_MAX, TEXT_MAX

Kind = Literal["http", "tcp", "redis", "process", "systemd", "command", "heartbeat"]
KINDS: Final[tuple[str, ...]] = Kind.__args__  # type: ignore[attr-defined]


class CheckFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    kind: Kind
    interval: str | None = None
    timeout: str | None = None
    failure_threshold: int = 3
    success_threshold: int = 2
    latency_warn: str | None = None
    server: str = "-"
    impact: str | None = None
    # http
    url: str | None = None
    method: Literal["GET", "HEAD", "POST"] = "GET"
    expect_status: int | list[int] = 200
    body_contains: str | None = None
    json_path: str | None = None
    """`status` or `checks.db.status`: a dotted path into the JSON body..."""
    json_equals: str | int | float | bool | None = None
    """...that must equal this."""
    # tcp and redis
    host: str | None = None
    port: int | None = None
    redis_url: str | None = None
    # process
    pid_file: str | None = None
    process_name: str | None = None
    # systemd
    unit: str | None = None
    # command
    argv: list[str] | str | None = None
    expect_exit: int = 0
    # heartbeat
    exchange: str | None = None
    """A heartbeat check of an exchange connection reports connection_lost / reconnected."""


class WindowFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    start: str
    """Local date and time in `timezone`: `2026-12-05T02:00`."""
    duration: str
    every: str | None = None
    """Repeat: `1d`, `7d`..., from `start`."""
    timezone: str = "UTC"
    checks: list[str] | None = None
    """Names of the checks it covers (default: all)."""
    description: str = "scheduled maintenance"


class MonitorFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    interval: str = "30s"
    timeout: str | None = None
    """Default per-check timeout (default: a third of the interval, at most 10 s)."""
    summary_every: str = "5m"
    group_within: str = "1s"
    """Checks that go DOWN within this long of each other page once, together."""
    latency_samples: int = 5
    """Recent samples that decide a latency trend."""
    self_watch: bool = True
    """Also watch Herald itself (webhooks, DLQ, backlog, dispatchers and workers)."""
    checks: list[CheckFile] = msgspec.field(default_factory=list)
    maintenance: list[WindowFile] = msgspec.field(default_factory=list)


@dataclass(frozen=True)
class CheckSpec:
    """One check, validated: every duration in seconds, every kind's fields present."""

    name: str
    kind: str
    interval_s: float
    timeout_s: float
    failure_threshold: int
    success_threshold: int
    latency_warn_ms: float | None
    server: str
    impact: str
    options: Mapping[str, Any] = field(default_factory=dict)
    """The kind's own fields (url, host, port, argv, ...), as given."""

    @property
    def exchange(self) -> str | None:
        value = self.options.get("exchange")
        return str(value) if value else None


@dataclass(frozen=True)
class MaintenanceWindow:
    start: datetime
    """Aware: in its own timezone, so a repeat keeps local wall-clock time across DST."""
    duration_s: float
    every_s: float | None
    checks: frozenset[str] | None
    description: str


@dataclass(frozen=True)
class MonitorSettings:
    interval_s: float
    summary_every_s: float
    group_within_s: float
    latency_samples: int
    self_watch: bool
    checks: tuple[CheckSpec, ...]
    windows: tuple[MaintenanceWindow, ...]


def monitor_settings(raw: Mapping[str, Any] | None) -> MonitorSettings:
    """Validate the file's `[monitor]` table (None: no table, no checks)."""
    try:
        file = msgspec.convert(raw or {}, MonitorFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"`monitor{_path(str(exc))}") from None
    interval = _positive("monitor.interval", file.interval)
    default_timeout = (
        _positive("monitor.timeout", file.timeout) if file.timeout else min(interval / 3, 10.0)
    )
    checks = tuple(
        _check(f"monitor.checks[{i}]", c, interval, default_timeout)
        for i, c in enumerate(file.checks)
    )
    names = [c.name for c in checks]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"`monitor.checks[{i}].name`: {name!r} is used twice")
    if file.latency_samples < 2:
        raise ConfigError("`monitor.latency_samples`: at least 2 samples make a trend")
    return MonitorSettings(
        interval_s=interval,
        summary_every_s=_positive("monitor.summary_every", file.summary_every),
        group_within_s=duration_seconds("monitor.group_within", file.group_within),
        latency_samples=file.latency_samples,
        self_watch=file.self_watch,
        checks=checks,
        windows=tuple(
            _window(f"monitor.maintenance[{i}]", w, set(names))
            for i, w in enumerate(file.maintenance)
        ),
    )


def _path(message: str) -> str:
    """msgspec's `... - at `$.checks[0].url`` -> `.checks[0].url`: ...`."""
    match = re.match(r"^(.*) - at `\$(.*)`$", message)
    return f"{match[2]}`: {match[1]}" if match else f"`: {message}"


_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "http": ("url",),
    "tcp": ("host", "port"),
    "redis": ("redis_url",),
    "process": (),
    "systemd": ("unit",),
    "command": ("argv",),
    "heartbeat": (),
}


def _check(key: str, c: CheckFile, interval: float, timeout: float) -> CheckSpec:
    if not CHECK_NAME.match(c.name):
        raise ConfigError(
            f"`{key}.name`: {c.name!r} is not a check name (letters, digits, . _ - : @ / +)"
        )
    for key_name in ("server", "impact"):
        value = getattr(c, key_name)
        limit = NAME_MAX if key_name == "server" else TEXT_MAX
        if value is not None and not (value.strip() and len(value) <= limit):
            raise ConfigError(f"`{key}.{key_name}`: 1 to {limit} characters, not blank")
    for required in _REQUIRED[c.kind]:
        if getattr(c, required) in (None, "", []):
            raise ConfigError(f"`{key}.{required}`: a {c.kind} check needs it")
    if c.kind == "process" and not (c.pid_file or c.process_name):
        raise ConfigError(f"`{key}`: a process check needs pid_file or process_name")
    if c.kind == "http" and not str(c.url).startswith(("http://", "https://")):
        raise ConfigError(f"`{key}.url`: not an http(s) URL")
    if (c.json_path is None) != (c.json_equals is None) and c.kind == "http":
        raise ConfigError(f"`{key}`: json_path and json_equals go together")
    for name in ("failure_threshold", "success_threshold"):
        if not 1 <= getattr(c, name) <= 100:
            raise ConfigError(f"`{key}.{name}`: between 1 and 100")
    every = _positive(f"{key}.interval", c.interval) if c.interval else interval
    options = {
        k: v for k, v in msgspec.structs.asdict(c).items() if k not in _COMMON and v is not None
    }
    if isinstance(c.argv, str):
        options["argv"] = shlex.split(c.argv)
    return CheckSpec(
        name=c.name,
        kind=c.kind,
        interval_s=every,
        timeout_s=_positive(f"{key}.timeout", c.timeout) if c.timeout else min(timeout, every),
        failure_threshold=c.failure_threshold,
        success_threshold=c.success_threshold,
        latency_warn_ms=(
            _positive(f"{key}.latency_warn", c.latency_warn) * 1000 if c.latency_warn else None
        ),
        server=c.server,
        impact=c.impact or f"{c.name} is not answering",
        options=options,
    )


_COMMON: Final = frozenset(
    {
        "name",
        "kind",
        "interval",
        "timeout",
        "failure_threshold",
        "success_threshold",
        "latency_warn",
        "server",
        "impact",
    }
)


def _window(key: str, w: WindowFile, names: set[str]) -> MaintenanceWindow:
    try:
        zone = ZoneInfo(w.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"`{key}.timezone`: unknown time zone {w.timezone!r}") from None
    try:
        start = datetime.fromisoformat(w.start)
    except ValueError:
        raise ConfigError(f"`{key}.start`: not a date and time: {w.start!r}") from None
    unknown = sorted(set(w.checks or ()) - names)
    if unknown:
        raise ConfigError(f"`{key}.checks`: no check named {', '.join(unknown)}")
    return MaintenanceWindow(
        start=start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone),
        duration_s=_positive(f"{key}.duration", w.duration),
        every_s=_positive(f"{key}.every", w.every) if w.every else None,
        checks=frozenset(w.checks) if w.checks is not None else None,
        description=w.description,
    )


def _positive(key: str, text: str) -> float:
    seconds = duration_seconds(key, text)
    if seconds <= 0:
        raise ConfigError(f"`{key}`: must be longer than 0")
    return seconds
