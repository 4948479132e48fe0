"""The sandbox's sample messages are what Herald's renderer produces today."""

import json

from ground.channels import CHANNELS
from herald.samples import OUTPUT, SAMPLES, T0, render_samples, sample_event_id
from sandbox.demo import FAMILIES, MESSAGES_FILE
from schemas import event_id_millis, is_event_id
from tests.discord_schema import assert_valid_payload

REGENERATE = "run `python -m herald.samples` and commit sandbox/samples/messages.json"


def test_the_committed_samples_match_a_fresh_rendering() -> None:
    committed = json.loads(OUTPUT.read_text(encoding="utf-8"))
    assert committed == render_samples(), f"the samples differ from the renderer: {REGENERATE}"


def test_the_sandbox_reads_the_file_herald_writes() -> None:
    assert MESSAGES_FILE == OUTPUT
    assert list(FAMILIES) == [family for family, _, _ in SAMPLES]


def test_every_sample_is_a_message_discord_accepts_in_a_herald_channel() -> None:
    for family, (channel, payload) in FAMILIES.items():
        assert channel in CHANNELS, family
        assert_valid_payload(payload)


def test_sample_event_ids_are_valid_uuid7_for_their_moment() -> None:
    event_id = sample_event_id(T0, 7)
    assert is_event_id(event_id)
    assert event_id_millis(event_id) == int(T0.timestamp() * 1000)
