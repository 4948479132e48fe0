"""The demo's daily report is the books' figures of the demo's own trades, computed here
by hand from the trades it published: the report can no longer disagree with the day."""

import shutil
import threading
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from books.service import Books
from books.settings import DEFAULT
from ground import keyspace
from herald.demo import TradingDay
from herald.redis_server import RedisServer
from producer import Publisher
from schemas import PnlReport
from schemas.codec import decode

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def test_the_demo_posts_the_books_report_of_its_own_trades(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    client = redis_server.client()
    stop = threading.Event()
    books = threading.Thread(
        target=Books(client, DEFAULT, name="demo-books", block_ms=20).run, args=(stop,)
    )
    books.start()
    try:
        with Publisher(redis_server.url, source="demo", spool_path=tmp_path / "s") as pub:
            day = TradingDay(
                pub, burst_trades=300, burst_ticks=50, pace=0, say=lambda _: None,
                books=client, reports=DEFAULT,
            )  # fmt: skip
            ids = day.play()
            pub.flush(10)
    finally:
        stop.set()
        books.join(10)
    entries = client.xrange(keyspace.stream("normal"))
    envelopes = [decode(fields[keyspace.PAYLOAD_FIELD]) for _, fields in entries]
    (report,) = [e for e in envelopes if isinstance(e.event, PnlReport)]
    assert report.id == ids[-1], "the report is the demo's last event, and accounted for"
    assert report.attachments[0].data.startswith(b"\x89PNG")
    got = report.event
    assert isinstance(got, PnlReport)

    trades = day.trades
    assert len(trades) > 300  # the session, the burst, and more
    pnls = [t.pnl for t in trades]
    assert got.trades == len(trades)
    assert got.wins == sum(1 for p in pnls if p > 0)
    assert got.losses == sum(1 for p in pnls if p < 0)
    assert got.win_rate_pct == round(100 * got.wins / got.trades, 4)
    assert got.pnl == sum(pnls)
    assert got.volume == sum(t.amount for t in trades)
    quantum = Decimal("1e-8")
    notional = sum((t.amount * t.price).quantize(quantum, ROUND_HALF_EVEN) for t in trades)
    assert got.notional == notional
    average = sum(t.latency_ms for t in trades) / len(trades)
    assert got.avg_latency_ms == round(average, 4)  # the event carries 4 places
    assert got.max_latency_ms == max(t.latency_ms for t in trades)
    assert (got.best_pnl, got.worst_pnl) == (max(pnls), min(pnls))
    assert got.max_drawdown == max_drawdown(pnls)
    assert got.volume_unit == "XRP"
    assert not got.late
    assert not got.correction


def max_drawdown(pnls: list[Decimal]) -> Decimal:
    """The largest fall of the running sum from an earlier high (0 included as a high)."""
    total = peak = fall = Decimal(0)
    for pnl in pnls:
        total += pnl
        peak = max(peak, total)
        fall = max(fall, peak - total)
    return fall
