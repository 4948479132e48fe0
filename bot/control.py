"""/restart and /deploy: role-gated, confirmed with a button, run once, audited.

The command answers with a danger button whose `custom_id` carries a random nonce; the
nonce's record in Redis binds it to the user, the action, the service and a 60-second
expiry. A click is checked again (same user, a role still allowed, not expired) and then
claims the record with GETDEL: of two clicks that arrive together exactly one gets it,
so the action runs once. A confirmation nobody clicks is audited "expired" when its 60 s
run out, by the process that asked: a timer deletes the record, and of it and a late
click only the one whose DELETE removed it audits, so "expired" is said once. The action
is a configured argv with `{service}` filled in (never a shell line), in its own process
group, killed with the group at its timeout.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import msgspec
import redis
import redis.asyncio as aioredis

from bot.audit import Audit, Outcome
from bot.interaction import Interaction, ResponseType
from bot.replies import clip, message, refusal, respond
from bot.settings import BotSettings
from ground import keyspace
from ground.redact import redact
from monitor.local_probes import Finished, run_bounded

log = logging.getLogger(__name__)

CONFIRM_S: Final = 60.0
RECORD_TTL_S: Final = 15 * 60
"""The record outlives its 60 s so a late click can be told "expired" (and audited)."""
TAIL_CHARS: Final = 1200
CONFIRM, CANCEL = "confirm", "cancel"

Runner = Callable[[Sequence[str], float], Awaitable[Finished]]
Edit = Callable[[Interaction, dict[str, Any]], Awaitable[None]]


class Pending(msgspec.Struct, frozen=True):
    user: str
    action: str
    service: str
    expires: float


_decode = msgspec.json.Decoder(Pending).decode


class Control:
    def __init__(
        self,
        settings: BotSettings,
        client: "aioredis.Redis",
        audit: Audit,
        edit: Edit,
        runner: Runner = run_bounded,
        *,
        confirm_s: float = CONFIRM_S,
    ) -> None:
        self.settings = settings
        self.client = client
        self.audit = audit
        self.edit = edit
        self.runner = runner
        self.confirm_s = confirm_s
        self.running: set[asyncio.Task[None]] = set()
        self.lapsing: set[asyncio.Task[None]] = set()
        """Timers of confirmations not clicked yet (cancelled when the bot stops)."""

    # -- the command -----------------------------------------------------------------------

    def _refuse(self, who: str, action: str, service: str, why: str) -> dict[str, Any]:
        self.audit(who, action, service, Outcome.REFUSED, why)
        return refusal(f"⛔ /{action} {clip(service, 60)}: {why}")

    def _gate(self, interaction: Interaction, action: str) -> str | None:
        """Why `interaction`'s member may not `action`, or None if they may."""
        roles = self.settings.roles_for(action)
        if not roles:
            return f"no role may /{action} here (set [bot.permissions] {action} in herald.toml)"
        if not roles & interaction.roles:
            return f"you need a role allowed to /{action}"
        return None

    async def request(self, interaction: Interaction, action: str, service: str) -> dict[str, Any]:
        who = interaction.user_id
        why = self._gate(interaction, action)
        if why is None and service not in self.settings.services:
            why = "not a configured service (pick one from the list)"
        if why is None and action not in self.settings.actions:
            why = f"no command is configured for it (set [bot.actions.{action}])"
        if why is not None:
            return self._refuse(who, action, service, why)
        nonce = secrets.token_urlsafe(16)
        pending = Pending(who, action, service, time.time() + self.confirm_s)
        await self.client.set(
            keyspace.bot_confirm(nonce), msgspec.json.encode(pending), ex=RECORD_TTL_S
        )
        timer = asyncio.create_task(self._lapse(interaction, keyspace.bot_confirm(nonce), pending))
        self.lapsing.add(timer)
        timer.add_done_callback(self.lapsing.discard)
        argv = redact(" ".join(self.settings.actions[action].command_for(service)))
        text = f"⚠️ {action.capitalize()} **{service}**? This runs `{clip(argv, 300)}`."
        text += f" Confirm within {self.confirm_s:.0f} s."
        buttons = [
            _button(4, f"{action.capitalize()} {service}", f"{CONFIRM}:{nonce}"),
            _button(2, "Cancel", f"{CANCEL}:{nonce}"),
        ]
        row = [{"type": 1, "components": buttons}]
        return respond(ResponseType.MESSAGE, message(text, components=row, ephemeral=True))

    # -- the click -------------------------------------------------------------------------

    async def click(self, interaction: Interaction, custom_id: str) -> dict[str, Any]:
        verb, _, nonce = custom_id.partition(":")
        if verb not in (CONFIRM, CANCEL) or not nonce or len(nonce) > 64:
            return refusal("⛔ unknown button")
        key = keyspace.bot_confirm(nonce)
        raw = await self.client.get(key)
        if raw is None:
            return _update("This confirmation is gone: it was used or is long expired.")
        pending = _decode(raw)
        who = interaction.user_id
        if who != pending.user:
            return self._refuse(who, pending.action, pending.service, "only the asker may confirm")
        if verb == CANCEL:
            if await self.client.delete(key):
                self.audit(who, pending.action, pending.service, Outcome.CANCELLED)
            return _update(f"Cancelled: /{pending.action} {pending.service} did not run.")
        return await self._confirm(interaction, key, pending)

    async def _confirm(self, interaction: Interaction, key: str, p: Pending) -> dict[str, Any]:
        who = interaction.user_id
        if time.time() > p.expires:
            if await self.client.delete(key):
                self.audit(who, p.action, p.service, Outcome.EXPIRED)
            return _update(f"⌛ Expired: /{p.action} {p.service} was not confirmed in time.")
        why = self._gate(interaction, p.action)
        if why is not None:
            return self._refuse(who, p.action, p.service, why)
        if await self.client.getdel(key) is None:  # the other click of a double click
            return respond(ResponseType.DEFERRED_UPDATE)
        self.audit(who, p.action, p.service, Outcome.CONFIRMED)
        task = asyncio.create_task(self._run(interaction, p))
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        return _update(f"⏳ /{p.action} {p.service}: running…")

    async def _lapse(self, interaction: Interaction, key: str, p: Pending) -> None:
        """When the confirmation runs out unclicked: audit "expired", take the buttons away."""
        await asyncio.sleep(max(0.0, p.expires - time.time()))
        try:
            if not await self.client.delete(key):
                return  # clicked (confirmed, cancelled) or a late click said "expired" first
        except redis.RedisError as exc:  # a late click still audits it
            log.warning("could not expire a confirmation: %s", redact(str(exc)))
            return
        why = f"not confirmed within {self.confirm_s:g} s"
        self.audit(p.user, p.action, p.service, Outcome.EXPIRED, why)
        text = f"⌛ Expired: /{p.action} {p.service} was not confirmed in time."
        try:
            await self.edit(interaction, message(text, components=[], ephemeral=True))
        except Exception as exc:  # the token may be gone; the audit line is what counts
            log.info("could not mark the confirmation expired: %s", redact(str(exc)))

    def stop(self) -> None:
        for timer in self.lapsing:
            timer.cancel()

    async def _run(self, interaction: Interaction, p: Pending) -> None:
        action = self.settings.actions[p.action]
        argv = action.command_for(p.service)
        try:
            done = await self.runner(argv, action.timeout_s)
        except OSError as exc:
            done = Finished(127, b"", f"cannot run {argv[0]}: {exc.strerror}".encode())
        ok = done.code == 0
        head = _verdict(done, action.timeout_s)
        tail = _tail(done)
        self.audit(
            interaction.user_id,
            p.action,
            p.service,
            Outcome.SUCCEEDED if ok else Outcome.FAILED,
            f"{head}\n{tail}".strip(),
        )
        mark = "✅" if ok else "❌"
        text = f"{mark} /{p.action} {p.service}: {head}"
        if tail:
            text += "\n```\n" + tail + "\n```"
        try:
            await self.edit(interaction, message(text, components=[], ephemeral=True))
        except Exception as exc:  # the action ran; only telling the user failed
            log.warning("could not edit the confirmation message: %s", redact(str(exc)))


def _button(style: int, label: str, custom_id: str) -> dict[str, Any]:
    return {"type": 2, "style": style, "label": clip(label, 80), "custom_id": custom_id}


def _update(text: str) -> dict[str, Any]:
    """Type 7: replace the confirmation message (and remove its buttons)."""
    return respond(ResponseType.UPDATE_MESSAGE, message(text, components=[]))


def _verdict(done: Finished, timeout_s: float) -> str:
    if done.code is None:
        return f"killed after {timeout_s:g} s (timeout)"
    if done.code < 0:
        return f"killed by signal {-done.code}"
    return f"exit code {done.code}"


def _tail(done: Finished) -> str:
    """The last lines of the output, redacted, with no way to close the code block."""
    text = (done.stdout + done.stderr).decode("utf-8", "replace").strip()
    text = redact(text).replace("```", "'''")
    return text[-TAIL_CHARS:]
