"""`herald report daily|weekly|monthly`: any period's figures now, as a table, JSON, or posted.

From the books' aggregates (`herald books` keeps them), so a month over a million trades
answers as fast as a quiet day. Without `--date` it is the period running now.
"""

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime

import redis
from rich.console import Console
from rich.table import Table

from books.periods import KINDS, Period, period_containing, period_for_date
from books.query import Breakdown, Figures, figures
from books.reports import NAMES, SOURCE, subject_of
from books.schedule import POSTED, reporter
from books.settings import ReportSettings, load_report_settings
from ground import keyspace as ks
from ground.errors import RedisUnavailable
from ground.redact import redact
from herald import options
from worker.formatting import millis, money, number, percent

Sub = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_parser(sub: Sub) -> None:  # type: ignore[valid-type]
    p = sub.add_parser(  # type: ignore[attr-defined]
        "report",
        help="a period's P&L figures from the books: a table, --json, or --post to Discord",
    )
    p.add_argument("kind", choices=KINDS, help="which period")
    p.add_argument(
        "--date",
        type=_date,
        help="a day in the period, YYYY-MM-DD, in the [reports] time zone (default: today)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    out.add_argument(
        "--post", action="store_true", help="post the report with its chart to [reports] channel"
    )
    options.add_redis_options(p)
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--log-json", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    settings = load_report_settings(args.config)  # a bad [reports] stops here, key named
    now = datetime.now(UTC)
    if args.date is None:
        period = period_containing(args.kind, now, settings)
    else:
        period = period_for_date(args.kind, args.date, settings)
    where = options.location(args)
    client = options.connect(where)
    try:
        if args.post:
            return _post(args, client, period, settings, now)
        fig = figures(client, period)
    except redis.RedisError as exc:
        raise RedisUnavailable(f"lost Redis at {where}: {redact(str(exc))}") from None
    finally:
        client.close()
    if args.json:
        sys.stdout.write(fig.to_json().decode() + "\n")
        return 0
    Console().print(table(period, fig))
    return 0


def _post(
    args: argparse.Namespace,
    client: redis.Redis,
    period: Period,
    settings: ReportSettings,
    now: datetime,
) -> int:
    """Post through the schedule's claim: a period is posted once, by whoever is first."""
    from producer import Publisher

    with Publisher(options.location(args).url, source=SOURCE) as publisher:
        posting = reporter(client, settings, publisher)
        sent = posting.post_now(period, now)
        record = posting.record(period)
    if sent is None:
        print(f"herald report: {already(period, record)}", file=sys.stderr)
        return 1
    if record.get(ks.REPORT_STATE) != POSTED:
        print(
            f"herald report: Redis at {publisher.location} did not confirm the report "
            "within 10 s; it is spooled and goes out when Redis answers",
            file=sys.stderr,
        )
        return 1
    channel = settings.channel
    print(f"posted the {period.kind} report {period.key} to #{channel} (event {sent.event_id})")
    return 0


def already(period: Period, record: dict[str, str]) -> str:
    """Why a period is not posted again: when and as which event it was, or who posts it."""
    if record.get(ks.REPORT_STATE) == POSTED:
        at = datetime.fromtimestamp(int(record[ks.REPORT_POSTED_MS]) / 1000, UTC)
        return (
            f"the {period.kind} report {period.key} was posted at {at:%Y-%m-%d %H:%M:%S} UTC "
            f"(event {record.get(ks.REPORT_EVENT_ID) or '-'}); it is not posted twice. Trades "
            "counted for it since are sent as a correction after its close."
        )
    return (
        f"the {period.kind} report {period.key} is being posted right now by "
        f"{record.get(ks.REPORT_HOLDER, 'another process')}; it is not posted twice."
    )


def table(period: Period, fig: Figures) -> Table:
    """The figures, and one row per pair when more than one traded."""
    zone = period.zone.key
    span = f"{period.start:%Y-%m-%d %H:%M} → {period.end:%Y-%m-%d %H:%M} {zone}"
    out = Table(title=f"{NAMES[period.kind]} report · {subject_of(period)}", caption=span)
    out.add_column("")
    out.add_column("all", justify="right")
    pairs = sorted(fig.by_pair) if len(fig.by_pair) > 1 else []
    for pair in pairs:
        out.add_column(pair, justify="right")
    for name, render in ROWS:
        out.add_row(name, render(fig), *(render(fig.by_pair[p]) for p in pairs))
    dd = money(fig.max_drawdown)
    out.add_row("max drawdown", dd, *("" for _ in pairs))
    return out


def _best_worst(b: Breakdown) -> str:
    if b.best_pnl is None or b.worst_pnl is None:
        return "—"
    return f"{money(b.best_pnl)} / {money(b.worst_pnl)}"


ROWS: list[tuple[str, Callable[[Breakdown], str]]] = [
    ("trades", lambda b: number(b.trades, 0)),
    ("wins / losses", lambda b: f"{number(b.wins, 0)} / {number(b.losses, 0)}"),
    ("win rate", lambda b: percent(b.win_rate, 1)),
    ("P&L", lambda b: money(b.pnl)),
    ("volume", lambda b: number(b.volume, 2)),
    ("notional", lambda b: money(b.notional)),
    ("avg / max latency", lambda b: f"{millis(b.avg_latency_ms)} / {millis(b.max_latency_ms)}"),
    ("best / worst trade", _best_worst),
]
