"""Digest: a backlog of events collapsed into a few summary embeds.

When #market-data floods (tens of thousands of price alerts) or a webhook comes back
after an outage, one embed per event would take hours at 30 messages a minute and
bury the signal. A digest says what matters instead: per pair how often, from what to
what, the range and the biggest move; the top movers first and "and K more" after, so
it fits Discord however many pairs there are.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

from schemas import Envelope, PriceAlert, VolumeAlert
from worker.embeds import Colour, Field
from worker.embeds import field as embed_field
from worker.formatting import change_percent, money, number, signed, utc
from worker.limits import Embed, fit_embed
from worker.markdown import escape, neutralise

TOP: Final = 10
"""Pairs listed per embed; the rest are summarised in one "and K more" field."""


@dataclass
class PriceRun:
    """What one pair's price alerts add up to, in time order."""

    pair: str
    count: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    first_price: Decimal = Decimal(0)
    last_price: Decimal = Decimal(0)
    low: Decimal | None = None
    high: Decimal | None = None
    biggest_move: Decimal = Decimal(0)

    def add(self, at: datetime, alert: PriceAlert) -> None:
        if self.count == 0:
            self.first_at, self.first_price = at, alert.price
        self.count += 1
        self.last_at, self.last_price = at, alert.price
        self.low = alert.price if self.low is None else min(self.low, alert.price)
        self.high = alert.price if self.high is None else max(self.high, alert.price)
        if abs(alert.change_pct) > abs(self.biggest_move):
            self.biggest_move = alert.change_pct


@dataclass
class VolumeRun:
    pair: str
    count: int = 0
    max_ratio: float = 0.0
    first_at: datetime | None = None
    last_at: datetime | None = None

    def add(self, at: datetime, alert: VolumeAlert) -> None:
        self.first_at = self.first_at or at
        self.count += 1
        self.last_at = at
        self.max_ratio = max(self.max_ratio, alert.ratio)


@dataclass
class Backlog:
    """The envelopes sorted by time, folded into per-pair and per-kind tallies."""

    envelopes: list[Envelope]
    prices: dict[str, PriceRun] = field(default_factory=dict)
    volumes: dict[str, VolumeRun] = field(default_factory=dict)
    others: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, envelopes: Iterable[Envelope]) -> "Backlog":
        ordered = sorted(envelopes, key=lambda envelope: utc(envelope.created_at))
        backlog = cls(ordered)
        for envelope in ordered:
            at, event = utc(envelope.created_at), envelope.event
            if isinstance(event, PriceAlert):
                backlog.prices.setdefault(event.pair, PriceRun(event.pair)).add(at, event)
            elif isinstance(event, VolumeAlert):
                backlog.volumes.setdefault(event.pair, VolumeRun(event.pair)).add(at, event)
            else:
                backlog.others[envelope.kind] += 1
        return backlog


def digest_embeds(envelopes: Sequence[Envelope], *, top: int = TOP) -> list[Embed]:
    """Summary embeds for a backlog: price movers, volume spikes, other kinds by count.

    Every embed is within Discord's limits; `worker.batch.pack` groups them into messages.
    """
    if not envelopes:
        return []
    backlog = Backlog.of(envelopes)
    embeds: list[Embed] = []
    if backlog.prices:
        embeds.append(_price_embed(backlog, top))
    if backlog.volumes:
        embeds.append(_volume_embed(backlog, top))
    if backlog.others:
        embeds.append(_others_embed(backlog))
    return [fit_embed(embed) for embed in embeds]


