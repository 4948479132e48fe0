"""`POST /interactions`: Discord's HTTP interactions, verified, answered within 3 seconds.

Every request is checked before anything else is read from it: the body size, the
Ed25519 signature, the timestamp (401 otherwise), then the interaction id is claimed
once (a replay: 401). A PING is answered `{"type": 1}`. Commands are answered from Redis
at once (type 4) or deferred (type 5) and finished by an RQ job. Nothing a user can
send produces a 500: bad input, Redis down or a bug each get a short ephemeral answer.
"""

import asyncio
import contextlib
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, cast

import httpx
import msgspec
import redis
import redis.asyncio as aioredis
from aiohttp import web

from bot import books_view, health
from bot.alerts import Alerts, target_names
from bot.audit import Audit
from bot.commands import BadInput, Invocation, parse
from bot.control import Control
from bot.deferred import Batches
from bot.discord_api import TIMEOUT, USER_AGENT, edit_original_async, original_url, patch_async
from bot.interaction import Interaction, InteractionType, decode
from bot.jobs import enqueue_pnl
from bot.replies import choices, deferred, message, refusal, reply
from bot.settings import CONTROL, BotSettings
from bot.verify import SIGNATURE, TIMESTAMP, Refused, Verifier, claim_interaction
from ground.redact import redact
from worker.config import Settings

log = logging.getLogger(__name__)

REDIS_DOWN: Final = "⚠️ Herald cannot reach its Redis right now; try again in a minute."
BROKEN: Final = "⚠️ Herald could not answer that (see the bot's log)."
BROKEN_JOB: Final = "Herald could not start computing that (is Redis up?); try again."


@dataclass
class Bot:
    """Everything a request needs, built once per process."""

    settings: BotSettings
    engine: Settings
    aredis: "aioredis.Redis"
    sync: redis.Redis
    audit: Audit
    config_file: str | None = None
    http: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(
            timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}
        )
    )

    def __post_init__(self) -> None:
        self.verifier = Verifier.from_bytes(self.settings.public_key)
        self.shared: health.Shared[dict[str, Any]] = health.Shared()
        self.read_status = health.status_reader(self.sync, self.engine)
        self.batches = Batches(self._start_pnl, self._tell_failed)
        self.control = Control(self.settings, self.aredis, self.audit, self._edit)
        self.alerts = Alerts(self.settings, self.aredis, self.engine.routes, self.audit)

    def __repr__(self) -> str:
        return f"Bot(application={self.settings.application_id})"

    async def _edit(self, interaction: Interaction, body: dict[str, Any]) -> None:
        app_id = interaction.application_id or self.settings.application_id
        await edit_original_async(
            self.http, self.settings.api_base, app_id, interaction.token, body
        )

    async def close(self) -> None:
        self.control.stop()  # unclicked confirmations: a late click still audits them
        running = {*self.control.running, *self.batches.running}
        if running:
            await asyncio.wait(running, timeout=5)
        await self.http.aclose()
        await self.aredis.aclose()
        self.sync.close()

    # -- answering -------------------------------------------------------------------------

    async def answer(self, interaction: Interaction) -> dict[str, Any]:
        """The response to a verified, fresh, first-seen interaction."""
        try:
            return await self._route(interaction)
        except BadInput as exc:
            return refusal(f"⛔ {exc}")
        except redis.RedisError as exc:
            log.warning("redis unavailable while answering: %s", redact(str(exc)))
            return refusal(REDIS_DOWN)
        except Exception:
            log.exception("interaction %s failed", interaction.id)
            return refusal(BROKEN)

    async def _route(self, interaction: Interaction) -> dict[str, Any]:
        if interaction.type == InteractionType.AUTOCOMPLETE:
            return self.autocomplete(interaction)
        if interaction.type == InteractionType.APPLICATION_COMMAND:
            data = interaction.data
            inv = parse(data.name if data else "", data.options if data else [])
            return await self.command(interaction, inv)
        if interaction.type == InteractionType.MESSAGE_COMPONENT and interaction.data:
            return await self.control.click(interaction, interaction.data.custom_id)
        return refusal("⛔ Herald does not take this kind of interaction")

    async def command(self, interaction: Interaction, inv: Invocation) -> dict[str, Any]:
        quiet = not self.settings.public_queries
        name, values = inv.command, inv.values
        allowed = self.settings.permissions.get(name)
        if name not in CONTROL and allowed and not allowed & interaction.roles:
            return refusal(f"⛔ you need a role allowed to /{name}")
        if name == "status":
            read = self.read_status
            return reply(
                await self.shared.get("status", lambda: health.status_message(read(), quiet))
            )
        if name in CONTROL:
            return await self.control.request(interaction, name, str(values["service"]))
        if name == "pnl":
            return await self.pnl(interaction, inv, quiet)
        if name == "alerts":
            return await self.alerts.handle(interaction, inv)
        key = (name, quiet, *sorted(values.items()))
        return reply(await self.shared.get(key, lambda: self._read(name, values, quiet)))

    def _read(self, name: str, values: dict[str, Any], quiet: bool) -> dict[str, Any]:
        """The answers read with the synchronous client (in a thread)."""
        if name == "latency":
            return health.latency_message(self.sync, quiet)
        if name == "trades":
            count, pair = int(values.get("count", 10)), _str(values.get("pair")) or None
            return books_view.trades_message(self.sync, count, pair, quiet)
        if name == "positions":
            return books_view.positions_message(self.sync, quiet)
        raise BadInput(f"unknown command /{name}")  # defined but not wired: a bug

    async def pnl(self, interaction: Interaction, inv: Invocation, quiet: bool) -> dict[str, Any]:
        given = _str(inv.values.get("date"))
        try:
            day = date.fromisoformat(given) if given else None
        except ValueError:
            raise BadInput(f"`date`: {given[:20]!r} is not a date (YYYY-MM-DD)") from None
        app_id = interaction.application_id or self.settings.application_id
        url = original_url(self.settings.api_base, app_id, interaction.token)
        self.batches.add((str(inv.values["period"]), day), url)  # after the answer
        return deferred(quiet)

    async def _start_pnl(self, key: Hashable, urls: list[str]) -> None:
        kind, day = cast(tuple[str, date | None], key)
        await asyncio.to_thread(enqueue_pnl, self.sync, urls, kind, day, self.config_file)

    async def _tell_failed(self, urls: list[str]) -> None:
        for url in urls:
            with contextlib.suppress(Exception):
                await patch_async(self.http, url, message(f"⚠️ {BROKEN_JOB}"))

    def autocomplete(self, interaction: Interaction) -> dict[str, Any]:
        data = interaction.data
        try:
            inv = parse(data.name if data else "", data.options if data else [])
        except BadInput:
            return choices([], "")
        typed = _str(inv.values.get(inv.focused or "", ""))
        if inv.command in CONTROL:
            return choices(self.settings.services, typed)
        if inv.command == "alerts":
            return choices(target_names(self.engine.routes), typed.lstrip("#"))
        return choices([], "")


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


