"""Reports through the real Publisher and dispatcher: a re-send after a crash between
publishing and confirming folds into the first (one message), and `herald report` prints,
emits JSON, and posts the same report with its chart."""

import json
import shutil
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest
import redis

from books.periods import period_containing
from books.schedule import Reporter, run_reporter
from ground import keyspace
from ground.proc import wait_until
from herald.cli import main
from herald.redis_server import RedisServer
from producer import Publisher
from schemas import PnlReport
from schemas.codec import decode
from tests.books.helpers import drain, publish, settings, trade, utc
from worker.config import load
from worker.dispatcher import Dispatcher
from worker.outbox import unpack

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class DiesBeforeConfirming(Publisher):
    """Publishes for real, then 'dies': the flush never confirms, nothing is marked."""

    def flush(self, timeout: float = 5.0) -> bool:
        super().flush(timeout)
        return False


def day_of_trades(client: redis.Redis) -> None:
    publish(
        client,
        [
            trade(utc(2026, 11, 2, 9), "10", amount="100", price="0.5", latency=4),
            trade(utc(2026, 11, 2, 10), "-4", amount="50", price="0.6", latency=8),
            trade(utc(2026, 11, 2, 11), "2.5", amount="10", price="0.55", latency=12),
        ],
    )


def test_a_resend_after_a_crash_is_folded_into_one_message(redis_server: RedisServer) -> None:
    client = redis_server.client()
    s = settings(grace_s=120.0, weekly=False, monthly=False)
    day_of_trades(client)
    drain(client, s)
    with DiesBeforeConfirming(redis_server.url, source="herald-books") as dying:
        Reporter(client, s, dying, behind_s=lambda: 0.0).tick(utc(2026, 11, 3, 0, 2, 30))
    with Publisher(redis_server.url, source="herald-books") as live:
        taker = Reporter(client, s, live, behind_s=lambda: 0.0, stale_s=60.0)
        assert len(taker.tick(utc(2026, 11, 3, 0, 3, 31))) == 1
    engine = load(env={"HERALD_REDIS_URL": redis_server.url})
    Dispatcher(client, engine).run(threading.Event(), drain=True)
    items = client.lrange(keyspace.outbox("trading-alerts"), 0, -1)
    reports = [e for e in (decode(unpack(raw).raw) for raw in items) if e.kind == "pnl_report"]
    assert len(reports) == 1, "the second send folded into the first"
    assert int(client.hget(keyspace.STATS, keyspace.FOLDED)) == 1
    (envelope,) = reports
    assert envelope.attachments
    assert envelope.attachments[0].data.startswith(b"\x89PNG")


def test_report_json_has_the_figures_as_numbers(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = redis_server.client()
    day_of_trades(client)
    drain(client)
    code = main(
        ["report", "daily", "--date", "2026-11-02", "--json", "--redis-url", redis_server.url]
    )
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    assert got["trades"] == 3
    assert got["wins"] == 2
    assert got["losses"] == 1
    assert got["win_rate"] == pytest.approx(200 / 3)  # a percentage
    assert Decimal(str(got["pnl"])) == Decimal("8.5")
    assert Decimal(str(got["volume"])) == Decimal("160")
    assert Decimal(str(got["notional"])) == Decimal("85.5")
    assert got["avg_latency_ms"] == pytest.approx(8.0)
    assert Decimal(str(got["max_drawdown"])) == Decimal("4")
    for name in ("trades", "wins", "losses", "win_rate", "volume", "notional", "pnl",
                 "avg_latency_ms", "max_drawdown"):  # fmt: skip
        assert isinstance(got[name], int | float), name


def test_report_prints_a_table(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = redis_server.client()
    day_of_trades(client)
    drain(client)
    assert main(["report", "weekly", "--date", "2026-11-04", "--redis-url", redis_server.url]) == 0
    out = capsys.readouterr().out
    assert "Weekly report · week of 2026-11-02" in out
    assert "$8.50" in out
    assert "66.7%" in out
    assert "max drawdown" in out


def test_report_post_publishes_the_report_with_its_chart(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = redis_server.client()
    day_of_trades(client)
    drain(client)
    argv = ["report", "daily", "--date", "2026-11-02", "--post", "--redis-url", redis_server.url]
    assert main(argv) == 0
    assert "posted the daily report daily:2026-11-02" in capsys.readouterr().out
    entries = client.xrange(keyspace.stream("normal"))
    reports = [decode(fields[keyspace.PAYLOAD_FIELD]) for _, fields in entries]
    reports = [e for e in reports if e.kind == "pnl_report"]
    assert len(reports) == 1
    (envelope,) = reports
    event = envelope.event
    assert isinstance(event, PnlReport)
    assert (event.trades, event.pnl, event.label) == (3, Decimal("8.5"), date(2026, 11, 2))
    assert envelope.channels == ("trading-alerts",)
    assert [a.filename for a in envelope.attachments] == ["pnl-daily-2026-11-02.png"]
    assert msgspec.json.decode(msgspec.json.encode(event.start))  # an aware UTC instant


def test_report_rejects_a_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["report", "daily", "--date", "2026-13-01"])
    assert "'2026-13-01' is not a date; use YYYY-MM-DD" in capsys.readouterr().err


def test_run_reporter_posts_the_last_closed_day_on_the_real_clock(
    redis_server: RedisServer,
) -> None:
    client = redis_server.client()
    s = settings(weekly=False, monthly=False)
    now = datetime.now(UTC)
    due = period_containing("daily", now - timedelta(seconds=s.grace_s), s).previous()
    publish(client, [trade(due.start.astimezone(UTC) + timedelta(hours=1), "3")])
    drain(client, s)
    stop = threading.Event()
    worker = threading.Thread(target=run_reporter, args=(client, s, redis_server.url, stop))
    worker.start()
    try:
        record = keyspace.books_report(due.key)
        wait_until(lambda: client.hget(record, "state") == b"posted", 20, "the report posted")
    finally:
        stop.set()
        worker.join(10)
    entries = client.xrange(keyspace.stream("normal"))
    kinds = [decode(fields[keyspace.PAYLOAD_FIELD]).kind for _, fields in entries]
    assert kinds.count("pnl_report") == 1
