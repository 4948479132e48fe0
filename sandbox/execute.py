"""`POST /api/webhooks/{id}/{token}`: Discord's Execute Webhook, answered like Discord.

Order matters and mirrors Discord: injected faults first (they stand for the network
and Cloudflare), then rate limits (which invalid requests count toward), then the
webhook and token, then the body. Tokens never reach a log: paths go through `redact`.
"""

import asyncio
import logging
import math
import re
import time
from typing import Any

import msgspec
from aiohttp import web

from ground.redact import redact
from sandbox import interactions
from sandbox.faults import Decision, Storm
from sandbox.files import StoredFile
from sandbox.multipart import Upload, attachment_refs, check_json, is_multipart, read_message
from sandbox.ratelimit import SCOPE_GLOBAL, SCOPE_SHARED, SCOPE_USER, Verdict
from sandbox.state import SandboxState
from sandbox.store import iso_now
from sandbox.validation import Rejection, validate_message
from sandbox.webhooks import Webhook

log = logging.getLogger(__name__)
STATE: web.AppKey[SandboxState] = web.AppKey("sandbox_state", SandboxState)
_encode = msgspec.json.Encoder().encode
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_USER_MENTION = re.compile(r"<@!?(\d+)>")
DEFAULT_USERNAME = "Herald Sandbox"


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=_encode(body), status=status, headers=headers, content_type="application/json"
    )


def _error(status: int, code: int, message: str, headers: dict[str, str]) -> web.Response:
    return json_response({"code": code, "message": message}, status, headers)


def _retry_after(seconds: float) -> float:
    """Round up to the millisecond: a client that honours it exactly must get through."""
    return math.ceil(seconds * 1000) / 1000


