"""The sandbox plays Discord for a real `herald bot`: commands registered on it, signed
interactions sent by it, the confirm button clicked through it, the edit of @original
kept by it, and the audit line delivered by the engine into its #maintenance."""

import sys
from pathlib import Path

from ground.proc import wait_until
from tests.bot.stack import OPERATOR_ROLE, Stack, running_stack, start_bot


def recorder(log: Path) -> list[str]:
    code = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n'); print('restarted')"
    return [sys.executable, "-c", code, str(log), "{service}"]


def registered(stack: Stack) -> None:
    done = stack.herald("bot", "register", "--guild", "1180000000000000002")
    assert done.returncode == 0, done.stderr
    assert "registered 8 command(s)" in done.stdout


def test_status_restart_refused_then_confirmed_and_audited(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    with running_stack(tmp_path, recorder(runs)) as stack:
        start_bot(stack)
        registered(stack)
        stack.start("dispatch", "--name", "bot-e2e")
        stack.start("worker", "-n", "1", "--name", "bot-e2e-worker")

        status = stack.send("/status")
        assert status["status"] == 200
        assert status["message"]["embeds"][0]["title"].startswith("Herald:")

        refused = stack.send("/restart demo-service")  # a member without the role
        assert refused["message"]["flags"] == 64
        assert "you need a role" in refused["message"]["content"]

        asked = stack.send("/restart demo-service", roles=(OPERATOR_ROLE,))
        button = asked["message"]["components"][0]["components"][0]
        assert button["style"] == 4
        clicked = stack.click(asked["id"], button["custom_id"], roles=(OPERATOR_ROLE,))
        assert clicked["response"]["type"] == 7

        def finished() -> bool:
            return "restarted" in (stack.exchange(asked["id"])["message"] or {}).get("content", "")

        wait_until(finished, 20, "the action's result in the confirmation message", 0.1)
        assert runs.read_text() == "demo-service\n"

        def audited() -> list[str]:
            return [
                field["value"]
                for message in stack.sandbox.messages("maintenance")
                for embed in message.get("embeds", [])
                for field in embed.get("fields", [])
                if field["name"] == "Operation"
            ]

        wait_until(lambda: len(audited()) >= 3, 30, "three audit lines in #maintenance", 0.2)
        assert audited() == [
            "/restart demo-service: refused",
            "/restart demo-service: confirmed",
            "/restart demo-service: succeeded",
        ], stack.logs()[-3000:]
        assert "sandbox-bot-token" not in stack.logs()
