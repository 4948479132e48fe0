"""`herald bot register`: put the command definitions on a guild, replacing what is there.

A bulk overwrite (`PUT /applications/{id}/guilds/{guild}/commands`) is idempotent:
running it twice leaves the same commands, and a command removed from the code
disappears from Discord. Guild commands take effect at once (global ones do not).
"""

import json
import re
from typing import Any, Final

import httpx

from bot.commands import payload
from bot.discord_api import TIMEOUT, USER_AGENT
from bot.settings import BotSettings
from ground.errors import ConfigError, HeraldError
from ground.redact import redact

GUILD: Final = re.compile(r"^\d{1,20}$")


def commands_url(settings: BotSettings, guild: str) -> str:
    return f"{settings.api_base}/applications/{settings.application_id}/guilds/{guild}/commands"


def dry_run() -> str:
    return json.dumps(payload(), indent=2, ensure_ascii=False)


def register(
    settings: BotSettings, guild: str, *, transport: httpx.BaseTransport | None = None
) -> list[dict[str, Any]]:
    """Overwrite the guild's commands; returns what Discord now holds."""
    if not GUILD.match(guild):
        raise ConfigError(f"--guild: not a Discord guild id (digits): {guild[:40]!r}")
    if not settings.token:
        raise ConfigError(
            "`bot.token`: missing; set HERALD_DISCORD_BOT_TOKEN (or its _FILE) to register"
        )
    headers = {"Authorization": f"Bot {settings.token}", "User-Agent": USER_AGENT}
    try:
        with httpx.Client(timeout=TIMEOUT, transport=transport) as http:
            response = http.put(commands_url(settings, guild), json=payload(), headers=headers)
    except httpx.HTTPError as exc:
        raise HeraldError(f"could not reach Discord: {type(exc).__name__}") from None
    if response.status_code >= 400:
        said = redact(response.text[:300]).replace(settings.token, "***")
        raise HeraldError(f"Discord refused the commands: HTTP {response.status_code}: {said}")
    found: list[dict[str, Any]] = response.json()
    return found
