"""The pieces of an embed: colours, fields and links, before envelope metadata is added.

A `Card` is what a per-kind renderer decides (emoji, colour, title, fields); `render`
adds what every embed has (timestamp, footer with the event id, repeat info) and fits
it to Discord's limits. Values passed to `field` must already be escaped or be our
own formatted numbers; `text` escapes event strings.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any
from urllib.parse import quote

from worker.limits import EMPTY, FIELD_VALUE
from worker.markdown import escape, one_line


class Colour(IntEnum):
    """The cards' colours (Discord's palette)."""

    GREEN = 3066993
    RED = 15158332
    BLUE = 3447003
    ORANGE = 15105570
    YELLOW = 16776960


Field = dict[str, Any]


@dataclass(frozen=True)
class Card:
    """What one event looks like: `title` is final text (emoji included, subject escaped)."""

    title: str
    colour: Colour
    fields: Sequence[Field] = ()
    description: str | None = None
    timestamp: datetime | None = None
    """Overrides the envelope's `created_at` (a trade's `executed_at`)."""


def title(emoji: str, name: str, subject: str | None = None, *, trusted: bool = False) -> str:
    """`💰 Trade Executed - XRP/USD`: the title shape of every card; event subjects are escaped."""
    head = f"{emoji} {name}"
    if not subject:
        return head
    return f"{head} - {subject if trusted else escape(one_line(subject))}"


def field(name: str, value: str, *, inline: bool = True) -> Field:
    return {"name": name, "value": value or EMPTY, "inline": inline}


def text(value: str | None) -> str:
    """Event-provided text as a field value (escaped; `—` when absent)."""
    return escape(value) if value else EMPTY


def code(value: str) -> str:
    """Inline code for identifiers that cannot contain a backtick (commit shas)."""
    return f"`{value}`"


_URL_SAFE = ":/?#&=%+,;!$.~-_*'"
"""Percent-encode everything else, so `)`, `]`, `<`, `>`, `@` and spaces in an event's
URL can neither end the masked link early nor smuggle a mention."""


def link(label: str, url: str) -> str:
    """A masked link `[label](url)`; plain escaped text when it could not fit a field."""
    target = quote(url, safe=_URL_SAFE)
    rendered = f"[{escape(label)}]({target})"
    return rendered if len(rendered) <= FIELD_VALUE else escape(url)


def links(urls: Sequence[str], *, limit: int = FIELD_VALUE) -> str:
    """One masked link per line, named by the URL's last path segment, then `+K more`."""
    lines: list[str] = []
    used = 0
    for index, url in enumerate(urls):
        name = url.rstrip("/").rsplit("/", 1)[-1] or url
        line = link(name, url)
        more = f"+{len(urls) - index} more"
        if used + len(line) + 1 + len(more) + 1 > limit and index < len(urls) - 1:
            lines.append(more)
            break
        if used + len(line) + 1 > limit:
            lines.append(more)
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines) or EMPTY
