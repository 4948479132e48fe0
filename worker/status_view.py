"""A one-screen rich view of a `Status`: pure (no I/O), so `herald up` can redraw it
every second inside `rich.live.Live` and `herald status` can print it once."""

from datetime import UTC, datetime

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from worker import replication
from worker.status_model import BooksStatus, ChannelStatus, CheckStatus, Status
from worker.verdict import format_age

_WEBHOOK_STYLE = {"configured": "green", "none": "yellow", "dead": "bold red"}
_NAME_WIDTH = 22
"""Check names are cut to this, so the detail keeps some room in 80 columns."""
BOOKS_SLOW_S = 60.0
"""The books' line turns yellow this far behind (reports wait while it is over 5 s)."""
_CHECK_STYLE = {"up": "green", "pending": "yellow", "down": "bold red", "maintenance": "cyan"}
_LEGEND = (
    "● webhook: green configured, yellow none, red dead · in: routed to the channel · "
    "sent: delivered · fold: repeats deduped · digest: summarised"
)


def render(status: Status) -> RenderableType:
    verdict = (
        Text("healthy", style="bold green")
        if status.healthy
        else Text(f"DEGRADED ({len(status.problems)} problems)", style="bold red")
    )
    header = Text.assemble(
        ("Herald ", "bold"),
        verdict,
        f"  ·  {_clock(status.time, status.time)}  ·  redis {status.redis}  ·  ",
        _alive("dispatchers", status.dispatchers_alive),
        "  ",
        _alive("workers", status.workers_alive),
    )
    parts: list[RenderableType] = [header, _channels(status), _lanes_and_totals(status)]
    if status.replication is not None:
        parts.insert(1, Text(replication.line(status.replication), style="dim"))
    if status.producers:
        parts.append(_producers(status))
    parts.append(_dlq(status))
    if status.books is not None:
        parts.append(_books(status.books))
    if status.mutes:
        parts.append(_mutes(status))
    if status.checks:
        parts.append(_checks(status))
    if status.notes:
        parts.append(Text("\n".join(f"○ {n}" for n in status.notes), style="yellow"))
    if status.problems:
        parts.append(Text("\n".join(f"✗ {p}" for p in status.problems), style="red"))
    return Group(*parts)


