"""/restart and /deploy end to end against real processes: refused without the role, a
confirm button bound to its user, run exactly once, killed at the timeout, all audited."""

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import psutil
import pytest

from bot.control import CONFIRM_S, Pending
from bot.interaction import EPHEMERAL
from ground import keyspace
from schemas import ManualOperation
from schemas.types import OperationResult
from tests.bot.harness import (
    INTERACTION_TOKEN,
    OPERATOR_ROLE,
    Harness,
    Runner,
    make_settings,
    until,
)

OPERATOR = (OPERATOR_ROLE,)


def recorder(log: Path) -> list[str]:
    """An action that appends its argument to `log` and says so (a real process)."""
    code = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n'); print('ok', sys.argv[2])"
    return [sys.executable, "-c", code, str(log), "{service}"]


def settings_with(runner: Runner, argv: list[str], timeout: str = "10s") -> Any:
    return make_settings(
        runner.key, {"actions": {"restart": {"command": argv, "timeout": timeout}}}
    )


def service(name: str) -> list[dict[str, Any]]:
    return [{"name": "service", "type": 3, "value": name}]


async def ask_restart(h: Harness, name: str = "api", **kw: Any) -> tuple[dict[str, Any], str]:
    answer = await h.ask(h.command("restart", service(name), **kw))
    buttons = answer["data"].get("components", [{}])[0].get("components", [])
    return answer, (buttons[0]["custom_id"] if buttons else "")


def outcomes(h: Harness) -> list[str]:
    return [e.operation for e in h.audit if isinstance(e, ManualOperation)]


def test_without_the_role_it_is_refused_and_audited(runner: Runner, tmp_path: Path) -> None:
    log = tmp_path / "runs"

    async def scenario(h: Harness) -> None:
        answer, button = await ask_restart(h, roles=("999",))
        assert answer["data"]["flags"] == EPHEMERAL
        assert "you need a role" in answer["data"]["content"]
        assert button == ""
        answer, _ = await ask_restart(h, roles=())  # a member without any role
        assert "you need a role" in answer["data"]["content"]

    h = runner.run(scenario, settings_with(runner, recorder(log)))
    assert not log.exists()
    assert outcomes(h) == ["/restart api: refused", "/restart api: refused"]
    event = h.audit[0]
    assert isinstance(event, ManualOperation)
    assert event.operator == "discord user 444"
    assert event.result == OperationResult.FAILED


