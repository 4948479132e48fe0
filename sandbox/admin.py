"""`/admin/*`: change faults, limits and webhooks of a running sandbox, read its counters.

For tests and rehearsals only; the sandbox binds to 127.0.0.1 by default because
these routes have no authentication.
"""

from typing import Any

import msgspec
from aiohttp import web

from ground.rates import Rate, parse_rate
from sandbox.execute import STATE, json_response
from sandbox.webhooks import Webhook, parse_webhook_spec


def _bad(message: str) -> web.Response:
    return json_response({"error": message}, 400)


async def _json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    body = msgspec.json.decode(raw)
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


async def stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return json_response(
        {**state.store.stats(), "faults": state.faults.describe(), "limits": state.limits()}
    )


async def set_faults(request: web.Request) -> web.Response:
    """Partial update: `{"fail_rate": 0.2}`, `{"storm": {"seconds": 5, "retry_after": 1}}`."""
    state = request.app[STATE]
    try:
        state.faults.update(await _json_object(request))
    except (ValueError, TypeError, msgspec.DecodeError) as exc:
        return _bad(str(exc))
    return json_response(state.faults.describe())


def _rate(value: object) -> Rate | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"a limit is a string like '5/2s' or null, got {value!r}")
    return parse_rate(value)


async def set_limits(request: web.Request) -> web.Response:
    """`{"webhook": "5/2s", "channel": "30/60s", "global": null}`; omitted keys keep their value."""
    state = request.app[STATE]
    limiter = state.limiter
    try:
        body = await _json_object(request)
        unknown = set(body) - {"webhook", "channel", "global"}
        if unknown:
            raise ValueError(f"unknown limit(s) {sorted(unknown)}; known: webhook, channel, global")
        webhook = _rate(body["webhook"]) if "webhook" in body else limiter.webhook_rate
        channel = _rate(body["channel"]) if "channel" in body else limiter.channel_rate
        global_ = _rate(body["global"]) if "global" in body else limiter.global_rate
    except (ValueError, msgspec.DecodeError) as exc:
        return _bad(str(exc))
    state.set_limits(webhook, channel, global_)
    return json_response(state.limits())


async def add_webhook(request: web.Request) -> web.Response:
    """Register `{"id": "...", "token": "...", "channel": "..."}` (or replace that id)."""
    state = request.app[STATE]
    try:
        body = await _json_object(request)
        hook = parse_webhook_spec(
            f"{body.get('id', '')}:{body.get('token', '')}:{body.get('channel', '')}"
        )
    except (ValueError, msgspec.DecodeError) as exc:
        return _bad(str(exc))
    state.registry.add(hook)
    state.store.ensure_channel(hook.channel)
    return json_response({"id": hook.id, "channel": hook.channel}, 201)


def _set_deleted(deleted: bool) -> Any:
    async def handler(request: web.Request) -> web.Response:
        state = request.app[STATE]
        hook: Webhook | None = state.registry.hooks.get(request.match_info["webhook_id"])
        if hook is None:
            return json_response({"error": "no such webhook id"}, 404)
        hook.deleted = deleted
        return json_response({"id": hook.id, "channel": hook.channel, "deleted": deleted})

    return handler


async def reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/admin/stats", stats)
    app.router.add_post("/admin/faults", set_faults)
    app.router.add_post("/admin/limits", set_limits)
    app.router.add_post("/admin/webhooks", add_webhook)
    app.router.add_post("/admin/webhooks/{webhook_id}/delete", _set_deleted(True))
    app.router.add_post("/admin/webhooks/{webhook_id}/restore", _set_deleted(False))
    app.router.add_post("/admin/reset", reset)
