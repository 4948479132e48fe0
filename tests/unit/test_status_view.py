"""The status view renders untrusted text (DLQ reasons quote stream bytes) as text."""

import time

from rich.console import Console

from worker.status_model import DeadLetterSummary, ProducerStatus, Status, Totals
from worker.status_view import render


def status_with(reason: str, producer: str) -> Status:
    totals = Totals(
        events_in={}, duplicates=0, folded=0, delivered=0, digested=0, dead_lettered=1,
        rate_limited={}, retries=0, messages=0, requests=0, replayed=0, unrouted=0,
    )  # fmt: skip
    return Status(
        time=time.time(), redis="redis://127.0.0.1:6379/0", healthy=False, problems=["p [b]"],
        max_lag_s=60.0, channels=[], lanes=[], workers_alive=0, workers=[],
        dispatchers_alive=0, dispatchers=[],
        producers=[ProducerStatus(key=producer, source="x", published=1, flushed=1,
                                  spooled=0, dropped=0, buffered=0)],
        dlq_size=1,
        dlq_newest=[DeadLetterSummary(id="d1", time=time.time(), channel="[red]c",
                                      kind="[/]", reason=reason)],
        totals=totals,
    )  # fmt: skip


def test_markup_in_a_dead_letter_reason_is_printed_not_parsed() -> None:
    reason = "stream entry has no 'e' field (it has b'[/x]', b'[bold]')"
    console = Console(width=200, record=True)
    console.print(render(status_with(reason, producer="[/y]:host:1")))
    text = console.export_text()
    assert "b'[/x]', b'[bold]'" in text
    assert "[/y]:host:1" in text
