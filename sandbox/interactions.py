"""The sandbox as Discord's side of a bot: commands registered, interactions signed and
sent, answers and `@original` edits kept, buttons clicked.

The sandbox holds its own Ed25519 key pair (its public key is what the bot is configured
with, `GET /api/interactions`). `herald bot register` against the sandbox stores the
command definitions, so a typed `/trades count:5` gets its options typed as Discord
would; a viewer user (or a test) sends a command or clicks a button as any member with
any roles, and the sandbox signs the interaction and POSTs it to the bot's URL.

Follow-up messages (`POST /webhooks/{app}/{token}`, the path shape of Execute Webhook,
which hands a path naming the application here) are played as Discord does: the first
after a deferred answer fills in the "thinking…" message, later ones are new messages;
an unknown token, or one past its 15 minutes, is Discord's 404 Unknown Webhook.
"""

import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from aiohttp import BodyPartReader, web
from nacl.signing import SigningKey

from sandbox import slash
from sandbox.slash import Unsendable

APPLICATION_ID: Final = "1180000000000000001"
GUILD_ID: Final = "1180000000000000002"
MAX_EXCHANGES: Final = 200
SEND_TIMEOUT_S: Final = 3.0
"""Discord waits 3 s for an interaction's first answer, then shows it failed."""
TOKEN_TTL_S: Final = 15 * 60
"""An interaction token answers follow-ups and `@original` edits this long."""


@dataclass
class Exchange:
    """One interaction as Discord saw it: what was sent, the answer, later edits."""

    id: str
    token: str
    kind: int
    text: str
    user: str
    roles: list[str]
    sent_at: float
    status: int | None = None
    response: Any = None
    original: dict[str, Any] | None = None
    """The message as it stands (the answer, then each `@original` edit on top)."""
    edits: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    took_ms: float | None = None
    parent: "Exchange | None" = None
    """A click's: the exchange whose message holds the button (what type 7 and later
    `@original` edits change)."""
    followups: list[dict[str, Any]] = field(default_factory=list)
    """Follow-up messages posted with this interaction's token, oldest first."""

    def live(self, now: float) -> bool:
        return now - self.sent_at < TOKEN_TTL_S

    def view(self) -> dict[str, Any]:
        """What the viewer and tests read (never the token)."""
        return {
            "id": self.id, "kind": self.kind, "text": self.text, "user": self.user,
            "roles": self.roles, "status": self.status, "response": self.response,
            "message": self.original, "edits": self.edits, "took_ms": self.took_ms,
            "files": sorted(self.files), "parent": self.parent.id if self.parent else None,
            "followups": self.followups,
        }  # fmt: skip

    @property
    def target(self) -> "Exchange":
        """The exchange whose message an update or an `@original` edit changes."""
        return self.parent or self


