"""POST /interactions against a real redis-server with real signatures: what is refused
(401/413), what is answered, and how (type 1, 4, 5, 8; ephemeral refusals), never a 500."""

import json
import logging
import time

import pytest

from bot.interaction import EPHEMERAL
from ground import keyspace
from herald.redis_server import RedisServer
from tests.bot.harness import BOT_TOKEN, INTERACTION_TOKEN, Harness, Runner, make_settings, until


def test_ping_is_answered_pong(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        assert await h.ask({"id": "1", "type": 1}) == {"type": 1}

    runner.run(scenario)


def test_bad_and_missing_signatures_are_401(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        body = json.dumps(h.command("status")).encode()
        good = h.signed(body)
        assert (await h.post(body, {}))[0] == 401
        wrong = {**good, "X-Signature-Ed25519": "00" * 64}
        assert (await h.post(body, wrong))[0] == 401
        assert (await h.post(body + b" ", good))[0] == 401  # edited after signing
        stale = h.signed(body, ts=time.time() - 301)
        assert (await h.post(body, stale))[0] == 401
        status, answer = await h.post(body, good)  # the untouched request still passes
        assert status == 200
        assert answer["type"] == 4

    runner.run(scenario)


def test_a_replayed_interaction_is_refused(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        body = json.dumps(h.command("status")).encode()
        headers = h.signed(body)
        assert (await h.post(body, headers))[0] == 200
        status, answer = await h.post(body, headers)
        assert status == 401
        assert "already" in answer["error"]

    runner.run(scenario)


def test_an_oversize_body_is_413_before_any_work(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        payload = h.command("status")
        payload["padding"] = "x" * (h.bot.settings.max_body + 1)
        status, _ = await h.post(payload)
        assert status == 413

    runner.run(scenario)


def test_not_an_interaction_is_400(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        assert (await h.post(b"[1, 2]"))[0] == 400
        assert (await h.post(b'{"type": 2}'))[0] == 400  # no id

    runner.run(scenario)


def test_status_is_answered_from_redis_at_once(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        h.redis.hset(keyspace.channel_state("trading-alerts"), keyspace.STATE_DEAD, "404 gone")
        answer = await h.ask(h.command("status"))
        assert answer["type"] == 4
        card = answer["data"]["embeds"][0]
        assert card["title"].startswith("Herald: degraded")
        assert "trading-alerts" in card["description"]
        names = [f["name"] for f in card["fields"]]
        assert names[:3] == ["Channels", "Streams", "Engine"]
        assert "#critical-alerts" in card["fields"][0]["value"]
        assert answer["data"]["allowed_mentions"] == {"parse": []}
        assert "flags" not in answer["data"]  # queries are public by default

    runner.run(scenario)


def test_queries_can_be_made_private(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        answer = await h.ask(h.command("latency"))
        assert answer["data"]["flags"] == EPHEMERAL
        fields = answer["data"]["embeds"][0]["fields"]
        assert fields[1]["value"] == "nothing delivered"

    runner.run(scenario, make_settings(runner.key, {"public_queries": False}))


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"name": "shutdown", "type": 1}, "unknown command /shutdown"),
        ({"name": "trades", "options": [{"name": "count", "type": 10, "value": 1.5}]}, "type"),
        ({"name": "pnl", "options": [{"name": "period", "type": 3, "value": "daily"},
                                     {"name": "date", "type": 3, "value": "2026-13-40"}]},
         "not a date"),
    ],
)  # fmt: skip
def test_bad_commands_get_an_ephemeral_answer(runner: Runner, data: dict, said: str) -> None:
    async def scenario(h: Harness) -> None:
        answer = await h.ask(h.interaction(2, data))
        assert answer["type"] == 4
        assert answer["data"]["flags"] == EPHEMERAL
        assert said in answer["data"]["content"]

    runner.run(scenario)


def test_a_command_gated_by_role(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        refused = await h.ask(h.command("positions"))
        assert "role" in refused["data"]["content"]
        assert refused["data"]["flags"] == EPHEMERAL
        allowed = await h.ask(h.command("positions", roles=("9",)))
        assert allowed["data"]["embeds"][0]["title"] == "Positions"

    runner.run(scenario, make_settings(runner.key, {"permissions": {"positions": ["9"]}}))


def test_autocomplete_offers_configured_services(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        typed = [{"name": "service", "type": 3, "value": "pri", "focused": True}]
        answer = await h.ask(h.interaction(4, {"name": "restart", "options": typed}))
        assert answer == {"type": 8, "data": {"choices": [{"name": "pricer", "value": "pricer"}]}}
        off = [{"name": "off", "type": 1, "options": [
            {"name": "target", "type": 3, "value": "#crit", "focused": True}]}]  # fmt: skip
        answer = await h.ask(h.interaction(4, {"name": "alerts", "options": off}))
        assert [c["value"] for c in answer["data"]["choices"]] == ["critical-alerts"]

    runner.run(scenario)


def test_pnl_is_deferred_to_a_job(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        period = [{"name": "period", "type": 3, "value": "daily"}]
        answer = await h.ask(h.command("pnl", period))
        assert answer == {"type": 5, "data": {}}
        await until(lambda: h.redis.llen("rq:queue:herald-default") == 1)

    runner.run(scenario)


def test_redis_down_gives_a_clear_ephemeral_answer_not_a_500(
    runner: Runner, redis_server: RedisServer
) -> None:
    async def scenario(h: Harness) -> None:
        redis_server.stop()
        for payload in (
            h.command("status"),
            h.command(
                "restart",
                [{"name": "service", "type": 3, "value": "api"}],
                roles=("333333333333333333",),
            ),
        ):
            status, answer = await h.post(payload)
            assert status == 200
            assert answer["type"] == 4
            assert answer["data"]["flags"] == EPHEMERAL
            assert "cannot reach its Redis" in answer["data"]["content"]
        typed = [{"name": "service", "type": 3, "value": "", "focused": True}]
        status, answer = await h.post(h.interaction(4, {"name": "restart", "options": typed}))
        assert (status, answer) == (200, {"type": 8, "data": {"choices": []}})

    runner.run(scenario)


def test_no_token_or_key_in_any_log(runner: Runner, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario(h: Harness) -> None:
        await h.ask(h.command("status"))
        body = json.dumps(h.command("status")).encode()
        await h.post(body, {"X-Signature-Ed25519": "00" * 64, "X-Signature-Timestamp": "1"})
        await h.ask(h.command("restart", [{"name": "service", "type": 3, "value": "api"}]))

    h = runner.run(scenario)
    text = caplog.text + repr(h.bot) + repr(h.bot.settings)
    assert "refused an interaction request" in caplog.text  # something was logged
    for secret in (INTERACTION_TOKEN, BOT_TOKEN, h.key.verify_key.encode().hex()):
        assert secret not in text
