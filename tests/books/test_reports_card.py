"""The report's card: the daily template per period, a late one says so, a correction is
short and says what changed; every variant is a payload Discord's schema accepts."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from books.periods import period_for_date
from books.query import Breakdown, Figures
from books.reports import chart_file, report_event
from schemas import PnlReport
from tests.books.helpers import settings
from tests.discord_schema import assert_valid_payload
from tests.factories import sample, sample_envelope
from worker.render import build_payload, render_embed

BLUE, GREEN, RED = 3447003, 3066993, 15158332


def render(event: PnlReport) -> dict[str, Any]:
    embed = render_embed(sample_envelope(event))
    assert_valid_payload(build_payload([embed], username="Herald"))
    return embed


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


def report(**changes: Any) -> PnlReport:
    event = sample("pnl_report")
    assert isinstance(event, PnlReport)
    return msgspec.structs.replace(event, **changes)


def test_the_daily_report_follows_the_template_and_names_its_period() -> None:
    embed = render(report())
    assert embed["title"] == "📈 Daily Trading Summary - 2026-11-27"
    assert embed["description"] == "2026-11-27 00:00 → 2026-11-28 00:00 UTC"
    assert embed["timestamp"].startswith("2026-11-28T00:00:00")  # the close
    assert list(fields(embed))[:6] == [
        "💰 Daily P&L", "📊 Trades", "🎯 Win Rate", "📈 Volume", "⚡ Avg Latency", "🔄 Uptime",
    ]  # fmt: skip


def test_a_losing_week_is_red_and_titled_by_its_monday() -> None:
    embed = render(
        report(period="weekly", label=date(2026, 11, 23), end=datetime(2026, 11, 30, tzinfo=UTC),
               start=datetime(2026, 11, 23, tzinfo=UTC), pnl=Decimal("-12.5"))
    )  # fmt: skip
    assert embed["title"] == "📈 Weekly Trading Summary - week of 2026-11-23"
    assert embed["color"] == RED
    assert fields(embed)["💰 Weekly P&L"] == "$-12.50"


def test_a_month_in_its_own_time_zone() -> None:
    new_york = "America/New_York"
    embed = render(
        report(period="monthly", label=date(2026, 11, 1), timezone=new_york,
               start=datetime(2026, 11, 1, 4, tzinfo=UTC), end=datetime(2026, 12, 1, 5, tzinfo=UTC))
    )  # fmt: skip
    assert embed["title"] == "📈 Monthly Trading Summary - November 2026"
    # Markdown-escaped: Discord shows America/New_York
    assert embed["description"] == "2026-11-01 00:00 → 2026-12-01 00:00 America/New\\_York"


def test_a_late_report_says_so_first() -> None:
    embed = render(report(late=True))
    assert embed["description"].startswith("⏰ **Late**: Herald was not running")
    assert "2026-11-27 00:00 → 2026-11-28 00:00 UTC" in embed["description"]


def test_unknown_uptime_leaves_the_field_out() -> None:
    assert "🔄 Uptime" not in fields(render(report(uptime_pct=None)))


def test_a_correction_is_short_and_says_what_changed() -> None:
    embed = render(
        report(correction=True, previous_trades=2023, previous_pnl=Decimal("1800"), trades=2024)
    )
    assert embed["title"] == "✏️ Daily Trading Summary Corrected - 2026-11-27"
    assert embed["color"] == BLUE
    assert embed["description"] == (
        "Trades for this period arrived after its report: trades 2,023 → 2,024, "
        "P&L $1,800.00 → $245.50."
    )
    assert list(fields(embed)) == ["💰 Daily P&L", "📊 Trades", "🎯 Win Rate"]


@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly"])
def test_the_books_figures_make_a_valid_event_and_chart(kind: str) -> None:
    s = settings("Europe/London")
    period = period_for_date(kind, date(2026, 3, 29), s)  # type: ignore[arg-type]
    fig = Figures(
        trades=3, wins=2, losses=1, win_rate=200 / 3, volume=Decimal("160"),
        notional=Decimal("85.5"), pnl=Decimal("8.5"), avg_latency_ms=8.0, max_latency_ms=12.0,
        best_pnl=Decimal("10"), worst_pnl=Decimal("-4"), max_drawdown=Decimal("4"),
        series=[("2026-03-29T09:05:00+01:00", Decimal("10"))] if kind == "daily"
        else [("2026-03-29", Decimal("8.5"))],
        by_pair={"XRP/USD": Breakdown(trades=3)},
    )  # fmt: skip
    event = report_event(period, fig)
    assert event.volume_unit == "XRP"
    assert event.start.utcoffset() is not None
    render(event)
    chart = chart_file(period, fig)
    assert chart.filename == f"pnl-{kind}-{period.label}.png"
    assert chart.data.startswith(b"\x89PNG")