class Desk:
    """The interactions side of one sandbox."""

    def __init__(self, bot_url: str | None = None) -> None:
        self.key = SigningKey.generate()
        self.bot_url = bot_url
        self.commands: dict[str, dict[str, Any]] = {}
        self.exchanges: OrderedDict[str, Exchange] = OrderedDict()
        self._ids = 0

    @property
    def public_key(self) -> str:
        return self.key.verify_key.encode().hex()

    def _next_id(self) -> str:
        self._ids += 1
        return str(((int(time.time() * 1000) - 1420070400000) << 22) + self._ids)

    def next_message_id(self) -> str:
        return self._next_id()

    # -- building interactions ---------------------------------------------------------------

    def command_data(self, text: str) -> dict[str, Any]:
        """`/alerts off target:market-data for:30m` -> the interaction's `data`."""
        return slash.command_data(self.commands, text)

    def interaction(
        self, kind: int, data: dict[str, Any], user: str, roles: list[str], **extra: Any
    ) -> dict[str, Any]:
        return {
            "id": self._next_id(), "application_id": APPLICATION_ID, "type": kind,
            "token": "sbx-" + secrets.token_urlsafe(24), "version": 1, "guild_id": GUILD_ID,
            "channel_id": GUILD_ID, "data": data, "locale": "en-GB",
            "member": {"user": {"id": user, "username": f"member-{user}"}, "roles": roles,
                       "permissions": "0"},
            **extra,
        }  # fmt: skip

    # -- sending -----------------------------------------------------------------------------

    async def send(
        self, body: dict[str, Any], text: str, parent: Exchange | None = None
    ) -> Exchange:
        if not self.bot_url:
            raise Unsendable("no bot configured: start one (herald up --demo does)")
        member = body["member"]
        exchange = Exchange(
            body["id"], body["token"], body["type"], text, member["user"]["id"],
            member["roles"], time.time(), parent=parent,
        )  # fmt: skip
        self._keep(exchange)
        raw = json.dumps(body).encode()
        stamp = str(int(time.time()))
        signature = self.key.sign(stamp.encode() + raw).signature.hex()
        headers = {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": stamp,
                   "Content-Type": "application/json"}  # fmt: skip
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=SEND_TIMEOUT_S) as http:
                answer = await http.post(self.bot_url, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            exchange.status, exchange.response = 0, {"error": f"{type(exc).__name__}"}
            return exchange
        exchange.took_ms = (time.perf_counter() - started) * 1000
        exchange.status = answer.status_code
        try:
            exchange.response = answer.json()
        except ValueError:
            exchange.response = {"error": answer.text[:200]}
        self._answered(exchange)
        return exchange

    def _answered(self, exchange: Exchange) -> None:
        """Type 4/5 start the message; 7 replaces the clicked one; 6 leaves it as it is."""
        response = exchange.response if isinstance(exchange.response, dict) else {}
        kind, data = response.get("type"), response.get("data") or {}
        if kind == 4:
            exchange.original = dict(data)
        elif kind == 5:
            exchange.original = {"content": "", "thinking": True, "flags": data.get("flags", 0)}
        elif kind == 7:
            target = exchange.target
            target.original = {**(target.original or {}), **data}
            target.edits += 1

    def _keep(self, exchange: Exchange) -> None:
        self.exchanges[exchange.id] = exchange
        while len(self.exchanges) > MAX_EXCHANGES:
            self.exchanges.popitem(last=False)

    def by_token(self, token: str) -> Exchange | None:
        return next((e for e in reversed(self.exchanges.values()) if e.token == token), None)


# -- HTTP ------------------------------------------------------------------------------------

DESK: Final = web.AppKey("interactions", Desk)


def _error(status: int, message: str, code: int = 0) -> web.Response:
    return web.json_response({"message": message, "code": code}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"message": "expected a JSON object"}')
    return body


def _member(body: dict[str, Any]) -> tuple[str, list[str]]:
    user = str(body.get("user") or "100000000000000001")
    roles = body.get("roles") or []
    if not user.isdigit() or not all(str(r).isdigit() for r in roles):
        raise Unsendable("user and role ids are digits")
    return user, [str(r) for r in roles]


async def overview(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    return web.json_response({
        "public_key": desk.public_key, "application_id": APPLICATION_ID, "guild_id": GUILD_ID,
        "bot_url": desk.bot_url, "commands": list(desk.commands.values()),
        "exchanges": [e.view() for e in desk.exchanges.values()],
    })  # fmt: skip


async def configure(request: web.Request) -> web.Response:
    body = await _body(request)
    url = body.get("bot_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _error(400, "bot_url: an http(s) URL of the bot's /interactions")
    request.app[DESK].bot_url = url
    return web.json_response({"bot_url": url})


async def command(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    body = await _body(request)
    text = str(body.get("text", ""))
    try:
        user, roles = _member(body)
        payload = desk.interaction(2, desk.command_data(text), user, roles)
        exchange = await desk.send(payload, text)
    except Unsendable as exc:
        return _error(400, str(exc))
    return web.json_response(exchange.view())


async def click(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    body = await _body(request)
    parent = desk.exchanges.get(str(body.get("exchange", "")))
    custom_id = str(body.get("custom_id", ""))
    if parent is None or parent.target.original is None:
        return _error(404, "no such message")
    try:
        user, roles = _member(body)
        message = {"id": parent.target.id, **parent.target.original}
        data = {"custom_id": custom_id, "component_type": 2}
        payload = desk.interaction(3, data, user, roles, message=message)
        exchange = await desk.send(
            payload, f"[clicked {custom_id.partition(':')[0]}]", parent.target
        )
    except Unsendable as exc:
        return _error(400, str(exc))
    return web.json_response(exchange.view())


async def register(request: web.Request) -> web.Response:
    """Bulk overwrite: the definitions replace the guild's commands; each gets an id."""
    if not request.headers.get("Authorization", "").startswith("Bot "):
        return _error(401, "401: Unauthorized")
    if request.match_info["app_id"] != APPLICATION_ID:
        return _error(403, "Missing Access", 50001)
    try:
        given = await request.json()
    except ValueError:
        return _error(400, "Invalid Form Body", 50035)
    if not isinstance(given, list) or not all(isinstance(c, dict) and c.get("name") for c in given):
        return _error(400, "Invalid Form Body", 50035)
    desk = request.app[DESK]
    desk.commands = {
        c["name"]: {**c, "id": str(1180000000000000100 + i), "application_id": APPLICATION_ID}
        for i, c in enumerate(given)
    }
    return web.json_response(list(desk.commands.values()))


def _live(request: web.Request) -> Exchange | web.Response:
    """The exchange a webhook path's token names while the token lives, or Discord's 404."""
    desk = request.app.get(DESK)
    exchange = desk.by_token(request.match_info["token"]) if desk is not None else None
    if exchange is None or request.match_info.get("app_id", APPLICATION_ID) != APPLICATION_ID:
        return _error(404, "Unknown Webhook", 10015)
    if not exchange.live(time.time()):
        return _error(404, "Unknown Webhook", 10015)  # what Discord says past 15 minutes
    return exchange


async def _payload(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    if request.content_type.startswith("multipart/"):
        return await _multipart(request)
    return await _body(request), {}


async def edit_original(request: web.Request) -> web.Response:
    exchange = _live(request)
    if isinstance(exchange, web.Response):
        return exchange
    if exchange.status is None:
        return _error(404, "Unknown Message", 10008)  # not answered yet: nothing to edit
    payload, files = await _payload(request)
    target = exchange.target
    target.original = {**(target.original or {}), **payload, "thinking": False}
    target.files.update(files)
    target.edits += 1
    return web.json_response({"id": target.id, **target.original})


async def follow_up(request: web.Request) -> web.Response:
    """`POST /webhooks/{application id}/{token}`: a follow-up message (Execute Webhook
    hands over the paths that name the application)."""
    exchange = _live(request)
    if isinstance(exchange, web.Response):
        return exchange
    if exchange.status is None:
        return _error(404, "Unknown Webhook", 10015)  # no answer yet: no webhook either
    payload, files = await _payload(request)
    if not any(payload.get(k) for k in ("content", "embeds", "components")) and not files:
        return _error(400, "Cannot send an empty message", 50006)
    shown = exchange.original
    if shown is not None and shown.get("thinking"):  # the first after a defer fills it in
        flags = shown.get("flags", 0)  # and keeps the defer's ephemeral-or-not
        exchange.original = {**shown, **payload, "flags": flags, "thinking": False}
        exchange.files.update(files)
        exchange.edits += 1
        return web.json_response({"id": exchange.id, **exchange.original})
    message = {"id": request.app[DESK].next_message_id(), **payload, "files": sorted(files)}
    exchange.followups.append(message)
    exchange.files.update(files)
    return web.json_response(message)


async def _multipart(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    payload: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "payload_json":
            payload = json.loads(await part.read())
        elif part.filename:
            files[part.filename] = bytes(await part.read())
    return payload, files


async def file(request: web.Request) -> web.Response:
    exchange = request.app[DESK].exchanges.get(request.match_info["exchange"])
    data = exchange.files.get(request.match_info["name"]) if exchange else None
    if data is None:
        raise web.HTTPNotFound()
    return web.Response(body=data, content_type="image/png")


def add_routes(app: web.Application, bot_url: str | None = None) -> None:
    app[DESK] = Desk(bot_url)
    app.router.add_get("/api/interactions", overview)
    app.router.add_post("/api/interactions/config", configure)
    app.router.add_post("/api/interactions/command", command)
    app.router.add_post("/api/interactions/click", click)
    app.router.add_get("/api/interactions/files/{exchange}/{name}", file)
    for prefix in ("/api", "/api/v10"):
        base = prefix + "/applications/{app_id}/guilds/{guild}/commands"
        app.router.add_put(base, register)
        original = prefix + "/webhooks/{app_id}/{token}/messages/@original"
        app.router.add_patch(original, edit_original)
