"""Interaction responses and the messages inside them, within Discord's limits.

Every message says `allowed_mentions: {"parse": []}`: a service or pair name that
contains `@everyone` must never ping anyone, in a reply no more than in an alert.
"""

from collections.abc import Sequence
from typing import Any, Final

from bot.interaction import EPHEMERAL, ResponseType
from worker.markdown import escape

Message = dict[str, Any]
NO_MENTIONS: Final[dict[str, list[str]]] = {"parse": []}
DESCRIPTION_MAX: Final = 4096
FIELD_VALUE_MAX: Final = 1024
CONTENT_MAX: Final = 2000
GREEN, ORANGE, RED, BLUE = 0x2ECC71, 0xE67E22, 0xE74C3C, 0x3498DB


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message(
    content: str = "",
    *,
    embeds: Sequence[dict[str, Any]] = (),
    components: Sequence[dict[str, Any]] | None = None,
    ephemeral: bool = False,
) -> Message:
    body: Message = {"content": clip(content, CONTENT_MAX), "allowed_mentions": NO_MENTIONS}
    body["embeds"] = list(embeds)
    if components is not None:
        body["components"] = list(components)
    if ephemeral:
        body["flags"] = EPHEMERAL
    return body


def embed(
    title: str,
    description: str = "",
    *,
    colour: int = BLUE,
    fields: Sequence[tuple[str, str]] = (),
    image: str | None = None,
    inline: bool = False,
) -> dict[str, Any]:
    """`fields` are (name, value) pairs already escaped; values are clipped to 1024;
    `inline` puts short figures three to a row."""
    body: dict[str, Any] = {"title": clip(title, 256), "color": colour}
    if description:
        body["description"] = clip(description, DESCRIPTION_MAX)
    body["fields"] = [
        {"name": clip(name, 256), "value": clip(value or "-", FIELD_VALUE_MAX), "inline": inline}
        for name, value in fields[:25]
    ]
    if image:
        body["image"] = {"url": image}
    return body


def respond(kind: ResponseType, data: Message | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": int(kind)}
    if data is not None:
        body["data"] = data
    return body


def reply(msg: Message) -> dict[str, Any]:
    """Type 4: answer now."""
    return respond(ResponseType.MESSAGE, msg)


def refusal(text: str) -> dict[str, Any]:
    """An ephemeral type-4 answer: only the user who asked sees why not."""
    return reply(message(text, ephemeral=True))


def deferred(ephemeral: bool) -> dict[str, Any]:
    """Type 5: "Herald is thinking…"; the answer follows by editing @original."""
    return respond(ResponseType.DEFERRED_MESSAGE, {"flags": EPHEMERAL} if ephemeral else {})


def choices(names: Sequence[str], typed: str) -> dict[str, Any]:
    """Type 8: up to 25 autocomplete choices that contain what was typed."""
    wanted = typed.lower()
    found = [n for n in names if wanted in n.lower()][:25]
    return respond(
        ResponseType.AUTOCOMPLETE_RESULT, {"choices": [{"name": n, "value": n} for n in found]}
    )


def code(text: str) -> str:
    """Escaped text for an embed (names from config and Redis are not trusted markup)."""
    return escape(text)
