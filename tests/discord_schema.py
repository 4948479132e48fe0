"""Check a payload the way Discord would: its published schema plus the rules it can't say.

The schema is `IncomingWebhookRequestPartial` extracted from Discord's OpenAPI spec
(`sandbox/spec/`); the 6000-character total, a non-empty message, valid timestamps
and our own rule (explicit `allowed_mentions` that parses nothing) are checked here.
"""

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from worker.render import embed_size

SCHEMA = Path(__file__).resolve().parents[1] / "sandbox/spec/incoming_webhook_request.schema.json"

_ROLE_CONTENT = re.compile(r"<@&[1-9][0-9]{0,19}>")
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>", re.ASCII)
_BROADCAST = re.compile(r"@(?:everyone|here)", re.IGNORECASE)


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_valid_payload(payload: dict[str, Any]) -> None:
    """Fail with every reason Discord would answer 400 (or ping someone it shouldn't)."""
    errors = [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for error in validator().iter_errors(payload)
    ]
    assert not errors, errors
    embeds = payload.get("embeds") or []
    assert embeds or payload.get("content"), "empty message"
    assert len(embeds) <= 10
    total = sum(embed_size(embed) for embed in embeds)
    assert total <= 6000, f"embeds total {total} characters"
    mentions = payload.get("allowed_mentions")
    assert mentions is not None, "allowed_mentions must be explicit"
    assert mentions.get("parse") == [], mentions
    content = payload.get("content")
    if content is not None:
        assert _ROLE_CONTENT.fullmatch(content), f"unexpected content {content!r}"
        assert mentions.get("roles") == [content[3:-1]]
    for embed in embeds:
        _assert_valid_embed(embed)


def _assert_valid_embed(embed: dict[str, Any]) -> None:
    if "timestamp" in embed:
        stamp = datetime.fromisoformat(embed["timestamp"].replace("Z", "+00:00"))
        assert stamp.tzinfo is not None, embed["timestamp"]
    assert embed.get("title") or embed.get("description") or embed.get("fields")
    if "description" in embed:
        assert embed["description"].strip(), "blank description"
    for field in embed.get("fields") or ():
        assert field["name"].strip(), f"blank field name in {field}"
        assert field["value"].strip(), f"blank field value in {field}"
    for text in texts(embed):
        assert_no_mentions(text)


def texts(embed: dict[str, Any]) -> list[str]:
    """Every string of an embed Discord renders."""
    found = [embed.get("title") or "", embed.get("description") or ""]
    for field in embed.get("fields") or ():
        found += [field["name"], field["value"]]
    found.append((embed.get("footer") or {}).get("text") or "")
    found.append((embed.get("author") or {}).get("name") or "")
    return found


def assert_no_mentions(text: str) -> None:
    """No `@everyone`/`@here`, and no `<@…>`, `<@&…>`, `<#…>` that a backslash doesn't escape."""
    assert not _BROADCAST.search(text), f"live broadcast mention in {text!r}"
    for match in _MENTION.finditer(text):
        backslashes = len(text[: match.start()]) - len(text[: match.start()].rstrip("\\"))
        assert backslashes % 2 == 1, f"live mention {match.group()!r} in {text!r}"
