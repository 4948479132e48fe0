"""Check a payload the way Discord would: its published schema plus the rules it can't say.

The schema is `IncomingWebhookRequestPartial` extracted from Discord's OpenAPI spec
(`sandbox/spec/`). The rest is written here from Discord's documentation and takes
nothing from the engine (a check that used the engine's own counting would agree with
any bug in it): the per-embed limits, the 6000-character total, a non-empty message,
valid timestamps, and our own rule (explicit `allowed_mentions` that parses nothing).
"""

import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA = Path(__file__).resolve().parents[1] / "sandbox/spec/incoming_webhook_request.schema.json"

# Discord's "Embed Limits" and Execute Webhook, in characters. Discord counts Unicode code
# points (its API is Python: `len(str)`), as its staff answered in discord-api-docs#1315.
CONTENT_MAX = 2000
EMBEDS_MAX = 10
TOTAL_MAX = 6000
"""Title, description, field names and values, footer text and author name, summed over
every embed of the message."""
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_TEXT_MAX = 2048
AUTHOR_NAME_MAX = 256

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
    assert len(embeds) <= EMBEDS_MAX, f"{len(embeds)} embeds in one message"
    assert len(payload.get("content") or "") <= CONTENT_MAX, "content too long"
    total = sum(counted_characters(embed) for embed in embeds)
    assert total <= TOTAL_MAX, f"embeds total {total} characters"
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
    _assert_within_limits(embed)
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


def _assert_within_limits(embed: dict[str, Any]) -> None:
    for name, text, limit in (
        ("title", embed.get("title") or "", TITLE_MAX),
        ("description", embed.get("description") or "", DESCRIPTION_MAX),
        ("footer text", (embed.get("footer") or {}).get("text") or "", FOOTER_TEXT_MAX),
        ("author name", (embed.get("author") or {}).get("name") or "", AUTHOR_NAME_MAX),
    ):
        assert len(text) <= limit, f"{name} is {len(text)} characters, over {limit}"
    fields = embed.get("fields") or ()
    assert len(fields) <= FIELDS_MAX, f"{len(fields)} fields in one embed"
    for field in fields:
        assert len(field["name"]) <= FIELD_NAME_MAX, f"field name over {FIELD_NAME_MAX}"
        assert len(field["value"]) <= FIELD_VALUE_MAX, f"field value over {FIELD_VALUE_MAX}"


def counted_characters(embed: dict[str, Any]) -> int:
    """What one embed adds to the message's 6000: the code points of its title, description,
    field names and values, footer text and author name (not URLs, colour or timestamp)."""
    return sum(len(text) for text in texts(embed))


def texts(embed: dict[str, Any]) -> list[str]:
    """The text of an embed people read: the strings that count toward the 6000 total."""
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
