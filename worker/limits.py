"""Discord's size limits, how Discord counts them, and fitting an embed inside them.

Discord counts code points (its API is Python: `len(str)`), see discord-api-docs#1315.
A message Discord would reject with 400 is a message lost to the DLQ, so every embed
the renderer returns has already been through `fit_embed`.
"""

from collections.abc import Iterable
from typing import Any, Final

from worker.markdown import ATOM

TITLE: Final = 256
DESCRIPTION: Final = 4096
FIELD_NAME: Final = 256
FIELD_VALUE: Final = 1024
FOOTER_TEXT: Final = 2048
AUTHOR_NAME: Final = 256
FIELDS: Final = 25
EMBEDS: Final = 10
CONTENT: Final = 2000
TOTAL: Final = 6000
"""Sum of title, description, field names and values, footer text and author name
across ALL embeds of one message."""

ELLIPSIS: Final = "…"
EMPTY: Final = "—"
"""Shown for an empty value: Discord rejects blank field names and values."""

Embed = dict[str, Any]


def embed_size(embed: Embed) -> int:
    """The characters of one embed that count toward the 6000 per-message total."""
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or ():
        size += len(field.get("name") or "") + len(field.get("value") or "")
    size += len((embed.get("footer") or {}).get("text") or "")
    size += len((embed.get("author") or {}).get("name") or "")
    return size


def total_size(embeds: Iterable[Embed]) -> int:
    return sum(embed_size(embed) for embed in embeds)


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" when cut; never splits an escape pair.

    The result is exactly `limit` long, or `limit - 1` when the last pair would not fit.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    end = 0
    for atom in ATOM.finditer(text):
        if atom.end() > room:
            break
        end = atom.end()
    return text[:end] + ELLIPSIS


def nonblank(text: str) -> str:
    """Discord strips whitespace and then rejects an empty name or value."""
    return text if text.strip() else EMPTY


def fit_embed(embed: Embed) -> Embed:
    """A copy of `embed` within every per-embed limit and within 6000 characters in total.

    Title, footer and author are cut only to their own limits (the footer carries the
    event id); description and fields share what is left, longest first, so short
    values such as prices survive and long free text is what gets shortened.
    """
    fitted = dict(embed)
    if fitted.get("title"):
        fitted["title"] = truncate(fitted["title"], TITLE)
    if "footer" in fitted:
        footer = dict(fitted["footer"])
        footer["text"] = truncate(nonblank(footer.get("text") or ""), FOOTER_TEXT)
        fitted["footer"] = footer
    if "author" in fitted:
        author = dict(fitted["author"])
        author["name"] = truncate(nonblank(author.get("name") or ""), AUTHOR_NAME)
        fitted["author"] = author
    description = fitted.pop("description", None)
    if description and description.strip():
        fitted["description"] = truncate(description, DESCRIPTION)
    if "fields" in fitted:
        fitted["fields"] = [
            {
                **field,
                "name": truncate(nonblank(field.get("name") or ""), FIELD_NAME),
                "value": truncate(nonblank(field.get("value") or ""), FIELD_VALUE),
            }
            for field in fitted["fields"][:FIELDS]
        ]
    excess = embed_size(fitted) - TOTAL
    if excess > 0:
        _shrink_shared(fitted, excess)
    return fitted


def _shrink_shared(embed: Embed, excess: int) -> None:
    """Cap description, field names and values at one length so their sum drops by `excess`."""
    texts: list[str] = [embed.get("description") or ""]
    for field in embed.get("fields") or ():
        texts += [field["name"], field["value"]]
    cap = _water_level([len(text) for text in texts], sum(map(len, texts)) - excess)
    if "description" in embed:
        embed["description"] = truncate(embed["description"], cap)
    for field in embed.get("fields") or ():
        field["name"] = truncate(field["name"], cap)
        field["value"] = truncate(field["value"], cap)


def _water_level(lengths: list[int], budget: int) -> int:
    """The largest cap with sum(min(length, cap)) <= budget (at least 1 character each)."""
    remaining = budget
    ordered = sorted(lengths)
    for index, length in enumerate(ordered):
        share = remaining // (len(ordered) - index)
        if length > share:
            return max(share, 1)
        remaining -= length
    return max(ordered, default=1)
