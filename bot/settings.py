"""`[bot]` in herald.toml: the Discord application, who may do what, and the actions.

Secrets (the bot token, the interaction public key) come from the environment, a
`_FILE`, or the file, and never appear in a repr, a log line or an error. Every problem
stops start-up with a `ConfigError` naming the key.
"""

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Final

import msgspec
from msgspec import Meta

from ground.errors import ConfigError
from ground.names import CHECK_NAME, CHECK_NAME_RULE
from ground.settings import ConfigFile, duration_seconds, read_file

DISCORD_API: Final = "https://discord.com/api/v10"
CONTROL: Final = ("restart", "deploy")
"""The commands that act on a service: confirmed with a button, audited, role-gated."""
MUTE_CRITICAL: Final = "mute_critical"
"""Permission key: who may mute #critical-alerts (default: whoever may `restart`)."""
SERVICE_PLACEHOLDER: Final = "{service}"
DEFAULT_MAX_BODY: Final = 64 * 1024
_SNOWFLAKE: Final = re.compile(r"^\d{1,20}$")
_PUBLIC_KEY: Final = re.compile(r"^[0-9a-fA-F]{64}$")


class ActionFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    command: list[str]
    timeout: str = "60s"


class BotFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    public_key: str | None = None
    public_key_file: str | None = None
    application_id: str | None = None
    token: str | None = None
    token_file: str | None = None
    api_base: str = DISCORD_API
    """Where Discord's API is (the sandbox in tests and the demo)."""
    services: list[str] = msgspec.field(default_factory=list)
    """Services /restart and /deploy may name (listed first), besides the monitor's checks."""
    public_queries: bool = True
    """False: query answers are ephemeral too (only the asker sees them)."""
    max_body: Annotated[int, Meta(ge=1024, le=1024 * 1024)] = DEFAULT_MAX_BODY
    permissions: dict[str, list[str]] = msgspec.field(default_factory=dict)
    actions: dict[str, ActionFile] = msgspec.field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    argv: tuple[str, ...]
    timeout_s: float

    def command_for(self, service: str) -> list[str]:
        """The argv with `{service}` filled in: one argument, never a shell line."""
        return [a.replace(SERVICE_PLACEHOLDER, service) for a in self.argv]


@dataclass(frozen=True)
class BotSettings:
    public_key: bytes = field(repr=False)
    application_id: str
    token: str | None = field(repr=False)
    api_base: str
    services: tuple[str, ...]
    public_queries: bool
    max_body: int
    permissions: Mapping[str, frozenset[str]]
    actions: Mapping[str, Action]

    def roles_for(self, permission: str) -> frozenset[str]:
        """The roles allowed `permission`; empty: nobody (control) or everybody (queries)."""
        if permission == MUTE_CRITICAL and MUTE_CRITICAL not in self.permissions:
            return self.permissions.get("restart", frozenset())
        return self.permissions.get(permission, frozenset())


def load_bot_settings(
    config_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    serving: bool = True,
) -> BotSettings:
    """Read herald.toml (or $HERALD_CONFIG) and the environment into `BotSettings`;
    `serving=False` (registering commands) does not need the public key."""
    env = os.environ if env is None else env
    raw = read_file(config_file, env)
    return bot_settings(raw, env, serving=serving)


def bot_settings(raw: ConfigFile, env: Mapping[str, str], *, serving: bool = True) -> BotSettings:
    from monitor.settings import monitor_settings

    try:
        file = msgspec.convert(raw.bot or {}, BotFile)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"`bot{_path(str(exc))}") from None
    checks = [c.name for c in monitor_settings(raw.monitor).checks]
    services = _services(file.services, checks)
    return BotSettings(
        public_key=_public_key(file, env) if serving else b"",
        application_id=_application_id(file, env),
        token=_secret("HERALD_DISCORD_BOT_TOKEN", "bot.token", file.token, file.token_file, env),
        api_base=env.get("HERALD_DISCORD_API_BASE") or file.api_base.rstrip("/"),
        services=services,
        public_queries=file.public_queries,
        max_body=file.max_body,
        permissions=_permissions(file.permissions),
        actions=_actions(file.actions),
    )