def rate_limited(
    retry_after: float, scope: str, headers: dict[str, str], *, via: bool = True
) -> web.Response:
    """Discord's 429: JSON body, `Retry-After`, scope, and `Via` (absent means Cloudflare)."""
    is_global = scope == SCOPE_GLOBAL
    headers = {
        **headers,
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": scope,
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    if via:
        headers["Via"] = "1.1 google"
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
    return json_response(body, 429, headers)


def _storm_response(storm: Storm, limit: int) -> web.Response:
    """A storm 429 from Discord carries its bucket headers; Cloudflare's (no `Via`) does not."""
    headers: dict[str, str] = {}
    if storm.via:
        headers = Verdict(False, limit, 0, storm.retry_after, "storm", SCOPE_USER).headers(
            time.time()
        )
    scope = SCOPE_GLOBAL if storm.is_global else SCOPE_USER
    return rate_limited(storm.retry_after, scope, headers, via=storm.via)


def _mentions(payload: dict[str, Any]) -> dict[str, Any]:
    """Who would be pinged, applying `allowed_mentions` as Discord does (content only)."""
    content = payload.get("content") or ""
    allowed = payload.get("allowed_mentions")
    parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
    roles_allowed = set() if allowed is None else set(allowed.get("roles") or [])
    users_allowed = set() if allowed is None else set(allowed.get("users") or [])
    roles = [r for r in _ROLE_MENTION.findall(content) if "roles" in parse or r in roles_allowed]
    users = [u for u in _USER_MENTION.findall(content) if "users" in parse or u in users_allowed]
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    return {
        "mention_everyone": everyone,
        "mention_roles": roles,
        "mentions": [{"id": u} for u in users],
    }


def _attach(
    state: SandboxState,
    embeds: list[dict[str, Any]],
    uploads: list[Upload],
    channel_id: str,
    base_url: str,
) -> list[dict[str, Any]]:
    """Store the files; as Discord does, a file an embed names becomes that embed's
    image (or thumbnail, icon) with the file's URL, the others the message's attachments."""
    stored: list[dict[str, Any]] = []
    for upload in uploads:
        file = StoredFile(
            state.store.snowflakes.next(), channel_id, upload.filename,
            upload.content_type, upload.data, upload.description,
        )  # fmt: skip
        state.store.files.add(file)
        stored.append(file.describe(base_url))
    by_name: dict[str, dict[str, Any]] = {}
    for shown in stored:  # two files of one name: a URL names the first
        by_name.setdefault(shown["filename"], shown)
    used: set[str] = set()
    for path, name in list(attachment_refs({"embeds": embeds})):
        _, index, part, key = path
        shown = by_name[name]
        node = embeds[int(index)][str(part)] = dict(embeds[int(index)][str(part)])
        node[str(key)] = shown["url"]
        if key == "url":
            node.update({k: shown[k] for k in ("proxy_url", "width", "height") if k in shown})
        used.add(shown["id"])
    return [shown for shown in stored if shown["id"] not in used]


def build_message(
    state: SandboxState,
    payload: dict[str, Any],
    webhook_id: str,
    channel: str,
    *,
    uploads: list[Upload] | None = None,
    base_url: str = "",
) -> dict[str, Any]:
    """The message object Discord returns for `?wait=true`."""
    embeds = [{"type": "rich", **embed} for embed in payload.get("embeds") or []]
    channel_id = state.registry.channel_id(channel)
    attachments = _attach(state, embeds, uploads, channel_id, base_url) if uploads else []
    return {
        "id": state.store.snowflakes.next(),
        "type": 0,
        "content": payload.get("content") or "",
        "channel_id": channel_id,
        "author": {
            "id": webhook_id,
            "username": payload.get("username") or DEFAULT_USERNAME,
            "avatar": None,
            "discriminator": "0000",
            "bot": True,
        },
        "attachments": attachments,
        "embeds": embeds,
        "components": payload.get("components") or [],
        "pinned": False,
        "tts": bool(payload.get("tts")),
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "flags": payload.get("flags") or 0,
        "webhook_id": webhook_id,
        **_mentions(payload),
    }


def _drop(request: web.Request) -> web.Response:
    """Close the connection without a byte of answer, like a proxy dying mid-request."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=500)


def _injected(request: web.Request, state: SandboxState, decision: Decision) -> web.Response | None:
    """The answer an injected fault gives instead of Discord's, if any (slow is not one)."""
    store = state.store
    if decision.storm is not None:
        store.count("storm_429")
        rate = state.limiter.webhook_rate
        return _storm_response(decision.storm, rate.limit if rate else 0)
    if decision.drop:
        store.count("faults_dropped")
        return _drop(request)
    if decision.fail_status is not None:
        store.count("faults_5xx")
        body = {"message": f"{decision.fail_status}: Sandbox injected failure", "code": 0}
        return json_response(body, decision.fail_status)
    return None


def _limited(state: SandboxState, blocked: Verdict, headers: dict[str, str]) -> web.Response:
    state.store.count("rate_limited")
    if blocked.scope == SCOPE_GLOBAL:
        state.store.count("rate_limited_global")
    elif blocked.scope == SCOPE_SHARED:
        state.store.count("rate_limited_shared")
    return rate_limited(_retry_after(blocked.reset_after), blocked.scope, headers)


def _refused(
    state: SandboxState, hook: Webhook | None, token: str, headers: dict[str, str]
) -> web.Response | None:
    """404 for an unknown or deleted webhook, 401 for a wrong token."""
    if hook is None or hook.deleted:
        state.store.count("unknown_webhook")
        return _error(404, 10015, "Unknown Webhook", headers)
    if hook.token != token:
        state.store.count("unauthorized")
        return _error(401, 50027, "Invalid Webhook Token", headers)
    return None


async def execute_webhook(request: web.Request) -> web.StreamResponse:
    """Execute Webhook, or an interaction's follow-up: Discord gives both one path shape,
    the follow-up's naming the application where a webhook's id would be."""
    if request.match_info["webhook_id"] == interactions.APPLICATION_ID:
        return await interactions.follow_up(request)
    return await _execute(request)


async def _execute(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    state.store.count("requests")
    webhook_id, token = request.match_info["webhook_id"], request.match_info["token"]
    if log.isEnabledFor(logging.DEBUG):
        log.debug("POST %s", redact(request.path))

    decision = state.faults.decide()
    injected = _injected(request, state, decision)
    if injected is not None:
        return injected
    if decision.delay:
        state.store.count("faults_slow")
        await asyncio.sleep(decision.delay)

    hook = state.registry.lookup(webhook_id, token)
    usable = hook is not None and not hook.deleted and hook.token == token
    channel_id = state.registry.channel_id(hook.channel) if usable and hook is not None else None
    blocked, shown = state.limiter.admit(webhook_id, channel_id)
    headers = shown.headers(time.time()) if shown is not None else {}
    if blocked is not None:
        return _limited(state, blocked, headers)
    refused = _refused(state, hook, token, headers)
    if refused is not None or hook is None:
        return refused or _error(404, 10015, "Unknown Webhook", headers)

    try:
        payload, uploads = await _read_body(request)
    except Rejection as rejection:
        state.store.count(_REJECTED.get(rejection.body["code"], "bad_request"))
        return json_response(rejection.body, rejection.status, headers)

    base_url = str(request.url.origin())
    message = build_message(
        state, payload, webhook_id, hook.channel, uploads=uploads, base_url=base_url
    )
    extra = {"channel_name": hook.channel, "allowed_mentions": payload.get("allowed_mentions")}
    state.store.add(hook.channel, message, extra)
    if request.query.get("wait", "").lower() in ("true", "1"):
        return json_response(message, 200, headers)
    return web.Response(status=204, headers=headers)


_REJECTED = {50006: "empty_message", 40005: "too_large"}
"""Discord error code -> the counter it bumps (any other rejection: `bad_request`)."""


async def _read_body(request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
    """JSON, or multipart with files: the checked payload and files, or `Rejection`."""
    if is_multipart(request):
        return await read_message(request)
    payload = validate_message(await request.read())
    check_json(payload)
    return payload, []


def _named_webhook(request: web.Request) -> Webhook | web.Response:
    """The existing webhook the path names with its right token, or Discord's 404/401.

    Unlike posting, these routes never auto-register an unknown id and count nothing.
    """
    hook = request.app[STATE].registry.hooks.get(request.match_info["webhook_id"])
    if hook is None or hook.deleted:
        return _error(404, 10015, "Unknown Webhook", {})
    if hook.token != request.match_info["token"]:
        return _error(401, 50027, "Invalid Webhook Token", {})
    return hook


async def get_webhook(request: web.Request) -> web.Response:
    """`GET /api/webhooks/{id}/{token}`: lets a client check a webhook before using it."""
    hook = _named_webhook(request)
    if isinstance(hook, web.Response):
        return hook
    body = {
        "id": hook.id,
        "type": 1,
        "channel_id": request.app[STATE].registry.channel_id(hook.channel),
        "name": hook.channel,
        "avatar": None,
        "application_id": None,
    }
    return json_response(body)


async def delete_webhook(request: web.Request) -> web.Response:
    """`DELETE /api/webhooks/{id}/{token}`: Discord's delete-with-token; later posts get 404."""
    hook = _named_webhook(request)
    if isinstance(hook, web.Response):
        return hook
    hook.deleted = True
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    for prefix in ("/api", "/api/v10"):
        path = prefix + "/webhooks/{webhook_id}/{token}"
        app.router.add_post(path, execute_webhook)
        app.router.add_get(path, get_webhook)
        app.router.add_delete(path, delete_webhook)
