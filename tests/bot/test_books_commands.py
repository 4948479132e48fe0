"""/trades, /positions and /pnl from the real books: trades published, counted by a books
consumer, then asked for through the bot; /pnl finishes in an RQ job with its chart."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from rq import Queue, SimpleWorker

import bot.jobs
from bot.discord_api import Files
from tests.books.helpers import drain, publish, trade
from tests.bot.harness import INTERACTION_TOKEN, Harness, Runner, until
from worker.kicker import QUEUE_DEFAULT


@pytest.fixture
def books(runner: Runner) -> redis.Redis:
    client = runner.server.client()
    now = datetime.now(UTC).replace(microsecond=0)
    publish(
        client,
        [
            trade(now - timedelta(seconds=3), "12.50", amount="1500", price="0.52"),
            trade(now - timedelta(seconds=2), "-2.25", amount="500", price="0.53", pair="BTC/USD"),
            trade(now - timedelta(seconds=1), "4.00", amount="100", price="0.54"),
        ],
    )
    drain(client)
    return client


def test_trades_and_positions_come_from_the_books(runner: Runner, books: redis.Redis) -> None:
    async def scenario(h: Harness) -> None:
        answer = await h.ask(h.command("trades", [{"name": "count", "type": 4, "value": 2}]))
        card = answer["data"]["embeds"][0]
        assert card["title"] == "Last 2 trade(s)"
        lines = card["description"].splitlines()
        assert "+4.00" in lines[0]  # newest first
        assert "BTC/USD" in lines[1].replace("\\", "")
        only = [{"name": "pair", "type": 3, "value": "BTC/USD"}]
        answer = await h.ask(h.command("trades", only))
        assert answer["data"]["embeds"][0]["title"].startswith("Last 1 trade(s)")
        answer = await h.ask(h.command("positions"))
        body = answer["data"]["embeds"][0]["description"]
        assert "XRP/USD" in body.replace("\\", "")
        assert "+1,600" in body

    runner.run(scenario)


def test_pnl_is_finished_by_a_job_with_its_chart(
    runner: Runner,
    books: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    sent: list[tuple[str, dict[str, Any], Files | None]] = []
    monkeypatch.setattr(
        bot.jobs, "deliver", lambda url, body, files: sent.append((url, body, files))
    )

    async def scenario(h: Harness) -> None:
        period = [{"name": "period", "type": 3, "value": "daily"}]
        first, second = await asyncio.gather(
            h.ask(h.command("pnl", period)), h.ask(h.command("pnl", period, user="555"))
        )
        assert first["type"] == second["type"] == 5
        await until(lambda: books.llen(f"rq:queue:{QUEUE_DEFAULT}") == 1)  # one job for both

    runner.run(scenario)
    SimpleWorker([Queue(QUEUE_DEFAULT, connection=books)], connection=books).work(burst=True)
    assert len(sent) == 2  # each asker's message edited, from one computation
    assert sent[0][1] == sent[1][1]
    url, body, files = sent[0]
    assert url.endswith(f"/webhooks/111111111111111111/{INTERACTION_TOKEN}/messages/@original")
    card = body["embeds"][0]
    fields = {f["name"]: f["value"] for f in card["fields"]}
    assert fields["P&L"] == "$14.25"
    assert fields["Trades"] == "3"
    assert fields["Wins / losses"] == "2 / 1"
    assert card["image"] == {"url": "attachment://pnl.png"}
    assert INTERACTION_TOKEN not in caplog.text  # RQ logs the job's description, not its args
    assert files is not None
    assert files[0][0] == "pnl.png"
    assert files[0][1].startswith(b"\x89PNG")
