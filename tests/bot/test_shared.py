"""Shared reads: a burst costs one read, a recent result is reused, an older one is
answered while a new read runs, and a failed read is never kept."""

import asyncio
import threading

import pytest

from bot.health import Shared


def test_a_burst_costs_one_read_and_a_fresh_result_is_reused() -> None:
    calls: list[int] = []
    gate = threading.Event()

    def read() -> int:
        gate.wait(5)
        calls.append(1)
        return len(calls)

    async def scenario() -> list[int]:
        shared: Shared[int] = Shared(fresh_s=60)
        asks = [asyncio.ensure_future(shared.get("k", read)) for _ in range(50)]
        await asyncio.sleep(0.05)
        gate.set()
        found = await asyncio.gather(*asks)
        return [*found, await shared.get("k", read)]

    assert asyncio.run(scenario()) == [1] * 51
    assert len(calls) == 1


def test_a_stale_result_is_answered_while_a_new_read_runs() -> None:
    values = iter([1, 2])

    async def scenario() -> tuple[int, int, int]:
        shared: Shared[int] = Shared(fresh_s=0, stale_s=60)
        first = await shared.get("k", lambda: next(values))
        stale = await shared.get("k", lambda: next(values))  # answered at once
        while shared._running:
            await asyncio.sleep(0.01)
        shared._fresh_s = 60
        return first, stale, await shared.get("k", lambda: 99)

    assert asyncio.run(scenario()) == (1, 1, 2)


def test_a_failed_read_is_not_kept() -> None:
    def broken() -> int:
        raise ConnectionError("redis is down")

    async def scenario() -> int:
        shared: Shared[int] = Shared(fresh_s=60)
        with pytest.raises(ConnectionError):
            await shared.get("k", broken)
        return await shared.get("k", lambda: 7)

    assert asyncio.run(scenario()) == 7