def _price_embed(backlog: Backlog, top: int) -> Embed:
    runs = sorted(backlog.prices.values(), key=lambda run: -abs(run.biggest_move))
    alerts = sum(run.count for run in runs)
    fields = [
        embed_field(f"{escape(run.pair)} {signed(run.biggest_move, 2)}%", _price_lines(run))
        for run in runs[:top]
    ]
    rest = runs[top:]
    if rest:
        rest_alerts = sum(run.count for run in rest)
        fields.append(
            embed_field(
                f"…and {_plural(len(rest), 'more pair')}",
                f"{_alerts(rest_alerts)}; "
                f"biggest move {signed(rest[0].biggest_move, 2)}% ({escape(rest[0].pair)})",
                inline=False,
            )
        )
    description = (
        f"{_plural(alerts, 'price alert')} across {_plural(len(runs), 'pair')}, "
        f"top movers by biggest move first."
    )
    return _embed(backlog, "📈 Market Digest - Price Alerts", Colour.BLUE, description, fields)


def _plural(count: int, noun: str) -> str:
    return f"{number(count, 0)} {noun}{'' if count == 1 else 's'}"


def _alerts(count: int) -> str:
    return _plural(count, "alert")


def _price_lines(run: PriceRun) -> str:
    change = change_percent(run.first_price, run.last_price)
    return "\n".join(
        [
            f"{_alerts(run.count)} · {_span(run.first_at, run.last_at)}",
            f"{money(run.first_price, 6)} → {money(run.last_price, 6)} ({signed(change, 2)}%)",
            f"range {money(run.low or 0, 6)} – {money(run.high or 0, 6)}",
        ]
    )


def _volume_embed(backlog: Backlog, top: int) -> Embed:
    runs = sorted(backlog.volumes.values(), key=lambda run: -run.max_ratio)
    alerts = sum(run.count for run in runs)
    fields = [
        embed_field(
            escape(run.pair),
            f"{_alerts(run.count)} · max {number(run.max_ratio, 2)}× average\n"
            f"{_span(run.first_at, run.last_at)}",
        )
        for run in runs[:top]
    ]
    rest = runs[top:]
    if rest:
        fields.append(
            embed_field(
                f"…and {_plural(len(rest), 'more pair')}",
                f"{_alerts(sum(run.count for run in rest))}; "
                f"max {number(rest[0].max_ratio, 2)}× ({escape(rest[0].pair)})",
                inline=False,
            )
        )
    description = (
        f"{_plural(alerts, 'volume alert')} across {_plural(len(runs), 'pair')}, "
        f"highest ratio to average first."
    )
    return _embed(backlog, "📊 Market Digest - Volume Alerts", Colour.ORANGE, description, fields)


def _others_embed(backlog: Backlog) -> Embed:
    fields = [
        embed_field(kind, f"{number(count, 0)} events")
        for kind, count in sorted(backlog.others.items(), key=lambda item: (-item[1], item[0]))
    ]
    total = number(sum(backlog.others.values()), 0)
    description = f"{total} other events, by kind."
    return _embed(backlog, "🗂️ Event Digest", Colour.BLUE, description, fields)


def _embed(
    backlog: Backlog, title: str, colour: Colour, description: str, fields: list[Field]
) -> Embed:
    first, last = backlog.envelopes[0], backlog.envelopes[-1]
    span = _span(utc(first.created_at), utc(last.created_at))
    return {
        "title": title,
        "color": int(colour),
        "description": f"{description}\n{span}",
        "fields": fields,
        "timestamp": utc(last.created_at).isoformat(),
        "footer": {"text": _footer(backlog)},
    }


def _footer(backlog: Backlog) -> str:
    """`herald digest · 10,000 events · <first id> … <last id>`: the range to look up."""
    first, last = backlog.envelopes[0], backlog.envelopes[-1]
    count = number(len(backlog.envelopes), 0)
    return neutralise(f"herald digest · {count} events · {first.id} … {last.id}")


def _span(first: datetime | None, last: datetime | None) -> str:
    """`04:10:45–04:15:02 UTC`, with dates when the span crosses midnight."""
    if first is None or last is None:
        return "—"
    clock: Callable[[datetime], str] = (
        (lambda at: at.strftime("%H:%M:%S"))
        if first.date() == last.date()
        else (lambda at: at.strftime("%Y-%m-%d %H:%M:%S"))
    )
    if first == last:
        return f"{clock(first)} UTC"
    return f"{clock(first)}–{clock(last)} UTC"