def _channels(status: Status) -> Table:
    # Short headers, the webhook state as a coloured dot, a light box: the table fits an
    # 80-column terminal (an operator's ssh window) without truncating a number.
    table = Table(
        title="Channels", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
        collapse_padding=True, caption=_LEGEND, caption_justify="left",
    )  # fmt: skip
    table.add_column("channel", no_wrap=True)
    for column in ("in", "queue", "sent", "fold", "digest", "dead", "429"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("next", justify="right", no_wrap=True)
    table.add_column("oldest", justify="right", no_wrap=True)
    for c in status.channels:
        oldest = c.oldest_undelivered_age_s
        late = oldest is not None and oldest > status.max_lag_s
        table.add_row(
            Text.assemble(("● ", _WEBHOOK_STYLE[c.webhook]), f"#{c.name}"),
            str(c.published),
            Text(str(c.queued), style="yellow" if c.queued else ""),
            str(c.delivered),
            str(c.folded),
            str(c.digested),
            Text(str(c.dead_lettered), style="red" if c.dead_lettered else ""),
            Text(str(c.rate_limited), style="yellow" if c.rate_limited else ""),
            _next_send(c),
            Text("-" if oldest is None else format_age(oldest), style="bold red" if late else ""),
        )
    return table


def _next_send(c: ChannelStatus) -> Text:
    if c.webhook != "configured":
        return Text("-")
    if c.in_flight and not c.next_send_in_s:
        return Text("sending", style="green")
    if c.retry_at:
        return Text(f"retry in {format_age(c.next_send_in_s)}", style="yellow")
    if c.next_send_in_s:
        return Text(f"in {format_age(c.next_send_in_s)}", style="yellow")
    return Text("now")


def _lanes_and_totals(status: Status) -> Table:
    lanes = Table(title="Streams", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    lanes.add_column("lane", no_wrap=True)
    for column in ("length", "lag", "pending", "oldest"):
        lanes.add_column(column, justify="right", no_wrap=True)
    for lane in status.lanes:
        late = (lane.oldest_age_s or 0) > status.max_lag_s
        lanes.add_row(
            lane.name,
            str(lane.length),
            str(lane.lag),
            str(lane.pending),
            Text(
                "-" if lane.oldest_age_s is None else format_age(lane.oldest_age_s),
                style="bold red" if late else "",
            ),
        )
    t = status.totals
    totals = Table(
        title="Engine totals", title_justify="left", box=box.SIMPLE, pad_edge=False,
        show_header=False,
    )  # fmt: skip
    totals.add_column("what")
    totals.add_column("n", justify="right")
    rows = (
        ("events in", sum(t.events_in.values())),
        ("duplicates", t.duplicates),
        ("folded", t.folded),
        ("delivered", t.delivered),
        ("digested", t.digested),
        ("dead-lettered", t.dead_lettered),
        ("muted", t.muted),
        ("messages / requests", f"{t.messages} / {t.requests}"),
        ("429s", ", ".join(f"{k} {v}" for k, v in t.rate_limited.items()) or "0"),
        ("retries", t.retries),
    )
    for what, n in rows:
        totals.add_row(what, str(n))
    grid = Table.grid(padding=(0, 2))
    grid.add_row(lanes, totals)
    return grid


def _producers(status: Status) -> Table:
    table = Table(title="Producers", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("source", no_wrap=True)
    for column in ("published", "flushed", "spooled", "dropped", "buffered"):
        table.add_column(column, justify="right", no_wrap=True)
    for p in status.producers:
        table.add_row(
            Text(p.key),
            str(p.published),
            str(p.flushed),
            Text(str(p.spooled), style="yellow" if p.spooled else ""),
            Text(str(p.dropped), style="bold red" if p.dropped else ""),
            str(p.buffered),
        )
    return table


def _dlq(status: Status) -> RenderableType:
    if not status.dlq_size:
        return Text("Dead-letter queue: empty", style="green")
    table = Table(
        title=f"Dead-letter queue: {status.dlq_size} (newest first)",
        title_justify="left",
        title_style="bold red",
        expand=True,
        pad_edge=False,
    )
    table.add_column("id", no_wrap=True)
    table.add_column("when", no_wrap=True)
    table.add_column("channel", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("reason", overflow="ellipsis", no_wrap=True, ratio=1)
    for e in status.dlq_newest:
        # Text(), not str: a reason quotes untrusted stream bytes, and rich would parse a
        # "[/x]" in it as markup (and raise).
        table.add_row(
            Text(e.id), _clock(e.time, status.time), Text(e.channel or "-"), Text(e.kind or "?"),
            Text(e.reason),
        )  # fmt: skip
    return table


def _mutes(status: Status) -> Text:
    """Mutes in force, in yellow: alerts someone turned off and may forget to turn on."""
    rows = [
        f"🔕 {m.target} muted until {_clock(m.until, status.time)} by <@{m.by}>"
        for m in status.mutes
    ]
    return Text("\n".join(rows), style="yellow")


def _books(books: BooksStatus) -> Text:
    """One line: `herald books` caught up, or how far behind."""
    if not books.unread and not books.pending:
        return Text("Books: caught up", style="green")
    behind = format_age(books.behind_s)
    return Text(
        f"Books: {books.unread} unread, {books.pending} pending, {behind} behind",
        style="bold yellow" if books.behind_s > BOOKS_SLOW_S else "",
    )


def _checks(status: Status) -> Table:
    """The monitor's checks, the detail cut to what fits; `last` (when the check last
    ran) turns yellow when it is stale (the notes name it)."""
    table = Table(
        title="Monitor checks", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
        collapse_padding=True, expand=True,
    )  # fmt: skip
    table.add_column("check", no_wrap=True, overflow="ellipsis", max_width=_NAME_WIDTH)
    table.add_column("state", no_wrap=True)
    for column in ("latency", "since", "last"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("detail", no_wrap=True, overflow="ellipsis", ratio=1)
    for check in status.checks:
        table.add_row(
            Text(check.name),
            Text(check.state, style=_CHECK_STYLE.get(check.state, "")),
            _latency(check),
            _ago(check.since, status.time),
            Text(_ago(check.last_at, status.time), style="bold yellow" if check.stale else ""),
            Text(check.last_detail),
        )
    return table


def _latency(check: CheckStatus) -> str:
    ms = check.last_latency_ms
    if ms is None:
        return "-"
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.0f} s"


def _ago(epoch: float, now: float) -> str:
    return format_age(max(0.0, now - epoch))


def _alive(what: str, n: int) -> Text:
    return Text(f"{what} {n}", style="green" if n else "bold red")


def _clock(epoch: float, now: float) -> str:
    when = datetime.fromtimestamp(epoch, UTC)
    fmt = "%H:%M:%S" if now - epoch < 86_400 else "%Y-%m-%d %H:%M"
    return when.strftime(fmt) + " UTC"
