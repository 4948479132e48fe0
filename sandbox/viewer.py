"""The channel viewer: a static page plus the JSON it polls, and `/api/messages` for tests."""

from pathlib import Path

from aiohttp import web

from sandbox.execute import STATE, json_response

STATIC = Path(__file__).with_name("static")


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def messages(request: web.Request) -> web.Response:
    """Every accepted message (oldest first), optionally for one channel and after an id."""
    state = request.app[STATE]
    channel = request.query.get("channel") or None
    since = request.query.get("since") or None
    if since is not None and not since.isdigit():
        return json_response({"error": "since must be a message id (digits)"}, 400)
    return json_response(state.store.messages(channel, since))


async def channels(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].channels())


async def snapshot(request: web.Request) -> web.Response:
    """One poll of the viewer: channels, counters and messages newer than `since`."""
    state = request.app[STATE]
    since = request.query.get("since") or None
    if since is not None and not since.isdigit():
        since = None
    body = {
        "channels": state.channels(),
        "stats": state.store.stats(),
        "faults": state.faults.describe(),
        "limits": state.limits(),
        "messages": state.store.messages(None, since)[-500:],
    }
    return json_response(body)


async def attachment(request: web.Request) -> web.Response:
    """An uploaded file, like Discord's CDN: 404 once unknown (or dropped for memory)."""
    file = request.app[STATE].store.files.get(request.match_info["attachment_id"])
    if (
        file is None
        or file.channel_id != request.match_info["channel_id"]
        or file.filename != request.match_info["filename"]
    ):
        return json_response({"message": "404: Not Found", "code": 0}, 404)
    return web.Response(
        body=file.data,
        content_type=file.content_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/api/messages", messages)
    app.router.add_get("/api/channels", channels)
    app.router.add_get("/api/viewer", snapshot)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", attachment)
