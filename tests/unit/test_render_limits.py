"""Discord's limits at and just past every boundary, truncation, and markdown escaping."""

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from schemas import BuildFailure, MaintenanceScheduled, ServiceDown
from tests.discord_schema import assert_no_mentions, assert_valid_payload
from tests.factories import CREATED_AT, sample, sample_envelope
from worker import limits
from worker.limits import embed_size, fit_embed, truncate
from worker.markdown import ZWSP, escape, neutralise
from worker.render import build_payload, render_embed

# slot -> (limit, embed with that slot set to `text`)
SLOTS = {
    "title": limits.TITLE,
    "description": limits.DESCRIPTION,
    "field name": limits.FIELD_NAME,
    "field value": limits.FIELD_VALUE,
    "footer": limits.FOOTER_TEXT,
    "author": limits.AUTHOR_NAME,
}


def embed_with(slot: str, text: str) -> dict[str, Any]:
    if slot == "title":
        return {"title": text}
    if slot == "description":
        return {"description": text}
    if slot == "field name":
        return {"fields": [{"name": text, "value": "v"}]}
    if slot == "field value":
        return {"fields": [{"name": "n", "value": text}]}
    if slot == "footer":
        return {"title": "t", "footer": {"text": text}}
    return {"title": "t", "author": {"name": text}}


def slot_text(slot: str, embed: dict[str, Any]) -> str:
    if slot in ("title", "description"):
        return str(embed[slot])
    if slot == "field name":
        return str(embed["fields"][0]["name"])
    if slot == "field value":
        return str(embed["fields"][0]["value"])
    if slot == "footer":
        return str(embed["footer"]["text"])
    return str(embed["author"]["name"])


def test_limits_are_discords() -> None:
    assert SLOTS == {
        "title": 256,
        "description": 4096,
        "field name": 256,
        "field value": 1024,
        "footer": 2048,
        "author": 256,
    }
    assert (limits.FIELDS, limits.EMBEDS, limits.CONTENT, limits.TOTAL) == (25, 10, 2000, 6000)


@pytest.mark.parametrize("slot", SLOTS)
def test_text_exactly_at_the_limit_is_kept(slot: str) -> None:
    text = "x" * SLOTS[slot]
    fitted = fit_embed(embed_with(slot, text))
    assert slot_text(slot, fitted) == text
    assert_valid_payload(build_payload([fitted]))


@pytest.mark.parametrize("slot", SLOTS)
def test_text_one_over_the_limit_ends_in_an_ellipsis_at_the_limit(slot: str) -> None:
    fitted = fit_embed(embed_with(slot, "x" * (SLOTS[slot] + 1)))
    text = slot_text(slot, fitted)
    assert len(text) == SLOTS[slot]
    assert text == "x" * (SLOTS[slot] - 1) + "…"
    assert_valid_payload(build_payload([fitted]))


@pytest.mark.parametrize("slot", SLOTS)
def test_astral_characters_count_as_one(slot: str) -> None:
    fitted = fit_embed(embed_with(slot, "🚀" * (SLOTS[slot] + 5)))
    assert len(slot_text(slot, fitted)) == SLOTS[slot]


def test_truncate_is_exact_and_idempotent() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 3) == "ab…"
    assert truncate("abcd", 1) == "…"
    assert truncate(truncate("x" * 5000, 1024), 1024) == truncate("x" * 5000, 1024)
    with pytest.raises(ValueError, match="limit"):
        truncate("abc", 0)


def test_truncate_never_splits_an_escape_pair() -> None:
    text = escape("a" * 1022 + "*" * 10)  # the cut falls inside `\*`
    cut = truncate(text, 1024)
    assert cut == "a" * 1022 + "…"
    assert len(cut) == 1023  # one short of the limit rather than a dangling backslash
    even = truncate(escape("a" * 1021 + "*" * 10), 1024)
    assert even == "a" * 1021 + "\\*" + "…"
    assert len(even) == 1024


def test_truncate_never_separates_a_neutralised_at() -> None:
    text = escape("a" * 1022 + "@everyone")
    cut = truncate(text, 1024)
    assert cut == "a" * 1022 + "…"
    assert_no_mentions(cut)


def test_escape_before_truncate_keeps_field_within_limit() -> None:
    error = "*" * 1000  # escapes to 2000 characters
    embed = render_embed(
        sample_envelope(msgspec.structs.replace(sample("build_failure"), error=error))
    )
    value = next(f["value"] for f in embed["fields"] if f["name"] == "Error")
    assert len(value) in (1023, 1024)
    assert value.endswith("\\*…")
    assert_valid_payload(build_payload([embed]))


def test_blank_values_become_a_dash() -> None:
    fitted = fit_embed({"fields": [{"name": "  ", "value": ""}, {"name": "n", "value": "\n\t"}]})
    assert [(f["name"], f["value"]) for f in fitted["fields"]] == [("—", "—"), ("n", "—")]
    assert "description" not in fit_embed({"title": "t", "description": "  "})


def test_more_than_25_fields_are_cut_to_25() -> None:
    fitted = fit_embed({"fields": [{"name": str(i), "value": "v"} for i in range(30)]})
    assert len(fitted["fields"]) == 25
    assert fitted["fields"][-1]["name"] == "24"


