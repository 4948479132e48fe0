"""/alerts off | on | list: mutes with an expiry, kept in Redis for the engine to honour.

A mute targets everything, a channel or an event kind, and always ends by itself (1 h
unless told). Anything that would silence #critical-alerts (everything, the channel, or
a kind routed there) needs the role allowed `mute_critical` and an explicit duration.
"""

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import redis.asyncio as aioredis

from bot.audit import Audit, Outcome
from bot.commands import BadInput, Invocation
from bot.interaction import Interaction
from bot.replies import message, refusal, reply
from bot.settings import MUTE_CRITICAL, BotSettings
from ground import keyspace
from ground.channels import CHANNELS, CRITICAL_ALERTS
from ground.errors import ConfigError
from ground.settings import duration_seconds
from worker import mutes
from worker.muting import NEVER_MUTED

DEFAULT_FOR: Final = "1h"
MAX_FOR_S: Final = 7 * 86_400


def target_names(routes: Mapping[str, tuple[str, ...]]) -> list[str]:
    """What autocomplete offers: every channel, then every event kind."""
    return [*CHANNELS, *sorted(routes)]


def target_of(text: str | None, routes: Mapping[str, tuple[str, ...]]) -> str:
    if not text or text == mutes.ALL:
        return mutes.ALL
    name = text.lstrip("#")
    if name in CHANNELS:
        return mutes.channel_target(name)
    if name in NEVER_MUTED:
        raise BadInput(f"`{name}` is the audit trail: it is never muted")
    if name in routes:
        return mutes.kind_target(name)
    raise BadInput(f"`{text[:40]}` is neither a channel nor an event kind")


def touches_critical(target: str, routes: Mapping[str, tuple[str, ...]]) -> bool:
    if target in (mutes.ALL, mutes.channel_target(CRITICAL_ALERTS)):
        return True
    kind = target.removeprefix(mutes.KIND)
    return target.startswith(mutes.KIND) and CRITICAL_ALERTS in routes.get(kind, ())


shown = mutes.shown


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


class Alerts:
    def __init__(
        self,
        settings: BotSettings,
        client: "aioredis.Redis",
        routes: Mapping[str, tuple[str, ...]],
        audit: Audit,
    ) -> None:
        self.settings = settings
        self.client = client
        self.routes = routes
        self.audit = audit

    async def handle(self, interaction: Interaction, inv: Invocation) -> dict[str, Any]:
        ephemeral = not self.settings.public_queries
        if inv.sub == "off":
            return await self.off(interaction, inv.values, ephemeral)
        if inv.sub == "on":
            return await self.on(interaction, inv.values, ephemeral)
        return await self.list(ephemeral)

    async def off(
        self, interaction: Interaction, values: Mapping[str, Any], ephemeral: bool
    ) -> dict[str, Any]:
        target = target_of(values.get("target"), self.routes)
        given = values.get("for")
        if touches_critical(target, self.routes):
            why = None
            if not self.settings.roles_for(MUTE_CRITICAL) & interaction.roles:
                why = "it needs a role allowed `mute_critical`"
            elif not given:
                why = "say for how long (`for: 30m`)"
            if why:
                operation = f"/alerts off {shown(target)}"
                self.audit.mute(interaction.user_id, operation, Outcome.REFUSED, why)
                return refusal(f"⛔ muting {shown(target)} silences #critical-alerts: {why}")
        try:
            seconds = duration_seconds("for", str(given or DEFAULT_FOR))
        except ConfigError as exc:
            raise BadInput(str(exc)) from None
        if not 0 < seconds <= MAX_FOR_S:
            raise BadInput("`for` must be between 1 s and 7 days")
        now = time.time()
        mute = mutes.Mute(target=target, until=now + seconds, by=interaction.user_id, at=now)
        await self.client.hset(keyspace.MUTES, target, mutes.encode(mute))
        operation = f"/alerts off {shown(target)} for {given or DEFAULT_FOR}"
        until = f"until {_when(mute.until)}"
        self.audit.mute(interaction.user_id, operation, Outcome.SUCCEEDED, until)
        text = f"🔕 {shown(target)} muted {until} by <@{interaction.user_id}>."
        return reply(message(text, ephemeral=ephemeral))

    async def on(
        self, interaction: Interaction, values: Mapping[str, Any], ephemeral: bool
    ) -> dict[str, Any]:
        text = values.get("target")
        if text:
            target = target_of(text, self.routes)
            removed = await self.client.hdel(keyspace.MUTES, target)
            said = f"🔔 {shown(target)} unmuted." if removed else f"{shown(target)} was not muted."
            operation = f"/alerts on {shown(target)}"
        else:
            removed = await self.client.delete(keyspace.MUTES)
            said = "🔔 every mute lifted." if removed else "Nothing was muted."
            operation = "/alerts on (every mute)"
        if removed:  # an unmute changes what is sent; "was not muted" changes nothing
            self.audit.mute(interaction.user_id, operation, Outcome.SUCCEEDED)
        return reply(message(said, ephemeral=ephemeral))

    async def list(self, ephemeral: bool) -> dict[str, Any]:
        found = mutes.decode_all(await self.client.hgetall(keyspace.MUTES), time.time())
        rows = [f"🔕 {shown(m.target)} until {_when(m.until)} (by <@{m.by}>)" for m in found]
        return reply(
            message("\n".join(rows) or "No mutes: every alert is on.", ephemeral=ephemeral)
        )
