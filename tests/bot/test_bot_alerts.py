"""/alerts off | on | list: mutes with an expiry in Redis, in the engine's record format;
silencing #critical-alerts needs the control role and an explicit duration."""

import time
from typing import Any

from bot.interaction import EPHEMERAL
from ground import keyspace
from schemas import ManualOperation
from tests.bot.harness import OPERATOR_ROLE, Harness, Runner
from worker import mutes


def alerts(sub: str, **values: str) -> list[dict[str, Any]]:
    given = [{"name": k, "type": 3, "value": v} for k, v in values.items()]
    return [{"name": sub, "type": 1, "options": given}]


def stored(h: Harness) -> list[mutes.Mute]:
    return mutes.decode_all(h.redis.hgetall(keyspace.MUTES), time.time())


def test_mute_list_and_unmute(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        answer = await h.ask(
            h.command("alerts", alerts("off", target="#market-data", **{"for": "30m"}))
        )
        assert answer["data"]["content"].startswith("🔕 #market-data muted until")
        (mute,) = stored(h)
        assert mute.target == "channel:market-data"
        assert mute.by == "444"
        assert 29 * 60 < mute.until - time.time() <= 30 * 60
        await h.ask(h.command("alerts", alerts("off", target="price_alert")))  # default 1 h
        listed = (await h.ask(h.command("alerts", alerts("list"))))["data"]["content"]
        assert "#market-data" in listed
        assert "`price_alert`" in listed
        assert mutes.is_muted(stored(h), ["market-data"], "volume_alert", time.time())
        answer = await h.ask(h.command("alerts", alerts("on", target="market-data")))
        assert "unmuted" in answer["data"]["content"]
        assert [m.target for m in stored(h)] == ["kind:price_alert"]
        await h.ask(h.command("alerts", alerts("on")))
        assert stored(h) == []
        listed = (await h.ask(h.command("alerts", alerts("list"))))["data"]["content"]
        assert listed.startswith("No mutes")

    runner.run(scenario)


def test_muting_critical_needs_the_role_and_a_duration(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        for target in ("critical-alerts", "service_down", "all"):
            answer = await h.ask(h.command("alerts", alerts("off", target=target, **{"for": "1h"})))
            assert answer["data"]["flags"] == EPHEMERAL
            assert "needs a role" in answer["data"]["content"], target
        operator = (OPERATOR_ROLE,)
        answer = await h.ask(
            h.command("alerts", alerts("off", target="critical-alerts"), roles=operator)
        )
        assert "say for how long" in answer["data"]["content"]
        assert stored(h) == []
        off = alerts("off", target="critical-alerts", **{"for": "15m"})
        answer = await h.ask(h.command("alerts", off, roles=operator))
        assert "muted until" in answer["data"]["content"]
        assert [m.target for m in stored(h)] == ["channel:critical-alerts"]

    runner.run(scenario)


def test_bad_targets_and_durations_are_told(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        for values, said in (
            ({"target": "#general"}, "neither a channel nor an event kind"),
            ({"target": "market-data", "for": "forever"}, "`for`"),
            ({"target": "market-data", "for": "30d"}, "between 1 s and 7 days"),
            ({"target": "manual_operation"}, "the audit trail: it is never muted"),
        ):
            answer = await h.ask(h.command("alerts", alerts("off", **values)))
            assert answer["data"]["flags"] == EPHEMERAL
            assert said in answer["data"]["content"], values
        assert stored(h) == []

    runner.run(scenario)


def test_mutes_and_unmutes_are_audited_for_maintenance(runner: Runner) -> None:
    async def scenario(h: Harness) -> None:
        await h.ask(h.command("alerts", alerts("off", target="#market-data", **{"for": "2s"})))
        await h.ask(h.command("alerts", alerts("on", target="#market-data")))
        await h.ask(h.command("alerts", alerts("on", target="#market-data")))  # not muted
        await h.ask(h.command("alerts", alerts("off", target="critical-alerts")))  # no role
        lines = [(e.operation, e.operator, e.service, e.result.value) for e in h.audit]
        assert lines == [
            ("/alerts off #market-data for 2s: succeeded", "discord user 444", "herald-alerts",
             "success"),
            ("/alerts on #market-data: succeeded", "discord user 444", "herald-alerts", "success"),
            ("/alerts off #critical-alerts: refused", "discord user 444", "herald-alerts",
             "failed"),
        ]  # fmt: skip
        assert "until" in (h.audit[0].details or "")
        assert all(isinstance(e, ManualOperation) for e in h.audit)

    runner.run(scenario)