def _path(message: str) -> str:
    """msgspec's `... - at `$.x.y`` as `.x.y`: ...`, so the key leads."""
    match = re.match(r"^(.*) - at `\$(.*)`$", message)
    return f"{match[2]}`: {match[1]}" if match else f"`: {message}"


def _secret(
    var: str, key: str, value: str | None, file: str | None, env: Mapping[str, str]
) -> str | None:
    """$VAR, else the file named by $VAR_FILE or `<key>_file`, else the value in herald.toml."""
    if env.get(var):
        return env[var].strip()
    path, where = (env[var + "_FILE"], var + "_FILE") if env.get(var + "_FILE") else (file, "")
    if path:
        where = where or f"{key}_file"
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"`{where}`: cannot read {path}: {exc.strerror}") from None
    return value.strip() if value else None


def _public_key(file: BotFile, env: Mapping[str, str]) -> bytes:
    var = "HERALD_DISCORD_PUBLIC_KEY"
    text = _secret(var, "bot.public_key", file.public_key, file.public_key_file, env)
    if text is None:
        raise ConfigError(
            f"`bot.public_key`: missing; set {var} (or `[bot] public_key`) to the "
            "application's public key from the Discord developer portal (64 hex digits)"
        )
    if not _PUBLIC_KEY.match(text):
        raise ConfigError(
            f"`bot.public_key` / {var}: not 64 hex digits (an Ed25519 public key); "
            "the value is not shown"
        )
    return bytes.fromhex(text)


def _application_id(file: BotFile, env: Mapping[str, str]) -> str:
    var = "HERALD_DISCORD_APPLICATION_ID"
    text = _secret(var, "bot.application_id", file.application_id, None, env)
    if text is None:
        raise ConfigError(
            f"`bot.application_id`: missing; set {var} (or `[bot] application_id`) "
            "to the application id from the Discord developer portal"
        )
    if not _SNOWFLAKE.match(text):
        raise ConfigError(f"`bot.application_id`: not a Discord id (digits): {text[:40]!r}")
    return text


def _services(named: Sequence[str], checks: Sequence[str]) -> tuple[str, ...]:
    for i, name in enumerate(named):
        if not CHECK_NAME.match(name):
            raise ConfigError(
                f"`bot.services[{i}]`: {name[:40]!r} is not a service name: use "
                f"{CHECK_NAME_RULE} (it becomes one argument of an action)"
            )
    return tuple(dict.fromkeys([*named, *checks]))


def _permissions(given: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    from bot.commands import BY_NAME

    known = (*BY_NAME, MUTE_CRITICAL)
    for name, roles in given.items():
        if name not in known:
            raise ConfigError(f"`bot.permissions.{name}`: unknown; use one of {', '.join(known)}")
        for i, role in enumerate(roles):
            if not _SNOWFLAKE.match(role):
                raise ConfigError(
                    f"`bot.permissions.{name}[{i}]`: {role[:40]!r} is not a role id (digits; "
                    "Discord shows it with developer mode on: right-click the role)"
                )
    return {name: frozenset(roles) for name, roles in given.items()}


def _actions(actions: Mapping[str, ActionFile]) -> dict[str, Action]:
    found: dict[str, Action] = {}
    for name, action in actions.items():
        if name not in CONTROL:
            raise ConfigError(f"`bot.actions.{name}`: unknown action; use one of {CONTROL}")
        if not action.command or not all(action.command):
            raise ConfigError(f"`bot.actions.{name}.command`: an argv list of non-empty strings")
        timeout = duration_seconds(f"bot.actions.{name}.timeout", action.timeout)
        if not 0 < timeout <= 3600:
            raise ConfigError(f"`bot.actions.{name}.timeout`: must be between 0 and 1h")
        found[name] = Action(tuple(action.command), timeout)
    return found