def test_nobody_may_when_no_role_is_configured(runner: Runner, tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        answer = await h.ask(h.command("deploy", service("api"), roles=OPERATOR))
        assert "no role may /deploy" in answer["data"]["content"]

    settings = make_settings(runner.key, {"permissions": {"restart": [OPERATOR_ROLE]}})
    h = runner.run(scenario, settings)
    assert outcomes(h) == ["/deploy api: refused"]


def test_injection_in_the_service_name_never_runs(runner: Runner, tmp_path: Path) -> None:
    log = tmp_path / "runs"
    attempts = ["api; touch /tmp/pwned", "$(reboot)", "api\nrm", "--help", "../../etc", "api "]

    async def scenario(h: Harness) -> None:
        for name in attempts:
            answer, button = await ask_restart(h, name, roles=OPERATOR)
            assert "not a configured service" in answer["data"]["content"], name
            assert button == ""

    h = runner.run(scenario, settings_with(runner, recorder(log)))
    assert not log.exists()
    assert all(e.endswith("refused") for e in outcomes(h))
    assert len(h.audit) == len(attempts)
    assert "(not a service name)" in outcomes(h)[0]  # an injection never becomes a name


def test_confirmed_it_runs_once_even_on_a_double_click(runner: Runner, tmp_path: Path) -> None:
    log = tmp_path / "runs"

    async def scenario(h: Harness) -> None:
        answer, button = await ask_restart(h, roles=OPERATOR)
        assert answer["data"]["flags"] == EPHEMERAL
        danger = answer["data"]["components"][0]["components"][0]
        assert (danger["style"], danger["label"]) == (4, "Restart api")
        first, second = await asyncio.gather(
            h.ask(h.click(button, roles=OPERATOR)), h.ask(h.click(button, roles=OPERATOR))
        )
        running = [a for a in (first, second) if "running" in a.get("data", {}).get("content", "")]
        assert len(running) == 1  # the other: a silent type 6, or "gone" if it came second
        await until(lambda: h.edits)
        await asyncio.sleep(0.2)  # room for a second run, if there were one
        again = await h.ask(h.click(button, roles=OPERATOR))
        assert "gone" in again["data"]["content"]

    h = runner.run(scenario, settings_with(runner, recorder(log)))
    assert log.read_text() == "api\n"
    assert len(h.edits) == 1
    url, body = h.edits[0]
    assert url.endswith(f"/webhooks/111111111111111111/{INTERACTION_TOKEN}/messages/@original")
    assert body["content"].startswith("✅ /restart api: exit code 0")
    assert "ok api" in body["content"]
    assert body["components"] == []
    assert outcomes(h) == ["/restart api: confirmed", "/restart api: succeeded"]


def test_only_the_asker_may_confirm(runner: Runner, tmp_path: Path) -> None:
    log = tmp_path / "runs"

    async def scenario(h: Harness) -> None:
        _, button = await ask_restart(h, roles=OPERATOR)
        other = await h.ask(h.click(button, user="555", roles=OPERATOR))
        assert other["data"]["flags"] == EPHEMERAL
        assert "only the asker" in other["data"]["content"]
        mine = await h.ask(h.click(button, roles=OPERATOR))  # still confirmable by the asker
        assert mine["type"] == 7
        await until(lambda: h.edits)

    h = runner.run(scenario, settings_with(runner, recorder(log)))
    assert log.read_text() == "api\n"
    assert outcomes(h)[0] == "/restart api: refused"


def test_the_role_is_checked_again_on_the_click(runner: Runner, tmp_path: Path) -> None:
    log = tmp_path / "runs"

    async def scenario(h: Harness) -> None:
        _, button = await ask_restart(h, roles=OPERATOR)
        answer = await h.ask(h.click(button, roles=()))  # the role was taken away meanwhile
        assert "you need a role" in answer["data"]["content"]

    h = runner.run(scenario, settings_with(runner, recorder(log)))
    assert not log.exists()
    assert outcomes(h) == ["/restart api: refused"]


def test_a_late_click_is_expired(runner: Runner, tmp_path: Path) -> None:
    log = tmp_path / "runs"

    async def scenario(h: Harness) -> None:
        _, button = await ask_restart(h, roles=OPERATOR)
        key = keyspace.bot_confirm(button.split(":", 1)[1])
        record = msgspec.json.decode(h.redis.get(key) or b"", type=Pending)
        assert record.expires == pytest.approx(time.time() + CONFIRM_S, abs=5)
        late = msgspec.structs.replace(record, expires=time.time() - 1)  # 61 s later
        h.redis.set(key, msgspec.json.encode(late))
        answer = await h.ask(h.click(button, roles=OPERATOR))
        assert answer["type"] == 7
        assert "Expired" in answer["data"]["content"]

    h = runner.run(scenario, settings_with(runner, recorder(log)))
    assert not log.exists()
    assert outcomes(h) == ["/restart api: expired"]


def test_cancel(runner: Runner, tmp_path: Path) -> None:
    log = tmp_path / "runs"

    async def scenario(h: Harness) -> None:
        answer, _ = await ask_restart(h, roles=OPERATOR)
        cancel = answer["data"]["components"][0]["components"][1]["custom_id"]
        assert "did not run" in (await h.ask(h.click(cancel, roles=OPERATOR)))["data"]["content"]

    h = runner.run(scenario, settings_with(runner, recorder(log)))
    assert not log.exists()
    assert outcomes(h) == ["/restart api: cancelled"]


def test_an_action_past_its_timeout_is_killed_with_its_group(
    runner: Runner, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time; p = subprocess.Popen(['sleep', '60']); "
        "open(sys.argv[1], 'w').write(str(p.pid)); print('hanging', flush=True); time.sleep(60)"
    )
    argv = [sys.executable, "-c", code, str(pid_file)]

    async def scenario(h: Harness) -> None:
        _, button = await ask_restart(h, roles=OPERATOR)
        started = time.monotonic()
        await h.ask(h.click(button, roles=OPERATOR))
        await until(lambda: h.edits, 10)
        assert time.monotonic() - started < 5

    h = runner.run(scenario, settings_with(runner, argv, timeout="1s"))
    body = h.edits[0][1]["content"]
    assert body.startswith("❌ /restart api: killed after 1 s (timeout)")
    assert "hanging" in body
    child = int(pid_file.read_text())
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE
    assert outcomes(h) == ["/restart api: confirmed", "/restart api: failed"]


def test_output_is_redacted_and_cannot_break_the_code_block(runner: Runner, tmp_path: Path) -> None:
    leak = "https://discord.com/api/webhooks/123/SECRET-TOKEN"
    code = f"import sys; print('```@everyone {leak}'); sys.exit(3)"

    async def scenario(h: Harness) -> None:
        _, button = await ask_restart(h, roles=OPERATOR)
        await h.ask(h.click(button, roles=OPERATOR))
        await until(lambda: h.edits)

    h = runner.run(scenario, settings_with(runner, [sys.executable, "-c", code]))
    body = h.edits[0][1]
    assert body["content"].startswith("❌ /restart api: exit code 3")
    assert "SECRET-TOKEN" not in body["content"]
    assert body["content"].count("```") == 2
    assert body["allowed_mentions"] == {"parse": []}
    failed = h.audit[-1]
    assert isinstance(failed, ManualOperation)
    assert failed.details is not None
    assert "SECRET-TOKEN" not in failed.details


def test_an_unclicked_confirmation_is_audited_expired_once(runner: Runner, tmp_path: Path) -> None:
    log = tmp_path / "runs"

    async def scenario(h: Harness) -> None:
        h.bot.control.confirm_s = 0.3  # the 60 s window, shortened
        answer, button = await ask_restart(h, roles=OPERATOR)
        assert "Confirm within 0 s" in answer["data"]["content"]
        await until(lambda: outcomes(h) == ["/restart api: expired"], timeout=10)
        assert h.redis.get(keyspace.bot_confirm(button.split(":", 1)[1])) is None
        await until(lambda: any("Expired" in body.get("content", "") for _, body in h.edits))
        url, body = h.edits[-1]
        assert url.endswith(f"/{INTERACTION_TOKEN}/messages/@original")
        assert body["components"] == []
        late = await h.ask(h.click(button, roles=OPERATOR))
        assert "gone" in late["data"]["content"]
        assert outcomes(h) == ["/restart api: expired"], "a late click audited it again"

    h = runner.run(scenario, settings_with(runner, recorder(log)))
    assert not log.exists()
    expired = [e for e in h.audit if isinstance(e, ManualOperation)]
    assert expired[0].operator == "discord user 444"
    assert expired[0].result == OperationResult.FAILED


def test_a_confirmed_or_cancelled_one_never_expires(runner: Runner, tmp_path: Path) -> None:
    log = tmp_path / "runs"

    async def scenario(h: Harness) -> None:
        h.bot.control.confirm_s = 0.5
        answer, button = await ask_restart(h, roles=OPERATOR)
        await h.ask(h.click(button, roles=OPERATOR))
        answer, _ = await ask_restart(h, name="pricer", roles=OPERATOR)
        cancel = answer["data"]["components"][0]["components"][1]["custom_id"]
        await h.ask(h.click(cancel, roles=OPERATOR))
        await until(lambda: not h.bot.control.lapsing and not h.bot.control.running)

    h = runner.run(scenario, settings_with(runner, recorder(log)))
    assert sorted(outcomes(h)) == [  # the timers ran out (`lapsing` empty): none said expired
        "/restart api: confirmed",
        "/restart api: succeeded",
        "/restart pricer: cancelled",
    ]
