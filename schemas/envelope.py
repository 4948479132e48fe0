"""The envelope: what every event carries besides its own fields.

Keeping metadata out of the kinds keeps each kind a pure domain record, and lets the
producer fill id, time and source once instead of every call site.
"""

from datetime import UTC, datetime
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from schemas.base import Lane, Severity
from schemas.catalog import AnyEvent
from schemas.ids import EVENT_ID_PATTERN, new_event_id
from schemas.types import Name, UtcDatetime

SCHEMA_VERSION: Final = 1

EventId = Annotated[str, Meta(pattern=EVENT_ID_PATTERN)]
DedupKey = Annotated[str, Meta(min_length=1, max_length=200)]


class Envelope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: EventId
    """UUIDv7: unique, sorts by creation time; printed in every Discord footer."""
    created_at: UtcDatetime
    source: Name
    """The component that published it: `trade-server`, `ci`, `health-monitor`."""
    severity: Severity
    event: AnyEvent
    dedup_key: DedupKey | None = None
    """Overrides the dispatcher's per-kind dedupe key when set."""
    v: Literal[1] = SCHEMA_VERSION

    @property
    def kind(self) -> str:
        return self.event.kind()

    @property
    def lane(self) -> Lane:
        return self.event.lane(self.severity)


def wrap(
    event: AnyEvent,
    *,
    source: str,
    severity: Severity | None = None,
    dedup_key: str | None = None,
    now_ns: int,
    event_id: str | None = None,
) -> Envelope:
    """Give an event its id and metadata; `now_ns` is `time.time_ns()` at publish."""
    return Envelope(
        id=event_id or new_event_id(now_ns),
        created_at=datetime.fromtimestamp(now_ns / 1e9, UTC),
        source=source,
        severity=severity or event.default_severity,
        event=event,
        dedup_key=dedup_key,
    )
