"""The compiled fast check must agree with jsonschema on Discord's schema, and errors nest right."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.demo import FAMILIES, batched
from sandbox.fastcheck import SchemaCompiler
from sandbox.validation import (
    FormError,
    Rejection,
    fast_check,
    form_body,
    reference_validator,
    validate_message,
)

TRICKY: list[Any] = [
    {},
    [],
    None,
    "text",
    {"content": None},
    {"content": 5},
    {"tts": 1},
    {"flags": True},
    {"flags": 4.0},
    {"flags": 4.5},
    {"embeds": [{"color": True}]},
    {"embeds": [{"color": 1.0}]},
    {"embeds": [{"color": 16777215.0}]},
    {"embeds": [{"fields": [{"name": "a"}]}]},
    {"embeds": [{"fields": [{"name": "a", "value": "b", "inline": "yes"}]}]},
    {"embeds": [{"footer": None, "author": None, "image": {"url": "https://x.test/i.png"}}]},
    {"embeds": [{"url": "ftp://x"}]},
    {"embeds": [{"timestamp": "2026-11-28T04:20:00Z"}]},
    {"embeds": [{"timestamp": "not a time"}]},
    {"allowed_mentions": {"parse": ["users", "users"]}},
    {"allowed_mentions": {"parse": ["roles"], "roles": ["1", "01"]}},
    {"allowed_mentions": {"parse": [None]}},
    {"allowed_mentions": None},
    {"unknown_key": {"anything": 1}},
    {
        "components": [
            {
                "type": 1,
                "components": [{"type": 2, "style": 5, "url": "https://x.test", "label": "Open"}],
            }
        ]
    },
    {"components": [{"type": 1, "components": []}]},
    {"poll": {"question": {"text": "q"}, "answers": [{"poll_media": {"text": "a"}}]}},
    {"applied_tags": ["1", "x"]},
    {"username": ""},
    {"thread_name": "t" * 101},
]


def agree(body: Any) -> None:
    expected = reference_validator().is_valid(body)
    assert fast_check()(body) is expected, json.dumps(body)[:300]


@pytest.mark.parametrize("body", TRICKY, ids=range(len(TRICKY)))
def test_fast_check_agrees_with_jsonschema_on_tricky_bodies(body: Any) -> None:
    agree(body)


def test_fast_check_agrees_on_every_family_and_a_batch() -> None:
    for _, payload in FAMILIES.values():
        agree(payload)
    agree(batched(*(p for _, p in FAMILIES.values())))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 2**25)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
PATHS = [
    ("content",),
    ("username",),
    ("tts",),
    ("flags",),
    ("allowed_mentions",),
    ("allowed_mentions", "parse"),
    ("embeds",),
    ("embeds", 0),
    ("embeds", 0, "title"),
    ("embeds", 0, "color"),
    ("embeds", 0, "fields"),
    ("embeds", 0, "fields", 0),
    ("embeds", 0, "fields", 0, "value"),
    ("embeds", 0, "fields", 0, "inline"),
    ("embeds", 0, "footer"),
    ("embeds", 0, "footer", "text"),
    ("embeds", 0, "author"),
    ("embeds", 0, "timestamp"),
    ("components",),
    ("poll",),
    ("attachments",),
]


def _set(body: Any, path: tuple[str | int, ...], value: Any) -> Any:
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family=st.sampled_from(sorted(FAMILIES)), path=st.sampled_from(PATHS), value=json_values)
def test_fast_check_agrees_with_jsonschema_on_mutated_payloads(
    family: str, path: tuple[str | int, ...], value: Any
) -> None:
    body = json.loads(json.dumps(FAMILIES[family][1]))
    try:
        _set(body, path, value)
    except (KeyError, IndexError, TypeError):
        return
    agree(body)


def test_the_compiler_refuses_keywords_it_does_not_know() -> None:
    with pytest.raises(NotImplementedError, match="patternProperties"):
        SchemaCompiler({"patternProperties": {"x": {}}}, {}).compile()


def test_form_body_nests_errors_by_path() -> None:
    body = form_body(
        [FormError(("embeds", 3, "fields", 0, "value"), "C", "m"), FormError((), "R", "root")]
    )
    assert body["errors"] == {
        "embeds": {"3": {"fields": {"0": {"value": {"_errors": [{"code": "C", "message": "m"}]}}}}},
        "_errors": [{"code": "R", "message": "root"}],
    }


def test_validate_message_returns_the_body_or_raises_rejection() -> None:
    assert validate_message(b'{"content": "hi"}') == {"content": "hi"}
    with pytest.raises(Rejection) as caught:
        validate_message(b'{"embeds": [{"title": 5}]}')
    assert (
        caught.value.body["errors"]["embeds"]["0"]["title"]["_errors"][0]["code"]
        == "STRING_TYPE_CONVERT"
    )


def test_discords_schema_encodes_each_documented_limit() -> None:
    """Which limits come from Discord's schema; the rest are enforced in `validation._rules`."""
    defs = reference_validator().schema["$defs"]
    body, embed = (
        defs["IncomingWebhookRequestPartial"]["properties"],
        defs["RichEmbed"]["properties"],
    )
    field, footer, author = (
        defs[n]["properties"] for n in ("RichEmbedField", "RichEmbedFooter", "RichEmbedAuthor")
    )
    assert body["content"]["maxLength"] == 2000
    assert body["embeds"]["maxItems"] == 10
    assert (body["username"]["minLength"], body["username"]["maxLength"]) == (1, 80)
    assert embed["title"]["maxLength"] == 256
    assert embed["description"]["maxLength"] == 4096
    assert embed["fields"]["maxItems"] == 25
    assert (embed["color"]["minimum"], embed["color"]["maximum"]) == (0, 16777215)
    assert (field["name"]["maxLength"], field["value"]["maxLength"]) == (256, 1024)
    assert footer["text"]["maxLength"] == 2048
    assert author["name"]["maxLength"] == 256
    # Not in the schema, so enforced in code (and tested at the boundary in the contract tests):
    assert "minLength" not in field["name"]
    assert "minLength" not in field["value"]
    assert "not" not in body["username"]  # no "discord"/"clyde" rule; no 6000 total anywhere
