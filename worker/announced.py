"""Maintenance windows announced by `maintenance_scheduled` events.

The dispatcher records each one as it routes it (it sees every event, before the streams
are trimmed), in one hash the monitor reads; so an announcement is never missed because
nobody was reading the stream when it passed.
"""

from typing import Final

import msgspec

from schemas.maintenance import MaintenanceScheduled

KIND: Final = MaintenanceScheduled.kind()


class Announced(msgspec.Struct, frozen=True):
    """A window covering the checks named `service`, or on a server of that name."""

    service: str
    start: float
    end: float
    description: str


def announced(event: MaintenanceScheduled) -> Announced:
    start = event.starts_at.timestamp()
    return Announced(
        event.service, start, start + event.duration.total_seconds(), event.description
    )


ENCODER: Final = msgspec.json.Encoder()
DECODER: Final = msgspec.json.Decoder(Announced)


def encoded(event: object) -> bytes:
    """The record the dispatcher stores for a `maintenance_scheduled` event."""
    assert isinstance(event, MaintenanceScheduled)
    return ENCODER.encode(announced(event))
