"""A tiny Chrome DevTools Protocol client: headless Chromium driven over its websocket,
so a test can type into the viewer and click its buttons as a person would."""

import asyncio
import base64
import contextlib
import itertools
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from ground.proc import free_port, wait_until
from sandbox.browser import FLAGS, find_chromium


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        await self.ws.send_json({"id": number, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=30)
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    async def js(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, expression: str, timeout: float = 20, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = await self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                text = await self.js("document.body.innerText")
                raise TimeoutError(f"waiting for {what or expression}; page says:\n{text[-2000:]}")
            await asyncio.sleep(0.1)

    async def screenshot(self, out: Path) -> Path:
        shot = await self.call("Page.captureScreenshot", format="png")
        out.write_bytes(base64.b64decode(shot["data"]))
        return out


@asynccontextmanager
async def chromium(url: str, size: tuple[int, int] = (1600, 1000)) -> AsyncIterator[Page]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="herald-cdp-") as profile:
        proc = subprocess.Popen(
            [find_chromium(), *FLAGS, f"--user-data-dir={profile}",
             f"--remote-debugging-port={port}", f"--window-size={size[0]},{size[1]}", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            async with aiohttp.ClientSession() as http:
                target = await _page_target(http, port)
                async with http.ws_connect(target, max_msg_size=64 * 1024 * 1024) as ws:
                    yield Page(ws)
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Chromium and its helpers (zygotes, renderers, the network service: its process
    group), all gone before the profile folder is removed: a helper still writing into it
    made the removal fail ("Directory not empty") on a loaded machine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(10)
    wait_until(lambda: not _alive_in_group(proc.pid), 10, "chromium's helpers to exit", 0.05)


def _alive_in_group(pgid: int) -> bool:
    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(OSError):  # gone meanwhile
            if os.getpgid(process.pid) == pgid and process.info["status"] != psutil.STATUS_ZOMBIE:
                return True
    return False


async def _page_target(http: aiohttp.ClientSession, port: int) -> str:
    deadline = time.monotonic() + 20
    while True:
        try:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                pages = [t for t in json.loads(await response.text()) if t["type"] == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("chromium's DevTools endpoint never answered")
        await asyncio.sleep(0.1)