# -- HTTP -----------------------------------------------------------------------------------

BOT: Final = web.AppKey("bot", Bot)
_encode = msgspec.json.Encoder().encode


def _json(body: Any, status: int = 200) -> web.Response:
    """A JSON response, encoded by msgspec (several times faster than `json`)."""
    return web.Response(body=_encode(body), status=status, content_type="application/json")


def _refused(reason: str, status: int = 401) -> web.Response:
    return _json({"error": reason}, status=status)


async def interactions(request: web.Request) -> web.Response:
    bot = request.app[BOT]
    checked = await _verified(request, bot)
    if isinstance(checked, web.Response):
        return checked
    if checked.type == InteractionType.PING:
        return _json({"type": 1})
    try:
        fresh = await claim_interaction(bot.aredis, checked.id)
    except redis.RedisError:
        if checked.type == InteractionType.AUTOCOMPLETE:
            return _json(choices([], ""))
        return _json(refusal(REDIS_DOWN))
    if not fresh:
        log.info("refused a replayed interaction %s", checked.id)
        return _refused("interaction already received")
    return _json(await bot.answer(checked))


async def _verified(request: web.Request, bot: Bot) -> Interaction | web.Response:
    """The interaction, once its size, signature and timestamp are right; else the answer."""
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refused("request body too large", 413)
    try:
        bot.verifier.check(request.headers.get(SIGNATURE), request.headers.get(TIMESTAMP), body)
    except Refused as exc:
        log.info("refused an interaction request: %s", exc.reason)
        return _refused("invalid request signature")
    try:
        return decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return _refused(f"not an interaction: {exc}", 400)


def make_app(bot: Bot) -> web.Application:
    app = web.Application(client_max_size=bot.settings.max_body)
    app[BOT] = bot
    app.router.add_post("/interactions", interactions)
    return app
