"""The request body: explicit allowed_mentions always, a role ping only when configured."""

from typing import Any

import pytest

from tests.discord_schema import assert_valid_payload
from tests.factories import sample_envelope, sample_events
from worker.render import build_payload, render_embed


def embeds(count: int) -> list[dict[str, Any]]:
    rendered = [render_embed(sample_envelope(event)) for event in sample_events()]
    return (rendered * 2)[:count]


def test_default_payload_parses_no_mentions() -> None:
    payload = build_payload(embeds(1))
    assert payload["allowed_mentions"] == {"parse": []}
    assert payload["username"] == "Herald"
    assert "content" not in payload
    assert_valid_payload(payload)


def test_role_ping_is_the_only_mention_allowed() -> None:
    payload = build_payload(embeds(1), ping_role_id="123456789012345678")
    assert payload["content"] == "<@&123456789012345678>"
    assert payload["allowed_mentions"] == {"parse": [], "roles": ["123456789012345678"]}
    assert_valid_payload(payload)


def test_role_ping_alone_is_a_valid_message() -> None:
    assert_valid_payload(build_payload([], ping_role_id="42"))


def test_username_can_be_left_to_the_webhook() -> None:
    assert "username" not in build_payload(embeds(1), username=None)


@pytest.mark.parametrize("role", ["", "0", "12a", "<@&1>", "1\n", "1" * 21, "-5", "١٢"])
def test_bad_role_id_is_refused(role: str) -> None:
    with pytest.raises(ValueError, match="role id"):
        build_payload(embeds(1), ping_role_id=role)


@pytest.mark.parametrize("name", ["", "x" * 81, "My Discord Bot", "clyde"])
def test_bad_username_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="username"):
        build_payload(embeds(1), username=name)


def test_ten_embeds_fit_eleven_do_not() -> None:
    assert_valid_payload(build_payload(embeds(10)))
    with pytest.raises(ValueError, match="10"):
        build_payload(embeds(11))


def test_empty_message_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one embed"):
        build_payload([])


def test_over_6000_characters_is_refused() -> None:
    big = {"title": "t", "description": "d" * 4000}
    assert_valid_payload(build_payload([big, {"title": "x", "description": "d" * 1998}]))
    with pytest.raises(ValueError, match="6000"):
        build_payload([big, {"title": "x", "description": "d" * 1999}])