def test_total_is_shrunk_to_6000_keeping_short_values_whole() -> None:
    embed = {
        "title": "t" * 256,
        "description": "d" * 4096,
        "fields": [{"name": f"Price {i}", "value": "$0.523456"} for i in range(20)]
        + [{"name": "n" * 256, "value": "v" * 1024} for _ in range(5)],
        "footer": {"text": "f" * 2048},
        "author": {"name": "a" * 256},
    }
    fitted = fit_embed(embed)
    assert embed_size(fitted) <= 6000
    assert embed_size(fitted) > 5900, "shrinks no more than needed"
    assert fitted["footer"]["text"] == "f" * 2048, "the footer (event id) is never shared out"
    assert fitted["title"] == "t" * 256
    assert [f["value"] for f in fitted["fields"][:20]] == ["$0.523456"] * 20
    assert_valid_payload(build_payload([fitted]))


def test_embed_size_counts_discords_fields_only() -> None:
    embed = {
        "title": "ab",
        "description": "cde",
        "fields": [{"name": "f", "value": "gh", "inline": True}],
        "footer": {"text": "ijkl", "icon_url": "https://x"},
        "author": {"name": "m", "url": "https://y"},
        "color": 123456,
        "timestamp": "2026-01-01T00:00:00+00:00",
        "url": "https://z",
    }
    assert embed_size(embed) == 2 + 3 + 1 + 2 + 4 + 1
    assert embed_size({}) == 0


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("**bold**", r"\*\*bold\*\*"),
        ("__under__ _it_ ~~strike~~", r"\_\_under\_\_ \_it\_ \~\~strike\~\~"),
        ("||spoiler||", r"\|\|spoiler\|\|"),
        ("```py\nprint(1)\n```", "\\`\\`\\`py\nprint\\(1\\)\n\\`\\`\\`"),
        ("`code`", r"\`code\`"),
        ("[click](https://evil)", r"\[click\]\(https://evil\)"),
        ("# heading", r"\# heading"),
        ("-# subtext", r"\-# subtext"),
        ("> quote\n>>> block", "\\> quote\n\\>>> block"),
        ("- item\n  * star\n1. first", "\\- item\n  \\* star\n1\\. first"),
        ("trade-server #3 a>b 10.5", "trade-server #3 a>b 10.5"),
        ("back\\slash", "back\\\\slash"),
        (
            "<@&123> <@456> <@!789> <#1> <t:1:R> <:e:1>",
            r"\<@&123> \<@456> \<@!789> \<#1> \<t:1:R> \<:e:1>",
        ),
        ("@everyone @here @Everyone", f"@{ZWSP}everyone @{ZWSP}here @{ZWSP}Everyone"),
        ("alice@example.com", "alice@example.com"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped
    assert_no_mentions(escaped)


def test_neutralise_breaks_mentions_without_backslashes() -> None:
    text = neutralise("@everyone <@&123> <#9> a\\b *x*")
    assert text == f"@{ZWSP}everyone <{ZWSP}@&123> <{ZWSP}#9> a\\b *x*"
    assert_no_mentions(text)


@pytest.mark.parametrize(
    "text",
    [
        "@everyone",
        "@here",
        "<@&123456789012345678>",
        "<@123>",
        "||spoiler||",
        "```\nx\n```",
        "**bold**",
    ],
)
def test_hostile_text_renders_literally_everywhere(text: str) -> None:
    events = [
        ServiceDown(service=text, server=text, duration=timedelta(0), impact=text),
        BuildFailure(repository=text, commit="abcd", error=text, branch=text),
        MaintenanceScheduled(
            service=text,
            starts_at=CREATED_AT,
            duration=timedelta(0),
            description=text,
            impact=text,
        ),
    ]
    for event in events:
        embed = render_embed(sample_envelope(event, source=text))
        assert_valid_payload(build_payload([embed], ping_role_id="42"))
        rendered = [embed["title"], embed.get("description", "")]
        ours = {"Commit", "Starts"}  # our own inline code and <t:…> markup
        rendered += [f["value"] for f in embed["fields"] if f["name"] not in ours]
        for value in rendered:
            assert_markdown_inert(value)


def assert_markdown_inert(text: str) -> None:
    """Every `*`, `_`, `~`, `|`, backtick and `<` is escaped by an odd run of backslashes."""
    for index, char in enumerate(text):
        if char in "*_~|`<":
            before = text[:index]
            assert (len(before) - len(before.rstrip("\\"))) % 2 == 1, (char, text)


def test_urls_cannot_break_out_of_their_link() -> None:
    event = msgspec.structs.replace(
        sample("build_failure"), logs="https://ci.example/a)[x](https://evil) <@&1> @everyone"
    )
    embed = render_embed(sample_envelope(event))
    logs = next(f["value"] for f in embed["fields"] if f["name"] == "Logs")
    assert logs == (
        "[View logs](https://ci.example/a%29%5Bx%5D%28https://evil%29%20%3C%40&1%3E%20%40everyone)"
    )
    assert_valid_payload(build_payload([embed]))


def test_many_artifacts_end_with_a_count_of_the_rest() -> None:
    urls = tuple(f"https://ci.example.com/artifacts/{i:04d}-" + "x" * 60 for i in range(500))
    event = msgspec.structs.replace(sample("build_success"), artifacts=urls)
    embed = render_embed(sample_envelope(event))
    value = next(f["value"] for f in embed["fields"] if f["name"] == "Artifacts")
    assert len(value) <= 1024
    assert value.splitlines()[-1].startswith("+")
    assert value.splitlines()[-1].endswith(" more")
    shown = len(value.splitlines()) - 1
    assert value.splitlines()[-1] == f"+{500 - shown} more"


def test_bidi_override_in_source_cannot_reverse_the_footer_id() -> None:
    envelope = sample_envelope(sample("service_down"), source="ci\u202e\u2067x")
    footer = render_embed(envelope)["footer"]["text"]
    assert "\u202e" not in footer
    assert "\u2067" not in footer
    assert footer.startswith("herald · cix · ")
