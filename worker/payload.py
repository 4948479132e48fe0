"""The Execute Webhook request body: embeds plus an explicit `allowed_mentions`.

`allowed_mentions` is sent on every message, `{"parse": []}` by default, so no text
can ever ping; a configured role (critical alerts) is the one mention allowed through.
Bad arguments are caller bugs or bad config and raise `ValueError` before Discord
would answer 400 (which counts toward the invalid-request ban).
"""

import re
from collections.abc import Sequence
from typing import Any

from schemas.attachments import Attachment
from worker.files import described
from worker.limits import EMBEDS, TOTAL, Embed, total_size

_SNOWFLAKE = re.compile(r"[1-9][0-9]{0,19}")
"""A Discord id (a positive 64-bit integer in decimal)."""
_USERNAME_MAX = 80
_FORBIDDEN_IN_USERNAME = ("discord", "clyde")


def build_payload(
    embeds: Sequence[Embed],
    *,
    username: str | None = "Herald",
    ping_role_id: str | None = None,
    files: Sequence[Attachment] = (),
) -> dict[str, Any]:
    """One message: up to 10 embeds (6000 characters together), optionally paging a role;
    `files` are named in its `attachments` array (sent as multipart `files[n]` parts)."""
    if not embeds and ping_role_id is None:
        raise ValueError("a message needs at least one embed (Discord rejects empty ones)")
    if len(embeds) > EMBEDS:
        raise ValueError(f"{len(embeds)} embeds in one message; Discord allows {EMBEDS}")
    size = total_size(embeds)
    if size > TOTAL:
        raise ValueError(f"embeds total {size} characters; Discord allows {TOTAL} per message")
    payload: dict[str, Any] = {"embeds": list(embeds), "allowed_mentions": {"parse": []}}
    if username is not None:
        payload["username"] = check_username(username)
    if ping_role_id is not None:
        if not _SNOWFLAKE.fullmatch(ping_role_id):
            raise ValueError(f"ping role id must be a numeric Discord id, got {ping_role_id!r}")
        payload["content"] = f"<@&{ping_role_id}>"
        payload["allowed_mentions"] = {"parse": [], "roles": [ping_role_id]}
    if files:
        payload["attachments"] = described(files)
    return payload


def check_username(username: str) -> str:
    """Discord's rules for a webhook's display name: 1-80 characters, no discord/clyde."""
    if not 1 <= len(username) <= _USERNAME_MAX:
        raise ValueError(f"webhook username must be 1-80 characters, got {len(username)}")
    lowered = username.lower()
    for word in _FORBIDDEN_IN_USERNAME:
        if word in lowered:
            raise ValueError(f"webhook username must not contain {word!r}: {username!r}")
    return username
