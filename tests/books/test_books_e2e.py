"""`herald books` as its own process, through the real engine to the sandbox: trades of
yesterday published through the Publisher, then the books start (as after a night down),
count them and post yesterday's missed daily report, marked late, with its chart as the
embed's image; `herald report --json` agrees; two `herald books` at once post it once."""

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from books.periods import Period, period_containing
from books.settings import report_settings
from ground import keyspace
from ground.proc import wait_until
from schemas import Side, TradeExecuted
from schemas.codec import decode
from tests.engine.conftest import Engine

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

HERALD = str(Path(sys.executable).with_name("herald"))
TRADES = (("10", "100", "0.5", 4.0), ("-4", "50", "0.6", 8.0), ("2.5", "10", "0.55", 12.0))
"""(pnl, amount, price, latency ms): P&L 8.5, 2 wins / 1 loss, volume 160, notional 85.5,
average latency 8 ms, max drawdown 4."""


@pytest.fixture
def config(tmp_path: Path) -> tuple[Path, Period]:
    """A reporting day that ended about six hours ago (never near the test's own clock's
    midnight), daily reports only; and that yesterday."""
    ends = (datetime.now(UTC) - timedelta(hours=6)).strftime("%H:%M")
    path = tmp_path / "herald.toml"
    path.write_text(f'[reports]\nday_ends = "{ends}"\nweekly = false\nmonthly = false\n')
    settings = report_settings({"day_ends": ends, "weekly": False, "monthly": False})
    return path, period_containing("daily", datetime.now(UTC), settings).previous()


def publish_yesterdays_trades(engine: Engine, yesterday: Period) -> None:
    start = yesterday.start.astimezone(UTC)
    with engine.publisher() as pub:
        for hour, (pnl, amount, price, latency) in enumerate(TRADES, start=1):
            pub.publish(
                TradeExecuted(
                    pair="XRP/USD", side=Side.BUY, amount=Decimal(amount), price=Decimal(price),
                    pnl=Decimal(pnl), latency_ms=latency, strategy="momentum",
                    executed_at=start + timedelta(hours=hour),
                )
            )  # fmt: skip
        assert pub.flush(10)


def reports(engine: Engine) -> list[dict[str, Any]]:
    """The report embeds in #trading-alerts (a message may carry trades' embeds too)."""
    return [
        e
        for m in engine.sandbox.messages("trading-alerts")
        for e in m.get("embeds", [])
        if "Trading Summary" in e.get("title", "")
    ]


def published_reports(engine: Engine) -> int:
    entries = engine.redis.xrange(keyspace.stream("normal"))
    return sum(decode(f[keyspace.PAYLOAD_FIELD]).kind == "pnl_report" for _, f in entries)


def test_the_missed_daily_report_arrives_late_with_its_chart(engine, config) -> None:
    path, yesterday = config
    day = yesterday.label.isoformat()
    engine.start_dispatcher()
    engine.start_worker()
    publish_yesterdays_trades(engine, yesterday)
    engine.start("books", "books", "--name", "books-e2e", "--config", str(path))

    wait_until(lambda: reports(engine), 60, "the daily report in #trading-alerts", interval=0.2)
    (embed,) = reports(engine)
    assert embed["title"] == f"📈 Daily Trading Summary - {day}"
    assert embed["description"].startswith("⏰ **Late**"), embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["💰 Daily P&L"] == "$8.50"
    assert fields["📊 Trades"] == "3"
    assert fields["🎯 Win Rate"] == "66.7%"
    assert fields["✅ Wins / ❌ Losses"] == "2 / 1"
    assert fields["📉 Max Drawdown"] == "$4.00"
    assert "🔄 Uptime" not in fields  # no monitor ran: no uptime, rather than a made-up one
    image = embed["image"]["url"]
    assert image.endswith(f"/pnl-daily-{day}.png")
    assert httpx.get(image).content.startswith(b"\x89PNG\r\n\x1a\n")

    done = subprocess.run(
        [HERALD, "report", "daily", "--date", day, "--json", "--config", str(path)],
        env=engine.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert (got["trades"], got["wins"], got["losses"]) == (3, 2, 1)
    assert got["win_rate"] == pytest.approx(200 / 3)  # a percentage, as a JSON number
    assert got["pnl"] == pytest.approx(8.5)
    assert got["volume"] == pytest.approx(160)
    assert got["notional"] == pytest.approx(85.5)
    assert got["avg_latency_ms"] == pytest.approx(8.0)
    assert got["max_drawdown"] == pytest.approx(4)
    for name in ("trades", "wins", "losses", "win_rate", "volume", "notional", "pnl",
                 "avg_latency_ms", "max_drawdown"):  # fmt: skip
        assert type(got[name]) in (int, float), name


def test_two_books_processes_post_the_report_once(engine, config) -> None:
    path, yesterday = config
    engine.start_dispatcher()
    engine.start_worker()
    publish_yesterdays_trades(engine, yesterday)
    for name in ("books-a", "books-b"):
        engine.start(name, "books", "--name", name, "--config", str(path))

    def both_watching() -> bool:
        logs = [(engine.tmp / f"books-{n}.log").read_text(errors="replace") for n in "ab"]
        return all("reports: watching daily" in log for log in logs)

    record = keyspace.books_report(yesterday.key)
    wait_until(both_watching, 60, "both reporters to have ticked", interval=0.2)
    wait_until(lambda: engine.redis.hget(record, "state") == b"posted", 30, "the report posted")
    wait_until(lambda: reports(engine) and engine.outboxes_empty(), 60, "delivery", 0.2)
    assert published_reports(engine) == 1, "one claim, one publish"
    assert len(reports(engine)) == 1
    totals = engine.redis.hget(keyspace.books_totals(yesterday.label.isoformat(), "all"), "n")
    assert totals == b"3", "each trade counted once by the two consumers together"
    assert all(p.poll() is None for p in engine.procs.values()), engine.logs()[-3000:]
