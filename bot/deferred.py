"""Deferred answers, gathered: the same question asked many times within a moment (fifty
people asking `/pnl daily` at the close) becomes one RQ job that answers them all.

The interaction has already been answered "thinking…" (type 5) when its URL lands here,
so nobody waits for the gathering window, and one job computes the figures and draws the
chart once, then edits each asker's `@original`.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Final

from ground.redact import redact

log = logging.getLogger(__name__)

WINDOW_S: Final = 0.05
MAX_BATCH: Final = 100
"""Askers per job at most: a job edits each one's message in turn."""

Start = Callable[[Hashable, list[str]], Awaitable[None]]
Fail = Callable[[list[str]], Awaitable[None]]


class Batches:
    def __init__(self, start: Start, fail: Fail, window_s: float = WINDOW_S) -> None:
        self._start = start
        self._fail = fail
        self._window_s = window_s
        self._waiting: dict[Hashable, list[str]] = {}
        self.running: set[asyncio.Task[None]] = set()

    def add(self, key: Hashable, original: str) -> None:
        """Answer `original` (an @original URL) with the job for `key`, soon."""
        urls = self._waiting.setdefault(key, [])
        urls.append(original)
        if len(urls) == 1:
            self._spawn(self._after_window(key))
        elif len(urls) >= MAX_BATCH:
            self._spawn(self._flush(key))

    def _spawn(self, job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _after_window(self, key: Hashable) -> None:
        await asyncio.sleep(self._window_s)
        await self._flush(key)

    async def _flush(self, key: Hashable) -> None:
        urls = self._waiting.pop(key, [])
        if not urls:
            return
        try:
            await self._start(key, urls)
        except Exception as exc:
            log.warning("could not queue a job for %d asker(s): %s", len(urls),
                        redact(f"{type(exc).__name__}: {exc}"))  # fmt: skip
            await self._fail(urls)
