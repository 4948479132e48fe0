"""Make event text render literally in Discord and never ping anyone.

Event text is untrusted: a strategy named `**@everyone**` must show up as exactly those
characters. Discord's markdown escape is a backslash before any non-alphanumeric
character, so every markdown character is escaped, and `<` too, which defuses
`<@123>`, `<@&123>`, `<#123>`, `<t:...>` and custom emoji at once. `#`, `-`, `>` and
`1.` only mean something at the start of a line (headings, lists, quotes), so they are
escaped there and left alone inside `trade-server`. `@everyone`/`@here` have no markup
to escape, so a zero-width space after the `@` breaks them.

Escapes come in pairs (`\\*`, `@` + ZWSP): `ATOM` tells truncation what not to split.
"""

import re

ZWSP = "\u200b"

_INLINE = re.compile(r"[\\*_~`|\[\]()<]")
_LINE_START = re.compile(r"^([ \t]*)([#>\-+]|\d+(?=\.[ \t]))", re.MULTILINE)
_BROADCAST = re.compile(r"@(?=(?:everyone|here))", re.IGNORECASE)
_MENTION_OPEN = re.compile(r"<(?=[@#/:]|a:|t:)")
_WHITESPACE_RUN = re.compile(r"\s+")
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")

ATOM = re.compile(rf"\\.|@{ZWSP}|.", re.DOTALL)
"""One unit of escaped text: an escape pair, a broken `@`, or a single character."""


def escape(text: str) -> str:
    """Markdown-escape event text and neutralise mentions, for titles, fields, descriptions."""
    inline = _INLINE.sub(r"\\\g<0>", text)
    blocks = _LINE_START.sub(_escape_line_start, inline)
    return _BROADCAST.sub("@" + ZWSP, blocks)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.groups()
    if marker[0].isdigit():  # `1. item`: escape the dot, digits cannot be escaped
        return f"{indent}{marker}\\"
    return f"{indent}\\{marker}"


def neutralise(text: str) -> str:
    """Defuse mentions without backslashes, for footers and author names (no markdown there)."""
    return _MENTION_OPEN.sub("<" + ZWSP, _BROADCAST.sub("@" + ZWSP, text))


def one_line(text: str) -> str:
    """Collapse whitespace and drop bidi overrides: titles and footers are single lines,
    and an RTL override in a source name must not visually reverse the event id after it."""
    return _WHITESPACE_RUN.sub(" ", _BIDI_CONTROL.sub("", text)).strip()
