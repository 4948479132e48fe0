"""Follow-ups: the sandbox takes `POST /webhooks/{application}/{token}` as Discord does
(the first after a defer fills in "thinking…", later ones are new messages; an unknown
or 15-minute-old token is 404 Unknown Webhook), and a /pnl answer whose `@original`
cannot be edited goes out as a follow-up."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestServer

from bot import jobs
from bot.discord_api import DiscordError, followup_url, original_url
from sandbox.app import make_app
from sandbox.interactions import APPLICATION_ID, DESK, TOKEN_TTL_S, Desk, Exchange
from sandbox.testing import build_config

TOKEN = "sbx-live-token"


def deferred_exchange(desk: Desk, token: str = TOKEN, flags: int = 64) -> Exchange:
    """An interaction the bot answered "thinking…" (type 5), as `Desk.send` leaves it."""
    exchange = Exchange("900", token, 2, "/pnl daily", "444", [], time.time(), status=200)
    exchange.response = {"type": 5, "data": {"flags": flags}}
    exchange.original = {"content": "", "thinking": True, "flags": flags}
    desk.exchanges[exchange.id] = exchange
    return exchange


Scenario = Callable[[Desk, str], Awaitable[None]]


def served(scenario: Scenario) -> None:
    async def main() -> None:
        server = TestServer(make_app(build_config()))
        await server.start_server()
        try:
            await scenario(server.app[DESK], str(server.make_url("/api/v10")))
        finally:
            await server.close()

    asyncio.run(main())


def test_follow_ups_fill_in_the_deferred_message_then_add_messages() -> None:
    async def scenario(desk: Desk, api: str) -> None:
        exchange = deferred_exchange(desk)
        url = followup_url(original_url(api, APPLICATION_ID, TOKEN))
        assert url == f"{api}/webhooks/{APPLICATION_ID}/{TOKEN}"
        async with httpx.AsyncClient() as http:
            first = await http.post(url, json={"content": "P&L: +12.5", "flags": 0})
            assert first.status_code == 200, first.text
            assert first.json()["id"] == exchange.id  # it was the "thinking…" message
            assert exchange.original == {"content": "P&L: +12.5", "thinking": False, "flags": 64}
            assert exchange.followups == []
            second = await http.post(url, json={"content": "and the chart"})
            assert second.status_code == 200
            assert second.json()["id"] != exchange.id
            assert [m["content"] for m in exchange.followups] == ["and the chart"]
            empty = await http.post(url, json={"content": ""})
            assert (empty.status_code, empty.json()["code"]) == (400, 50006)
            listed = (await http.get(api.removesuffix("/v10") + "/interactions")).json()
            (shown,) = [e for e in listed["exchanges"] if e["id"] == exchange.id]
            assert [m["content"] for m in shown["followups"]] == ["and the chart"]
            assert TOKEN not in str(listed)

    served(scenario)


@pytest.mark.parametrize("case", ["unknown", "expired", "unanswered"])
def test_a_dead_token_is_discords_404_unknown_webhook(case: str) -> None:
    async def scenario(desk: Desk, api: str) -> None:
        exchange = deferred_exchange(desk)
        if case == "expired":
            exchange.sent_at -= TOKEN_TTL_S + 1
        if case == "unanswered":
            exchange.status = None
        token = "sbx-never-issued" if case == "unknown" else TOKEN
        url = f"{api}/webhooks/{APPLICATION_ID}/{token}"
        async with httpx.AsyncClient() as http:
            posted = await http.post(url, json={"content": "late"})
            edited = await http.patch(url + "/messages/@original", json={"content": "late"})
        assert posted.status_code == 404
        assert posted.json() == {"message": "Unknown Webhook", "code": 10015}
        if case != "unanswered":  # unanswered: @original is 404 Unknown Message (nothing yet)
            assert edited.json() == {"message": "Unknown Webhook", "code": 10015}
        assert edited.status_code == 404
        assert exchange.followups == []
        assert exchange.original is not None
        assert exchange.original["thinking"]

    served(scenario)


def test_a_pnl_answer_goes_as_a_follow_up_when_original_cannot_be_edited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    edits: list[str] = []

    def gone(url: str, body: dict[str, Any], files: Any = None) -> None:
        edits.append(url)
        raise DiscordError("edit @original: HTTP 404: Unknown Message")

    monkeypatch.setattr(jobs, "patch", gone)
    monkeypatch.setattr(jobs, "EDIT_RETRIES_S", (0.01,))

    async def scenario(desk: Desk, api: str) -> None:
        exchange = deferred_exchange(desk, flags=0)
        exchange.original = {"content": "answered already", "flags": 0}  # not thinking
        original = original_url(api, APPLICATION_ID, TOKEN)
        body = {"content": "P&L daily: +12.5"}
        await asyncio.to_thread(jobs.deliver, original, body, [("pnl.png", b"\x89PNG-ish")])
        assert edits == [original, original]  # tried, retried, then followed up
        (message,) = exchange.followups
        assert message["content"] == "P&L daily: +12.5"
        assert message["files"] == ["pnl.png"]
        assert exchange.files["pnl.png"] == b"\x89PNG-ish"
        exchange.sent_at -= TOKEN_TTL_S + 1  # and a dead token: raised, for the job to log
        with pytest.raises(DiscordError, match="HTTP 404"):
            await asyncio.to_thread(jobs.deliver, original, body, None)
        assert len(exchange.followups) == 1

    served(scenario)
