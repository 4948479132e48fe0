"""The viewer's command box in headless Chromium, end to end with a real `herald bot` and
engine: /status answered; /restart refused for a member without the role; with the role
the danger button confirms, the action runs, and the audit line shows in #maintenance.

The action is the one `herald up --demo` configures (`herald.demo_service.restart_argv`):
`/restart demo-api` really restarts the demo's service (its start time changes), and any
other service goes to the argv behind it (here a recorder instead of supervisorctl)."""

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest

from herald.demo_service import DemoService, restart_argv
from sandbox.browser import BrowserMissing, find_chromium
from tests.bot.cdp import Page, chromium
from tests.bot.stack import OPERATOR_ROLE, running_stack, start_bot

pytestmark = pytest.mark.browser


def recorder(log: Path) -> list[str]:
    code = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n'); print('restarted')"
    return [sys.executable, "-c", code, str(log), "{service}"]


async def send(page: Page, text: str, roles: str = "") -> None:
    await page.js(f"document.getElementById('cmd-roles').value = {json.dumps(roles)}")
    await page.js(f"document.getElementById('cmd-text').value = {json.dumps(text)}")
    await page.js("document.getElementById('cmd-send').click()")


LAST = "[...document.querySelectorAll('#cmd-log .cmd-exchange')].pop()"


def test_the_command_box_end_to_end(tmp_path: Path) -> None:
    try:
        find_chromium()
    except BrowserMissing as exc:
        pytest.skip(str(exc))
    runs = tmp_path / "runs"
    demo = DemoService()
    demo.start()
    first_start = httpx.get(demo.url).json()["started"]
    with running_stack(tmp_path, restart_argv(demo.restart_url, recorder(runs))) as stack:
        start_bot(stack)
        assert stack.herald("bot", "register", "--guild", "1180000000000000002").returncode == 0
        stack.start("dispatch", "--name", "viewer-e2e")
        stack.start("worker", "-n", "1", "--name", "viewer-e2e-worker")

        async def scenario() -> None:
            async with chromium(stack.sandbox.base_url + "/") as page:
                await page.until("document.getElementById('cmd-status')?.textContent"
                                 ".includes('8 commands registered')")  # fmt: skip
                await send(page, "/status")
                title = await page.until(f"{LAST}?.querySelector('.embed-title')?.textContent")
                assert title.startswith("Herald:")

                await send(page, "/restart demo-service")  # no roles
                said = await page.until(f"{LAST}?.innerText.includes('you need a role') && "
                                        f"{LAST}.innerText")  # fmt: skip
                assert "Only you can see this" in said
                assert await page.js(f"{LAST}.querySelectorAll('button').length") == 0

                await send(page, "/restart demo-service", roles=OPERATOR_ROLE)
                await page.until(f"!!{LAST}?.querySelector('.cmd-button.style-4')", what="button")
                await page.js(f"{LAST}.querySelector('.cmd-button.style-4').click()")
                await page.until(f"{LAST}?.innerText.includes('exit code 0')", what="the result")
                await page.until(
                    "document.getElementById('messages').innerText"
                    ".includes('/restart demo-service: succeeded')",
                    timeout=30,
                    what="the audit line in the viewer",
                )
                await page.screenshot(tmp_path / "commands.png")

                await send(page, "/restart demo-api", roles=OPERATOR_ROLE)
                await page.until(f"!!{LAST}?.querySelector('.cmd-button.style-4')", what="button")
                await page.js(f"{LAST}.querySelector('.cmd-button.style-4').click()")
                said = await page.until(
                    f"{LAST}?.innerText.includes('exit code') && {LAST}.innerText", what="result"
                )
                assert "exit code 0" in said, said
                assert "demo-api restarted" in said, said
                await page.until(
                    "document.getElementById('messages').innerText"
                    ".includes('/restart demo-api: succeeded')",
                    timeout=30,
                    what="the demo-api audit line in the viewer",
                )

        try:
            asyncio.run(scenario())
            assert httpx.get(demo.url).json()["started"] > first_start, "demo-api not restarted"
        finally:
            demo.stop()
        assert runs.read_text() == "demo-service\n"  # demo-api never reached the recorder
