"""The status view renders untrusted text (DLQ reasons quote stream bytes, a check's
detail quotes a server's answer) as text, and fits an 80-column terminal."""

import time

from rich.console import Console

from tests.unit.status_samples import NOW, channel, check, status
from worker.status_model import DeadLetterSummary, ProducerStatus, Status
from worker.status_view import render
from worker.verdict import notes


def status_with(reason: str, producer: str) -> Status:
    return status(
        healthy=False, problems=["p [b]"], workers_alive=0, workers=[],
        dispatchers_alive=0, dispatchers=[],
        producers=[ProducerStatus(key=producer, source="x", published=1, flushed=1,
                                  spooled=0, dropped=0, buffered=0)],
        dlq_size=1,
        dlq_newest=[DeadLetterSummary(id="d1", time=time.time(), channel="[red]c",
                                      kind="[/]", reason=reason)],
    )  # fmt: skip


def text_of(s: Status, width: int = 200) -> str:
    console = Console(width=width, record=True)
    console.print(render(s))
    return console.export_text()


def test_markup_in_a_dead_letter_reason_is_printed_not_parsed() -> None:
    reason = "stream entry has no 'e' field (it has b'[/x]', b'[bold]')"
    text = text_of(status_with(reason, producer="[/y]:host:1"))
    assert "b'[/x]', b'[bold]'" in text
    assert "[/y]:host:1" in text


def monitored() -> Status:
    s = status(
        channels=[channel(queued=1830, oldest_undelivered_age_s=240.0, last_delivered_at=NOW - 2,
                          published=24_000, delivered=22_170, rate_limited=12)],
        checks=[
            check("redis-main", kind="redis", state="down", last_latency_ms=None,
                  last_detail="[b]refused[/] " + "x" * 80),
            check("api", state="maintenance", last_latency_ms=48_500.0),
            check("a-check-name-of-more-than-twenty-two-characters", last_at=NOW - 3600),
        ],
    )  # fmt: skip
    s.notes = notes(s)
    return s


def test_checks_notes_and_channels_fit_80_columns() -> None:
    text = text_of(monitored(), width=80)
    lines = text.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    rows = {line.split()[0]: line for line in lines if line.startswith(" ") and line.strip()}
    assert rows["redis-main"].split()[1:4] == ["down", "-", "1h"]
    assert "[b]refused[/] x" in rows["redis-main"]  # printed, not parsed
    assert rows["redis-main"].rstrip().endswith("…")
    assert rows["api"].split()[1:4] == ["maintenance", "48", "s"]
    assert rows["a-check-name-of-more-…"].split()[1:3] == ["up", "12"]
    assert "1h 00m" in rows["a-check-name-of-more-…"]  # its last run, shown stale
    assert rows["●"].split()[1:5] == ["#trading-alerts", "24000", "1830", "22170"]
    joined = " ".join(text.split())
    assert "○ #trading-alerts: 1,830 events queued" in joined
    assert "drained in about 6 min." in joined
    assert "(stale): a-check-name-of-more-than-twenty-two-characters (last 1h 00m ago)" in joined


def test_no_checks_no_table() -> None:
    assert "Monitor checks" not in text_of(status())
    assert "Monitor checks" in text_of(monitored())
