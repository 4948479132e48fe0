"""Accounting from the ledger: a reader that polls keeps what the dispatcher trims away."""

import fakeredis
import pytest

from ground import keyspace
from schemas.codec import encode
from schemas.ids import new_event_id
from tests.factories import sample, sample_envelope
from worker import dlq
from worker.dlq import DeadLetterQueue
from worker.ledger import LedgerReader, account


@pytest.fixture
def client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


def settle(client: fakeredis.FakeRedis, event_id: str, outcome: str) -> None:
    client.xadd(keyspace.LEDGER, {"e": event_id, "o": outcome, "t": 1})


def test_a_polling_reader_accounts_for_entries_trimmed_since(
    client: fakeredis.FakeRedis,
) -> None:
    early, late = new_event_id(), new_event_id()
    reader = LedgerReader(client, [early, late])
    settle(client, early, "delivered")
    assert reader.poll() == 1
    client.xtrim(keyspace.LEDGER, maxlen=0)  # the dispatcher's retention trim
    settle(client, late, "digested")

    assert account(client, [early, late]).missing([early, late]) == [early]
    reader.poll()
    assert reader.finish().outcomes == {early: "delivered", late: "digested"}


def test_a_reader_without_ids_keeps_every_event_and_reads_each_entry_once(
    client: fakeredis.FakeRedis,
) -> None:
    ids = [new_event_id() for _ in range(25_000)]  # more than one XRANGE page
    for event_id in ids:
        settle(client, event_id, "delivered")
    reader = LedgerReader(client)
    assert reader.poll() == 25_000
    settle(client, ids[0], "delivered")  # sent twice: Discord saw it twice
    assert reader.poll() == 1
    acc = reader.finish()
    assert acc.counts(ids)["delivered"] == 25_000
    assert dict(acc.repeats) == {ids[0]: 1}


def test_dead_letters_come_from_the_dlq_and_garbage_is_skipped(
    client: fakeredis.FakeRedis,
) -> None:
    event = sample_envelope(sample("service_down"), event_id=new_event_id())
    DeadLetterQueue(client).add(
        [
            dlq.dead_letter(encode(event), "http 404: Unknown Webhook"),
            dlq.dead_letter(b"\xff not an event", "does not decode"),
        ]
    )

    acc = LedgerReader(client).finish()
    assert acc.outcomes == {event.id: "dead_lettered"}
    assert acc.reasons[event.id].startswith("http 404")
