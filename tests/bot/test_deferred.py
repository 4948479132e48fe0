"""Gathering deferred answers: one job per question per moment, every asker told if the
job cannot be queued."""

import asyncio
from collections.abc import Hashable

from bot.deferred import MAX_BATCH, Batches


def test_same_question_within_the_window_is_one_job() -> None:
    started: list[tuple[Hashable, list[str]]] = []

    async def start(key: Hashable, urls: list[str]) -> None:
        started.append((key, urls))

    async def fail(urls: list[str]) -> None:
        raise AssertionError("nothing fails here")

    async def scenario() -> None:
        batches = Batches(start, fail, window_s=0.05)
        batches.add("daily", "u1")
        batches.add("weekly", "u2")
        batches.add("daily", "u3")
        while batches.running:
            await asyncio.wait(set(batches.running))

    asyncio.run(scenario())
    assert sorted(started) == [("daily", ["u1", "u3"]), ("weekly", ["u2"])]


def test_a_full_batch_goes_at_once_and_failures_reach_every_asker() -> None:
    told: list[str] = []

    async def start(key: Hashable, urls: list[str]) -> None:
        raise ConnectionError("redis is down")

    async def fail(urls: list[str]) -> None:
        told.extend(urls)

    async def scenario() -> None:
        batches = Batches(start, fail, window_s=60)  # only the size can flush it
        urls = [f"u{i}" for i in range(MAX_BATCH)]
        for url in urls:
            batches.add("daily", url)
        while len(batches.running) > 1:  # the window's own task is still asleep
            await asyncio.wait(set(batches.running), return_when=asyncio.FIRST_COMPLETED)
        for task in batches.running:
            task.cancel()

    asyncio.run(scenario())
    assert told == [f"u{i}" for i in range(MAX_BATCH)]
