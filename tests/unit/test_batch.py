"""pack(): as few messages as Discord accepts, in order, never over 10 embeds / 6000 chars."""

from typing import Any

from tests.discord_schema import assert_valid_payload
from tests.factories import sample_envelope, sample_events
from worker.limits import embed_size
from worker.render import build_payload, pack, render_embed


def sized(size: int, tag: int = 0) -> dict[str, Any]:
    """An embed of exactly `size` counted characters, labelled `tag`."""
    if size < 5:
        return {"title": "t" * size}
    title = f"{tag:05d}"
    rest = size - len(title)
    described = min(rest, 4000)
    if rest - described == 1:
        described -= 1
    embed: dict[str, Any] = {"title": title}
    if described:
        embed["description"] = "d" * described
    rest -= described
    fields = []
    while rest:
        value = min(rest - 1, 1000)
        fields.append({"name": "f", "value": "v" * value})
        rest -= value + 1
    if fields:
        embed["fields"] = fields
    assert embed_size(embed) == size
    return embed


def check(messages: list[list[dict[str, Any]]], original: list[dict[str, Any]]) -> None:
    assert [embed for message in messages for embed in message] == original, "order kept"
    for message in messages:
        assert 1 <= len(message) <= 10
        assert sum(embed_size(embed) for embed in message) <= 6000
        assert_valid_payload(build_payload(message))


def test_nothing_packs_to_nothing() -> None:
    assert pack([]) == []


def test_rendered_samples_pack_into_few_messages() -> None:
    embeds = [render_embed(sample_envelope(event)) for event in sample_events()]
    messages = pack(embeds)
    check(messages, embeds)
    assert [len(message) for message in messages] == [10, 10, 3]


def test_ten_embeds_per_message_at_most() -> None:
    embeds = [sized(10, i) for i in range(95)]
    messages = pack(embeds)
    check(messages, embeds)
    assert [len(message) for message in messages] == [10] * 9 + [5]


def test_6000_characters_per_message_exactly_fits() -> None:
    embeds = [sized(3000, 0), sized(3000, 1), sized(1, 2)]
    messages = pack(embeds)
    check(messages, embeds)
    assert [len(message) for message in messages] == [2, 1]


def test_one_character_over_starts_a_new_message() -> None:
    embeds = [sized(3000, 0), sized(3001, 1)]
    assert [len(message) for message in pack(embeds)] == [1, 1]


def test_huge_embeds_one_per_message() -> None:
    embeds = [sized(6000, i) for i in range(7)]
    messages = pack(embeds)
    check(messages, embeds)
    assert len(messages) == 7


def test_greedy_in_order_never_reorders_to_fill_gaps() -> None:
    embeds = [sized(4000, 0), sized(4000, 1), sized(100, 2)]
    assert [len(message) for message in pack(embeds)] == [1, 2]


def test_oversized_caller_embed_is_fitted_not_sent_broken() -> None:
    embeds = [
        {
            "title": "a",
            "description": "d" * 4096,
            "fields": [{"name": "n", "value": "v" * 1024}] * 3,
        }
    ]
    messages = pack(embeds)
    assert len(messages) == 1
    assert embed_size(messages[0][0]) <= 6000
    assert_valid_payload(build_payload(messages[0]))


def test_many_mixed_embeds() -> None:
    embeds = [sized(1 + (i * 7919) % 6000, i) for i in range(2000)]
    check(pack(embeds), embeds)
