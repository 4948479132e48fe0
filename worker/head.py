"""The head of a channel's outbox, decoded and rendered: what one request can carry.

A flush job reads the first items of the outbox, decodes and renders them, and turns
those that cannot be delivered (bytes that are not an event, a renderer bug) into
reasons, so one bad item never wedges the channel.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ground.errors import InvalidEvent
from schemas.attachments import Attachment
from schemas.codec import decode
from schemas.envelope import Envelope
from worker import dlq
from worker.batch import pack
from worker.discord import Outcome
from worker.files import assemble, weight
from worker.limits import Embed
from worker.outbox import OutboxItem, unpack
from worker.render import Folded, render_embed

log = logging.getLogger("herald.flush")

Reasons = dict[int, str]
"""Outbox index -> why that item cannot be delivered."""


@dataclass
class Head:
    """The first `len(items)` items of an outbox, by index."""

    items: list[bytes]
    envelopes: dict[int, Envelope] = field(default_factory=dict)
    embeds: dict[int, Embed] = field(default_factory=dict)
    undeliverable: Reasons = field(default_factory=dict)
    has_files: bool = False
    """Some event here carries attachments (else requests are plain JSON, as always)."""

    @classmethod
    def read(cls, items: list[bytes], *, render: bool = True) -> "Head":
        """Decode every item and (with `render`) render it as an embed."""
        head = cls(items)
        for i, packed in enumerate(items):
            item = unpack(packed)
            try:
                envelope = decode(item.raw)
            except InvalidEvent as exc:
                head.undeliverable[i] = str(exc)
                continue
            head.envelopes[i] = envelope
            if envelope.attachments:
                head.has_files = True
            if not render:
                continue
            try:
                head.embeds[i] = render_embed(envelope, folded=_folded(item))
            except Exception as exc:  # a renderer bug must not wedge the channel
                log.exception("cannot render event %s", envelope.id)
                head.undeliverable[i] = f"cannot render: {type(exc).__name__}: {exc}"
                del head.envelopes[i]
        return head

    def first_message(self, order: list[int]) -> int:
        """How many of the rendered events `order` the first message can carry."""
        embeds = [self.embeds[i] for i in order]
        if not self.has_files:
            return len(pack(embeds)[0])
        return len(pack(embeds, [weight(self.envelopes[i].attachments) for i in order])[0])

    def request(self, sent: list[int], pop: int, undeliverable: Reasons) -> "Request":
        """The request carrying events `sent`, their files named uniquely in one message."""
        embeds = [self.embeds[i] for i in sent]
        if not self.has_files:
            return Request(self, sent, pop, embeds, undeliverable)
        embeds, files = assemble(embeds, [self.envelopes[i].attachments for i in sent])
        return Request(self, sent, pop, embeds, undeliverable, files=files)

    def event_ids(self, indices: list[int]) -> list[str]:
        return [self.envelopes[i].id for i in indices]

    def oldest_queued_ms(self, indices: list[int], default: int) -> int:
        queued = (unpack(self.items[i]).queued_ms for i in indices)
        return min((ms for ms in queued if ms), default=default)

    def dead_letters(
        self, reasons: Reasons, channel: str, outcome: Outcome | None = None, attempts: int = 0
    ) -> list[dlq.DeadLetter]:
        """The DLQ records for the items `reasons` names, with what Discord said."""
        letters = []
        for i, reason in sorted(reasons.items()):
            item = unpack(self.items[i])
            letters.append(
                dlq.dead_letter(
                    item.raw,
                    reason,
                    channel=channel,
                    http_status=outcome.status if outcome else None,
                    discord_code=outcome.error_code if outcome else None,
                    discord_message=outcome.error_message if outcome else None,
                    attempts=attempts,
                    replays=item.replays,
                )
            )
        return letters


@dataclass
class Request:
    """One webhook request: which outbox items it carries and what settling it pops."""

    head: Head
    sent: list[int]
    """Outbox indices of the events in this request, in order."""
    pop: int
    """Items consumed from the outbox when it settles (undeliverable ones in between too)."""
    embeds: list[Embed]
    undeliverable: Reasons
    """Items among the popped ones that go to the DLQ instead."""
    digest: bool = False
    files: list[Attachment] = field(default_factory=list)
    """The message's files (`files[n]`), named as its embeds refer to them."""

    @property
    def event_ids(self) -> list[str]:
        return self.head.event_ids(self.sent)

    @property
    def popped(self) -> list[bytes]:
        """The outbox items settling this request consumes."""
        return self.head.items[: self.pop]


def _folded(item: OutboxItem) -> Folded | None:
    if item.folded < 1:
        return None
    return Folded(item.folded, datetime.fromtimestamp(item.folded_since_ms / 1000, UTC))
